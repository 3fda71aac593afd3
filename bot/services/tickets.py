"""Repair tickets as use cases: submit a report, change a status, add a comment.

`change_ticket_status` is the one way a status moves — from the owner's chat, the staff console
or the CLI — so every move is checked against the lifecycle, recorded as an event and, when
someone other than the owner made it, pushed to the owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.roster import Home
from bot.domain.rules import CompanyRules
from bot.domain.tickets import (
    Actor,
    ActorKind,
    NewTicket,
    Ticket,
    TicketError,
    TicketStatus,
    can_comment,
    check_transition,
)
from bot.i18n import Texts
from bot.services.notify import notify_owners
from bot.services.surveys import on_ticket_moved
from bot.storage.uow import UnitOfWork


@dataclass(frozen=True)
class RepairReport:
    """What the owner told the bot."""

    category: str
    description: str
    location: str
    contact_time: str
    photos: tuple[str, ...]


async def submit_repair(
    uow: UnitOfWork,
    company: CompanyRules,
    report: RepairReport,
    home: Home,
    account_id: int,
    owner_id: int,
    now: datetime,
    tz: ZoneInfo,
) -> Ticket:
    """Decide warranty, urgency, deadlines and the repeat flag, and store the ticket."""
    rules, local = company.repair, now.astimezone(tz)
    urgency = rules.urgency(report.category, report.description)
    deadlines = rules.deadlines_for(report.category, urgency, local, company.service_hours)
    resolved = await uow.tickets.count_resolved(
        home.unit_id, report.category, now - rules.repeat_window
    )
    new = NewTicket(
        unit_id=home.unit_id,
        owner_id=owner_id,
        account_id=account_id,
        category=report.category,
        description=report.description,
        location=report.location,
        contact_time=report.contact_time,
        photos=report.photos,
        urgency=urgency,
        warranty=rules.warranty(
            report.category, home.handover_date, local.date(), project=home.project
        ),
        is_repeat=rules.is_repeat(resolved),
        respond_by=deadlines.respond_by,
        visit_by=deadlines.visit_by,
        resolve_by=deadlines.resolve_by,
        local_day=local.date(),
    )
    return await uow.tickets.add(new, Actor(ActorKind.OWNER, str(owner_id)), now)


async def change_ticket_status(
    uow: UnitOfWork,
    ticket_id: int,
    new_status: TicketStatus,
    actor: Actor,
    now: datetime,
    texts: Texts,
    note: str = "",
    photos: tuple[str, ...] = (),
    *,
    survey_delay: timedelta,
    tell_owner: bool = True,
) -> Ticket:
    """Validate, record the event (with photos, e.g. after the repair) and queue the owner's
    notification (not with `tell_owner=False`: the caller tells the owner itself, in one
    message, e.g. a low survey score that reopens the ticket); the caller commits.
    Completing schedules the satisfaction survey `survey_delay` later (SURVEY_DELAY); the
    owner's confirmation brings it forward.

    Raises `IllegalTransition` for a move the lifecycle forbids, `TicketError("not_found")`
    and `TicketError("changed_meanwhile")` when someone else moved it first."""
    ticket = await uow.tickets.get(ticket_id)
    if ticket is None:
        raise TicketError("not_found")
    check_transition(ticket.status, new_status, actor)
    event_id = await uow.tickets.move(
        ticket.id, ticket.status, new_status, actor, now, note, photos
    )
    if event_id is None:
        raise TicketError("changed_meanwhile")
    if tell_owner and actor.kind is not ActorKind.OWNER:
        await _notify_status(uow, texts, ticket, new_status, event_id, now, note)
    await on_ticket_moved(uow, ticket, new_status, now, now + survey_delay)
    moved = await uow.tickets.get(ticket.id)
    assert moved is not None
    return moved


async def _notify_status(
    uow: UnitOfWork,
    texts: Texts,
    ticket: Ticket,
    status: TicketStatus,
    event_id: int,
    now: datetime,
    note: str,
) -> None:
    """A completed repair asks the owner right away whether it is fixed (domain §8, step 5)."""
    if status is TicketStatus.COMPLETED:
        key = "tickets.notice_completed"
        buttons = [
            ("tickets.button_fixed", f"tickets:fixed:{ticket.id}"),
            ("tickets.button_not_fixed", f"tickets:notfixed:{ticket.id}"),
        ]
    else:
        key = "tickets.notice_status"
        buttons = [("tickets.button_show", f"tickets:show:{ticket.id}")]
    await notify_owners(
        uow,
        texts,
        [ticket.owner_id],
        key,
        purpose="ticket_update",
        idempotency_key=f"ticket:{ticket.id}:{event_id}",
        now=now,
        values={"number": ticket.number, "note": note},
        localized={"status": f"tickets.status_{status.value}"},
        buttons=buttons,
    )


async def add_ticket_comment(
    uow: UnitOfWork,
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    note: str,
    photos: tuple[str, ...] = (),
) -> None:
    if not can_comment(ticket.status):
        raise TicketError("closed_for_comments")
    await uow.tickets.add_comment(ticket.id, actor, now, note, photos)
