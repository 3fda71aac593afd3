"""Repair tickets: the list (status filter, soonest deadline first) and one ticket with its
warranty decision, repeat flag, photos and timeline (the owner's "fixed / not fixed" included),
and the staff moves offered in its status — accept, reject (reason), dispatch (assignee,
appointment), start, complete (note, after-photos), close — through services/staff_tickets.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from bot.domain.tickets import TRANSITIONS, TicketStatus
from bot.engine.ports import MediaError
from bot.services import staff_tickets
from bot.staff.console.web import Console, redirect, text_field

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
S = TicketStatus
#: The moves staff make (the owner's own — cancel, confirm, reopen — are not offered here).
STAFF_MOVES = (S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS, S.COMPLETED, S.CLOSED, S.REJECTED)
MAX_PHOTOS = 9


def router(console: Console) -> APIRouter:
    routes = APIRouter(prefix="/console")
    services = console.services

    @routes.get("/tickets")
    async def tickets(request: Request, status: TicketStatus | None = None) -> Response:
        page = await console.page(request)
        found = await console.read(lambda uow: staff_tickets.list_tickets(uow, status))
        return page.render(
            "tickets.html",
            tickets=found,
            status=status.value if status else "",
            statuses=list(TicketStatus),
            now=console.now(),
        )

    @routes.get("/tickets/{ticket_id}")
    async def ticket(request: Request, ticket_id: Id) -> Response:
        page = await console.page(request)
        detail = await console.read(lambda uow: staff_tickets.ticket_detail(uow, ticket_id))
        if detail is None:
            return page.render("not_found.html", 404)
        moves = [m for m in STAFF_MOVES if m in TRANSITIONS[detail.ticket.status]]
        return page.render(
            "ticket.html",
            ticket=detail.ticket,
            events=detail.events,
            moves=moves,
            now=console.now(),
        )

    @routes.post("/tickets/{ticket_id}/move")
    async def move(request: Request, ticket_id: Id) -> Response:
        _, user, form = await console.form(request)
        back = f"/console/tickets/{ticket_id}"
        try:
            status = TicketStatus(text_field(form, "status", 40))
            appointment = _appointment(form, console)
            photos = await _photos(form, console)
        except ValueError:
            return redirect(back, error="bad_date")
        except MediaError as exc:
            return redirect(back, error=f"photo_{exc.reason}")
        ticket_move = staff_tickets.TicketMove(
            status,
            text_field(form, "note"),
            text_field(form, "assignee", 200) or None,
            appointment,
            photos,
        )
        return await console.act(
            back,
            lambda uow: staff_tickets.move_ticket(
                uow,
                services.texts,
                ticket_id,
                ticket_move,
                user,
                console.now(),
                services.settings.tz,
                survey_delay=services.settings.survey_delay,
            ),
        )

    return routes


def _appointment(form: FormData, console: Console) -> datetime | None:
    """A `datetime-local` field, read in the company's time zone; ValueError if malformed."""
    raw = text_field(form, "appointment_at", 40)
    if not raw:
        return None
    return datetime.fromisoformat(raw).replace(tzinfo=console.services.settings.tz)


async def _photos(form: FormData, console: Console) -> tuple[str, ...]:
    stored = [await console.photo(upload) for upload in form.getlist("photos")[:MAX_PHOTOS]]
    return tuple(path for path in stored if path)
