"""The Telegram webhook endpoint, served by our own FastAPI app.

Telegram forgets an update once we answer 2xx, so the update is recorded in the inbox before
the answer; with the database down we answer 503 and Telegram delivers it again later.
Hostile or broken requests are routine: one log line and a 4xx, never a traceback.
"""

from __future__ import annotations

import hmac
import json
import logging

from fastapi import APIRouter, Request, Response
from telegram import Bot, Update

from bot.channels.telegram.intake import Accept
from bot.engine.ports import EngineUnavailable

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Updates are a few KB; anything far larger is not from Telegram.
MAX_BODY_BYTES = 1_000_000


def webhook_router(bot: Bot, secret: str, accept: Accept) -> APIRouter:
    router = APIRouter()
    expected = secret.encode()

    @router.post(WEBHOOK_PATH, include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning("telegram webhook: wrong secret token from %s", _peer(request))
            return Response(status_code=403)
        body = await _read_body(request)
        if body is None:
            log.warning(
                "telegram webhook: body over %d bytes from %s", MAX_BODY_BYTES, _peer(request)
            )
            return Response(status_code=413)
        update = _parse(body, bot)
        if update is None:
            log.warning("telegram webhook: malformed update from %s", _peer(request))
            return Response(status_code=400)
        try:
            await accept(update)
        except EngineUnavailable:
            log.warning(
                "telegram webhook: database unavailable, update %s refused", update.update_id
            )
            return Response(status_code=503)
        return Response(status_code=200)

    return router


async def _read_body(request: Request) -> bytes | None:
    """The body, or None when it exceeds the limit (checked on the header and while reading)."""
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


def _parse(body: bytes, bot: Bot) -> Update | None:
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return None
        return Update.de_json(data, bot)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None  # RecursionError: JSON nested thousands deep, which Telegram never sends


def _peer(request: Request) -> str:
    return request.client.host if request.client else "?"
