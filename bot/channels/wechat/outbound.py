"""Sending to an owner outside a passive reply: 客服消息 within 48 hours of the owner's last
message, a template message linking to our web page beyond it.

WeChat's answers become `DeliveryError`s the outbox understands: unsubscribed is permanent, quota
and busy errors carry `retry_after`, an out-of-window or too-many-客服 error on a push falls back
to the template message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import httpx

from bot.channels.wechat.api import TooLarge, WeChatApi, WeChatApiError
from bot.channels.wechat.render import ImageOut, MenuOut, Outgoing, TextOut, as_text, render
from bot.channels.wechat.token import TokenUnavailable
from bot.config import ConfigError, read_yaml
from bot.engine.ports import DeliveryError, Push
from bot.engine.types import Reply
from bot.i18n import MissingText, Texts

#: 客服消息 are allowed this long after the owner's last message …
SERVICE_WINDOW = timedelta(hours=48)
#: … minus a margin, so a message sent at 47:59 does not arrive at 48:01.
WINDOW_MARGIN = timedelta(minutes=10)

UNSUBSCRIBED = 43004
OUT_OF_WINDOW = 45015
TOO_MANY_SERVICE_MESSAGES = 45047
#: The account may not send `msgmenu` (not verified): the options go as numbered text.
API_UNAUTHORIZED = 48001
#: Retrying cannot help: unfollowed, unknown openid, blocked us.
PERMANENT_ERRORS = frozenset({UNSUBSCRIBED, 40003, 43019})
#: Quota and load errors, with how long to wait: the daily quota resets at midnight, the
#: per-minute one within a minute, "system busy" at once.
RETRY_AFTER = {45009: 3600.0, 45011: 60.0, TOO_MANY_SERVICE_MESSAGES: 3600.0, -1: 10.0}
NETWORK_RETRY_AFTER = 30.0
#: Field lengths WeChat enforces on the new-style template keywords, by keyword prefix.
TEMPLATE_FIELD_LIMITS = {
    "thing": 20,
    "character_string": 32,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "phrase": 5,
    "short_thing": 5,
    "name": 10,
    "car_number": 8,
}
MAX_PHOTO_BYTES = 10 * 1024 * 1024

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Template:
    template_id: str
    #: WeChat field name → text with {summary}, {text}, {now}, {purpose} placeholders.
    fields: Mapping[str, str]


def load_templates(path: Path) -> dict[str, Template]:
    """`config/wechat_templates.yaml`: one template per push purpose, plus `default`."""
    raw = read_yaml(path) or {}
    entries = raw.get("templates", {}) if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        raise ConfigError(f"{path} must have a `templates` mapping")
    templates = {}
    for purpose, entry in entries.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("fields"), dict):
            raise ConfigError(f"{path}: template {purpose!r} needs template_id and fields")
        if entry.get("template_id"):
            fields = {str(k): str(v) for k, v in entry["fields"].items()}
            templates[str(purpose)] = Template(str(entry["template_id"]), fields)
    return templates


class Delivery:
    def __init__(
        self,
        api: WeChatApi,
        templates: Mapping[str, Template],
        texts: Texts,
        clock: Callable[[], datetime],
        media_path: Callable[[str], Path],
        timezone: tzinfo,
    ) -> None:
        self._api = api
        self._templates = templates
        self._texts = texts
        self._clock = clock
        self._media_path = media_path
        self._tz = timezone

    async def send(
        self, user_id: str, lang: str, replies: Sequence[Reply], push: Push | None
    ) -> list[str]:
        """Deliver in order, by 客服 within the window, else (or when WeChat says the window
        has closed) by template message; raise DeliveryError on failure. Returns the template
        message's msgid (客服 messages get none from WeChat)."""
        try:
            if push is not None and not self._in_window(push.last_inbound_at):
                return await self._template(user_id, lang, replies, push)
            try:
                await self.customer_service(
                    user_id, render(replies, self._texts, lang, menus=True), lang
                )
            except WeChatApiError as exc:
                if push is None or exc.errcode not in (OUT_OF_WINDOW, TOO_MANY_SERVICE_MESSAGES):
                    raise
                log.info("wechat 客服 refused (%s); sending a template message", exc.errcode)
                return await self._template(user_id, lang, replies, push)
            return []
        except WeChatApiError as exc:
            raise delivery_error(exc) from None
        except (httpx.HTTPError, TokenUnavailable) as exc:
            reason = f"wechat unreachable: {exc!r}"
            raise DeliveryError(reason, retry_after=NETWORK_RETRY_AFTER) from None
        except (OSError, TooLarge) as exc:
            raise DeliveryError(f"photo not sendable: {exc!r}") from None

    async def customer_service(self, user_id: str, items: Sequence[Outgoing], lang: str) -> None:
        for item in items:
            await self._send_item(user_id, item, lang)

    def _in_window(self, last_inbound_at: datetime | None) -> bool:
        if last_inbound_at is None:
            return False
        return self._clock() - last_inbound_at < SERVICE_WINDOW - WINDOW_MARGIN

    async def _send_item(self, user_id: str, item: Outgoing, lang: str) -> None:
        if isinstance(item, TextOut):
            await self._custom(user_id, "text", {"content": item.text})
        elif isinstance(item, MenuOut):
            await self._menu(user_id, item, lang)
        else:
            await self._custom(user_id, "image", {"media_id": await self._upload(item)})

    async def _menu(self, user_id: str, menu: MenuOut, lang: str) -> None:
        options = [{"id": str(n), "content": label} for n, label in enumerate(menu.options, 1)]
        body = {"head_content": menu.head, "list": options, "tail_content": menu.tail}
        try:
            await self._custom(user_id, "msgmenu", body)
        except WeChatApiError as exc:
            if exc.errcode != API_UNAUTHORIZED:
                raise
            await self._custom(user_id, "text", {"content": as_text(menu, self._texts, lang)})

    async def _custom(self, user_id: str, msgtype: str, body: dict[str, Any]) -> None:
        await self._api.post(
            "cgi-bin/message/custom/send", {"touser": user_id, "msgtype": msgtype, msgtype: body}
        )

    async def _upload(self, image: ImageOut) -> str:
        path = self._media_path(image.path)
        data = await asyncio.to_thread(path.read_bytes)
        if len(data) > MAX_PHOTO_BYTES:
            raise TooLarge(path.name)
        return await self._api.upload_image(path.name, data)

    async def _template(
        self, user_id: str, lang: str, replies: Sequence[Reply], push: Push
    ) -> list[str]:
        template = self._templates.get(push.purpose) or self._templates.get("default")
        if template is None:
            raise DeliveryError(f"no WeChat template configured for {push.purpose!r}")
        values = self._template_values(lang, replies, push.purpose)
        payload: dict[str, Any] = {
            "touser": user_id,
            "template_id": template.template_id,
            "data": {
                name: {"value": _clip(name, text.format_map(values))}
                for name, text in template.fields.items()
            },
        }
        if push.link_url:
            payload["url"] = push.link_url
        answer = await self._api.post("cgi-bin/message/template/send", payload)
        return [str(answer["msgid"])] if answer.get("msgid") is not None else []

    def _template_values(self, lang: str, replies: Sequence[Reply], purpose: str) -> dict[str, str]:
        text = "\n".join(reply.text for reply in replies if reply.text)
        return {
            "summary": text.strip().split("\n", 1)[0],
            "text": text,
            "now": self._clock().astimezone(self._tz).strftime("%Y-%m-%d %H:%M"),
            "purpose": self._purpose_label(purpose, lang),
        }

    def _purpose_label(self, purpose: str, lang: str) -> str:
        try:
            return self._texts.get(f"wechat.purpose_{purpose}", lang)
        except MissingText:
            return purpose


def _clip(field: str, value: str) -> str:
    """WeChat refuses a whole template message when one keyword is too long: shorten instead."""
    prefix = field.rstrip("0123456789")
    limit = TEMPLATE_FIELD_LIMITS.get(prefix)
    if limit is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "…"


def delivery_error(exc: WeChatApiError) -> DeliveryError:
    reason = f"wechat {exc.errcode}: {exc.errmsg}"
    if exc.errcode in PERMANENT_ERRORS:
        return DeliveryError(reason, permanent=True)
    return DeliveryError(reason, retry_after=RETRY_AFTER.get(exc.errcode))
