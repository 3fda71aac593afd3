"""`GET /m/{id}?t=…`: the whole text of a push, for owners who open it from a WeChat template
message (or any link we send). Only a valid, unexpired signature opens a page."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from bot.domain.signing import sign, verify
from bot.engine.types import Reply
from bot.i18n import Texts
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

#: How long a link in a push keeps working. DEFAULT (not in source).
LINK_VALID_FOR = timedelta(days=30)
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
#: A web address in a message (e.g. the survey page's link): made tappable on its page.
URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str) -> Markup:
    """The text, escaped, with each web address as a link."""
    parts, last = [], 0
    for match in URL.finditer(text):
        parts.append(escape(text[last : match.start()]))
        parts.append(Markup('<a href="{0}">{0}</a>').format(match.group()))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


TEMPLATES.filters["linkify"] = linkify


def subject(message_id: int) -> str:
    return f"outbox:{message_id}"


def message_link(base_url: str, secret: str, clock: Callable[[], datetime]) -> Callable[[int], str]:
    """The signed URL of a pushed message's page, valid for LINK_VALID_FOR from sending."""

    def link(message_id: int) -> str:
        token = sign(secret, subject(message_id), clock() + LINK_VALID_FOR)
        return f"{base_url.rstrip('/')}/m/{message_id}?t={token}"

    return link


def router(
    uow_factory: Callable[[], UnitOfWork],
    texts: Texts,
    secret: str,
    clock: Callable[[], datetime],
    default_language: str,
    tz: ZoneInfo,
) -> APIRouter:
    routes = APIRouter()

    @routes.get("/m/{message_id}", response_class=HTMLResponse)
    async def message_page(message_id: int, t: str = "") -> HTMLResponse:
        if not verify(secret, subject(message_id), t, clock()):
            log.info("message page %s: invalid or expired link", message_id)
            return not_found(texts, default_language)
        async with uow_factory() as uow:
            page = await uow.outbox.page(message_id)
        if page is None:
            return not_found(texts, default_language)
        lang = page.language
        html = TEMPLATES.get_template("message.html").render(
            lang=lang,
            title=texts.get("pages.title", lang),
            replies=[Reply.from_dict(r) for r in page.replies],
            sent_label=texts.get("pages.sent_at", lang),
            sent_at=page.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            reply_hint=texts.get("pages.reply_hint", lang),
            contact=texts.get("pages.contact", lang),
        )
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    return routes


def not_found(texts: Texts, lang: str) -> HTMLResponse:
    """One answer for wrong, expired and unknown links: nothing to tell them apart by."""
    html = TEMPLATES.get_template("gone.html").render(
        lang=lang,
        title=texts.get("pages.title", lang),
        message=texts.get("pages.link_invalid", lang),
        contact=texts.get("pages.contact", lang),
    )
    return HTMLResponse(html, status_code=404)
