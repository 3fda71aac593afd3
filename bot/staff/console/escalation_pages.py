"""The inbox of escalations (waiting / active / closed, live) and one conversation with its
actions: claim, reply (text and photo), internal note, transfer (supervisors), close. Every
action is a use case of bot/services/escalations.py, as in the REST API."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from bot.domain.complaints import (
    Escalation,
    EscalationListing,
    EscalationMessage,
    EscalationStatus,
)
from bot.domain.staff import StaffRole, StaffUser
from bot.engine.ports import MediaError
from bot.i18n import Texts
from bot.services import escalations
from bot.services.roster import owner_cards
from bot.services.staff import list_staff
from bot.staff.console.web import TEMPLATES, Console, Page, redirect, text_field
from bot.storage.uow import UnitOfWork

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
#: What MediaStore.save_image names a file: nothing else under MEDIA_DIR is ever served.
MEDIA_NAME = re.compile(r"[0-9a-f]{2}/[0-9a-f]{64}\.(jpg|png|webp|gif|bmp)")
#: An escalation action that needs nothing but who pressed the button (claim, close).
PlainAction = Callable[[UnitOfWork, Texts, int, StaffUser, datetime], Awaitable[object]]
MEDIA_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "bmp": "image/bmp",
}


def router(console: Console) -> APIRouter:
    routes = APIRouter(prefix="/console")
    texts = console.services.texts

    async def inbox_rows(page: Page, status: EscalationStatus) -> str:
        async def load(uow: UnitOfWork) -> tuple[list[EscalationListing], dict[int, str]]:
            found = await escalations.list_escalations(uow, status)
            return found, await phones(uow, [item.escalation for item in found])

        found, owner_phones = await console.read(load)
        template = TEMPLATES.get_template("inbox_rows.html")
        return template.render(
            page=page, t=page.t, rows=found, phones=owner_phones, now=console.now()
        )

    @routes.get("/inbox")
    async def inbox(
        request: Request, status: EscalationStatus = EscalationStatus.WAITING
    ) -> Response:
        page = await console.page(request)
        rows = await inbox_rows(page, status)
        return page.render(
            "inbox.html", status=status.value, statuses=list(EscalationStatus), rows=rows
        )

    @routes.get("/inbox.json")
    async def inbox_json(
        request: Request, status: EscalationStatus = EscalationStatus.WAITING
    ) -> JSONResponse:
        """What the inbox polls every few seconds: its rows as they are now."""
        page = await console.page(request)
        return JSONResponse({"rows": await inbox_rows(page, status)})

    @routes.get("/escalations/{escalation_id}")
    async def conversation(request: Request, escalation_id: Id) -> Response:
        page = await console.page(request)

        async def load(
            uow: UnitOfWork,
        ) -> tuple[escalations.EscalationDetail | None, list[str], dict[int, str]]:
            detail = await escalations.escalation_detail(uow, escalation_id)
            staff = await list_staff(uow, active_only=True)
            shown = [detail.listing.escalation] if detail else []
            return detail, [user.username for user in staff], await phones(uow, shown)

        detail, colleagues, owner_phones = await console.read(load)
        if detail is None:
            return page.render("not_found.html", 404)
        last = detail.messages[-1].id if detail.messages else 0
        messages = _messages_html(page, detail.messages)
        return page.render(
            "escalation.html",
            item=detail.listing,
            messages=messages,
            last=last,
            colleagues=colleagues,
            phone=owner_phones.get(detail.listing.escalation.owner_id or 0, ""),
            now=console.now(),
        )

    @routes.get("/escalations/{escalation_id}/messages.json")
    async def newer_messages(
        request: Request, escalation_id: Id, after: Annotated[int, Query(ge=0, le=2**31)] = 0
    ) -> JSONResponse:
        """What an open conversation polls: the lines added since `after`, and the status."""
        page = await console.page(request)
        detail = await console.read(
            lambda uow: escalations.escalation_detail(uow, escalation_id, after)
        )
        if detail is None:
            return JSONResponse({"detail": "not_found"}, 404)
        last = detail.messages[-1].id if detail.messages else after
        html = _messages_html(page, detail.messages)
        status = detail.listing.escalation.status.value
        return JSONResponse({"html": html, "last": last, "status": status})

    def back(escalation_id: int) -> str:
        return f"/console/escalations/{escalation_id}"

    def plain(name: str, action: PlainAction) -> None:
        """Claim and close: nothing but the press of a button."""

        async def route(request: Request, escalation_id: Id) -> Response:
            _, user, _ = await console.form(request)
            return await console.act(
                back(escalation_id),
                lambda uow: action(uow, texts, escalation_id, user, console.now()),
            )

        routes.add_api_route(
            f"/escalations/{{escalation_id}}/{name}",
            route,
            methods=["POST"],
            name=f"console_{name}",
        )

    plain("claim", escalations.claim)
    plain("close", escalations.close)

    @routes.post("/escalations/{escalation_id}/reply")
    async def reply(request: Request, escalation_id: Id) -> Response:
        _, user, form = await console.form(request)
        text = text_field(form, "text")
        try:
            photo = await console.photo(form.get("photo"))
        except MediaError as exc:  # not an image, too large: nothing is stored or sent
            return redirect(back(escalation_id), error=f"photo_{exc.reason}")
        return await console.act(
            back(escalation_id),
            lambda uow: escalations.reply(
                uow, texts, escalation_id, user, text, console.now(), photo
            ),
        )

    @routes.post("/escalations/{escalation_id}/note")
    async def note(request: Request, escalation_id: Id) -> Response:
        _, user, form = await console.form(request)
        text = text_field(form, "text")
        return await console.act(
            back(escalation_id),
            lambda uow: escalations.add_note(uow, escalation_id, user, text, console.now()),
        )

    @routes.post("/escalations/{escalation_id}/transfer")
    async def transfer(request: Request, escalation_id: Id) -> Response:
        _, user, form = await console.form(request, StaffRole.SUPERVISOR)
        to = text_field(form, "to", 64)
        return await console.act(
            back(escalation_id),
            lambda uow: escalations.transfer(uow, texts, escalation_id, user, to, console.now()),
        )

    @routes.get("/media/{name:path}")
    async def media(request: Request, name: str) -> Response:
        """A photo of a conversation or ticket, to signed-in staff only; only names the media
        store makes are served, so no path can leave MEDIA_DIR."""
        await console.page(request)
        match = MEDIA_NAME.fullmatch(name)
        path = console.services.media.path_of(name)
        if match is None or not path.is_file():
            return Response(status_code=404)
        return FileResponse(path, media_type=MEDIA_TYPES[match.group(1)])

    return routes


async def phones(uow: UnitOfWork, items: list[Escalation]) -> dict[int, str]:
    """Owner id → masked phone, for the owners of these escalations."""
    ids = {e.owner_id for e in items if e.owner_id is not None}
    return {card.owner_id: card.phone for card in await owner_cards(uow, ids)} if ids else {}


def _messages_html(page: Page, messages: list[EscalationMessage]) -> str:
    template = TEMPLATES.get_template("messages.html")
    return template.render(page=page, t=page.t, messages=messages)
