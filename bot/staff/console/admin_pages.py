"""Roster import (admins: it writes owner data) — the CRM's CSV is checked first and every
problem shown with its line; a valid file is run as a dry run showing what would change, and
only the confirmation imports it — and the FAQ's unanswered questions, most asked first."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from bot.domain.staff import StaffRole
from bot.faq.misses import group_misses
from bot.services.roster import import_roster, owner_cards, parse_roster
from bot.staff.console.web import Console, text_field

#: The largest roster file the console takes (a CRM export of a few thousand homes is far
#: smaller). DEFAULT (not in source).
MAX_ROSTER_BYTES = 5 * 1024 * 1024
#: The owners page lists at most this many (a filter narrows it).
MAX_OWNERS = 2000
#: The FAQ misses page shows this many distinct questions.
MAX_MISS_GROUPS = 200


def router(console: Console) -> APIRouter:
    routes = APIRouter(prefix="/console")
    services = console.services

    @routes.get("/roster")
    async def roster_form(request: Request) -> Response:
        page = await console.page(request, StaffRole.ADMIN)
        return page.render("roster.html", report=None)

    @routes.post("/roster")
    async def roster(request: Request) -> Response:
        """`file` uploaded: check it and dry-run it. `data` (the checked file, sent back with
        the confirmation) and `confirm`: import it for real."""
        page, _, form = await console.form(request, StaffRole.ADMIN)
        upload = form.get("file")
        if isinstance(upload, UploadFile):
            data = await upload.read(MAX_ROSTER_BYTES + 1)
        else:
            try:
                data = base64.b64decode(
                    text_field(form, "data", MAX_ROSTER_BYTES * 2), validate=True
                )
            except (binascii.Error, ValueError):
                data = b""
        if not data or len(data) > MAX_ROSTER_BYTES:
            page.error = page.t("error_roster_file")
            return page.render("roster.html", 422, report=None)
        parsed = parse_roster(data)
        confirm = form.get("confirm") == "1" and not parsed.errors
        counts = None
        if not parsed.errors:
            counts = await import_roster(
                console.uow, parsed.rows, console.now(), dry_run=not confirm
            )
        return page.render(
            "roster.html",
            422 if parsed.errors else 200,
            report=parsed,
            counts=counts,
            imported=confirm,
            data=base64.b64encode(data).decode(),
        )

    @routes.get("/owners")
    async def owners(request: Request, q: Annotated[str, Query(max_length=50)] = "") -> Response:
        """The roster as staff may see it: phone and ID masked; `q` filters by name or home."""
        page = await console.page(request)
        cards = await console.read(lambda uow: owner_cards(uow, None, MAX_OWNERS))
        wanted = q.strip()
        if wanted:
            cards = [c for c in cards if wanted in c.name or any(wanted in h for h in c.homes)]
        return page.render("owners.html", owners=cards, q=wanted)

    @routes.get("/faq-misses")
    async def faq_misses(request: Request) -> Response:
        page = await console.page(request)
        misses = services.faq_misses.read()
        groups = group_misses(misses, services.faq.normalise)[:MAX_MISS_GROUPS]
        return page.render("faq_misses.html", groups=groups, total=len(misses))

    return routes
