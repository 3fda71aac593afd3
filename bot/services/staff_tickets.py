"""Repair tickets from the staff side: the list, one ticket with its timeline, and the moves
staff make — accept, reject (with a reason), dispatch (assignee, appointment), start, complete
(after-photos and a note) and close. Each move goes through `change_ticket_status`, so the
lifecycle is checked, the event recorded and the owner told; this adds what only staff give
and the audit row. The owner's "fixed / not fixed" answers are events of the same timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.staff import StaffUser
from bot.domain.tickets import Actor, ActorKind, Ticket, TicketError, TicketEvent, TicketStatus
from bot.i18n import Texts
from bot.services.tickets import add_ticket_comment, change_ticket_status
from bot.storage.uow import UnitOfWork

MAX_NOTE = 1000
MAX_ASSIGNEE = 100


@dataclass(frozen=True)
class TicketDetail:
    ticket: Ticket
    #: Status changes and comments, oldest first, the owner's included.
    events: list[TicketEvent]


@dataclass(frozen=True)
class TicketMove:
    """What staff send with a status change; `assignee` is required to dispatch and `note`
    (the reason) to reject."""

    status: TicketStatus
    note: str = ""
    assignee: str | None = None
    appointment_at: datetime | None = None
    photos: tuple[str, ...] = ()


async def list_tickets(
    uow: UnitOfWork, status: TicketStatus | None = None, limit: int = 200
) -> list[Ticket]:
    """Soonest resolution deadline first."""
    return await uow.tickets.listing(status, limit)


async def ticket_detail(uow: UnitOfWork, ticket_id: int) -> TicketDetail | None:
    ticket = await uow.tickets.get(ticket_id)
    if ticket is None:
        return None
    return TicketDetail(ticket, await uow.tickets.events(ticket_id))


async def move_ticket(
    uow: UnitOfWork,
    texts: Texts,
    ticket_id: int,
    move: TicketMove,
    staff: StaffUser,
    now: datetime,
    tz: ZoneInfo,
    *,
    survey_delay: timedelta,
) -> Ticket:
    """Completing starts the owner's satisfaction survey `survey_delay` later.
    Raises `TicketError` ("reason_needed", "assignee_needed", "note_too_long",
    "not_found", "changed_meanwhile") or `IllegalTransition`; the caller commits."""
    note = move.note.strip()
    if len(note) > MAX_NOTE:
        raise TicketError("note_too_long")
    if move.status is TicketStatus.REJECTED and not note:
        raise TicketError("reason_needed")
    if move.status is TicketStatus.DISPATCHED:
        assignee = (move.assignee or "").strip()[:MAX_ASSIGNEE]
        if not assignee:
            raise TicketError("assignee_needed")
        note = _dispatch_note(note, assignee, move.appointment_at, tz)
    before = await uow.tickets.get(ticket_id)
    actor = Actor(ActorKind.STAFF, staff.username)
    moved = await change_ticket_status(
        uow, ticket_id, move.status, actor, now, texts, note, move.photos, survey_delay=survey_delay
    )
    if move.status is TicketStatus.DISPATCHED:
        await uow.tickets.set_dispatch(ticket_id, assignee, move.appointment_at)
        moved = await uow.tickets.get(ticket_id) or moved
    await uow.audit.record(
        actor=staff.actor,
        action="ticket_status",
        subject=f"ticket:{moved.number}",
        at=now,
        old=before.status.value if before else None,
        new=move.status.value,
        note=note,
    )
    return moved


async def add_photos(
    uow: UnitOfWork,
    ticket_id: int,
    staff: StaffUser,
    now: datetime,
    note: str,
    photos: tuple[str, ...],
) -> None:
    """Photos (the repair done, say) and a note on the ticket's timeline, for the record."""
    ticket = await uow.tickets.get(ticket_id)
    if ticket is None:
        raise TicketError("not_found")
    if len(note) > MAX_NOTE:
        raise TicketError("note_too_long")
    actor = Actor(ActorKind.STAFF, staff.username)
    await add_ticket_comment(uow, ticket, actor, now, note.strip(), photos)
    await uow.audit.record(
        actor=staff.actor,
        action="ticket_photos",
        subject=f"ticket:{ticket.number}",
        at=now,
        photos=len(photos),
    )


def _dispatch_note(note: str, assignee: str, appointment: datetime | None, tz: ZoneInfo) -> str:
    """The owner learns who comes and when; written without words, so it reads in any language."""
    parts = [f"👷 {assignee}"]
    if appointment is not None:
        parts.append(f"🕘 {appointment.astimezone(tz):%Y-%m-%d %H:%M}")
    if note:
        parts.append(note)
    return " · ".join(parts)
