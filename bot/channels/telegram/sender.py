"""Delivering replies to Telegram within its limits, and translating its errors once.

Delivery semantics, chosen deliberately:
- 429: wait `retry_after`, take a pacing slot again and resend once; a second 429 becomes
  `DeliveryError(retry_after=...)` for the outbox, which resends the rest later (the error
  says which replies went out already, so none is sent twice).
- 403 (blocked, deactivated) and "chat not found": `DeliveryError(permanent=True)`.
- A request that surely never reached Telegram (connection refused, connect or pool timeout,
  an error status from the server) is retried with backoff: nothing can be duplicated.
- A request that may have reached Telegram (read/write timeout, connection dropped while
  waiting for the answer) is resent too: at least once, the engine's promise (issue 19: no
  reply lost, at most the message in flight duplicated). It used to be dropped (at most once),
  and a request lost on its way — a timeout Telegram never acted on — lost the owner's answer
  for good; a rare duplicate of one message is the smaller harm.
- Retries used up: `DeliveryError`, and the outbox resends the replies not yet delivered later.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from telegram import Bot
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from bot.channels.telegram.mapping import (
    CHANNEL,
    ContactTexts,
    Outgoing,
    PressedButton,
    render,
)
from bot.channels.telegram.pacing import Pacer, Sleep
from bot.channels.telegram.request import UNSENT_ERRORS
from bot.engine.ports import Delivered, DeliveryError
from bot.engine.types import Reply
from bot.i18n import Texts
from bot.metrics import THROTTLED

log = logging.getLogger(__name__)

NETWORK_ATTEMPTS = 3
NETWORK_BACKOFF = 0.5
#: Sends on the wire at once: Telegram's 30 a second up to a round trip of about 0.5 s (a bot
#: hosted far from Telegram's data centres). More would only queue at the pacer; with httpx
#: (before `AiohttpRequest`) each connection in flight also made every request dearer.
CONCURRENT_SENDS = 16


class TelegramSender:
    def __init__(self, bot: Bot, pacer: Pacer, media_dir: Path, texts: Texts, sleep: Sleep) -> None:
        self._bot = bot
        self._pacer = pacer
        self._media_dir = media_dir.resolve()
        self._texts = texts
        self._sleep = sleep
        #: Telegram's file_id of photos uploaded once, so a menu picture is not uploaded again.
        self._photo_ids: dict[Path, str] = {}
        self._wire = asyncio.Semaphore(CONCURRENT_SENDS)

    async def send(self, user_id: str, replies: Sequence[Reply], lang: str) -> list[str]:
        """Deliver replies in order and return the message ids; raises DeliveryError at the
        first message that fails, saying how many replies went out whole before it."""
        chat_id = int(user_id)
        contact_texts = self._contact_texts(lang)
        message_ids: list[str] = []
        for done, reply in enumerate(replies):
            for message in render(reply, self._photo(reply), contact_texts):
                try:
                    sent = await self._deliver(chat_id, message)
                except DeliveryError as exc:
                    raise DeliveryError(
                        exc.reason,
                        permanent=exc.permanent,
                        retry_after=exc.retry_after,
                        delivered=Delivered(done, message_ids),
                    ) from exc
                message_ids.append(sent)
        return message_ids

    async def acknowledge_press(self, press: PressedButton) -> None:
        """Stop the button's spinner and remove the keyboard, so it cannot be pressed twice.

        Both are courtesies: failing (a query older than Telegram keeps) is logged, not raised.
        """
        try:
            await self._bot.answer_callback_query(press.callback_id)
        except TelegramError as exc:
            log.info("answerCallbackQuery failed: %s", exc)
        try:
            await self._bot.edit_message_reply_markup(
                press.chat_id, press.message_id, reply_markup=None
            )
        except TelegramError as exc:
            log.info("removing a pressed keyboard failed: %s", exc)

    async def _deliver(self, chat_id: int, message: Outgoing) -> str:
        """The message id Telegram gave."""
        try:
            return await self._post_once_more_after_flood(chat_id, message)
        except Forbidden as exc:
            raise DeliveryError(f"forbidden: {exc.message}", permanent=True) from exc
        except RetryAfter as exc:
            THROTTLED.labels(CHANNEL).inc()
            raise DeliveryError("flood control", retry_after=retry_after_seconds(exc)) from exc
        except BadRequest as exc:
            gone = "chat not found" in exc.message.lower()
            raise DeliveryError(f"bad request: {exc.message}", permanent=gone) from exc
        except TelegramError as exc:
            raise DeliveryError(f"telegram: {exc.message}") from exc

    async def _post_once_more_after_flood(self, chat_id: int, message: Outgoing) -> str:
        try:
            async with self._pacer.turn(chat_id):
                return await self._post_with_network_retries(chat_id, message)
        except RetryAfter as exc:
            THROTTLED.labels(CHANNEL).inc()
            wait = retry_after_seconds(exc)
            log.warning("429 for chat %s: waiting %.1f s, then resending once", chat_id, wait)
            await self._sleep(wait)
            async with self._pacer.turn(chat_id):
                return await self._post_with_network_retries(chat_id, message)

    async def _post_with_network_retries(self, chat_id: int, message: Outgoing) -> str:
        for attempt in range(NETWORK_ATTEMPTS - 1):
            try:
                return await self._post(chat_id, message)
            except BadRequest:
                raise
            except NetworkError as exc:
                if surely_unsent(exc):
                    log.info("chat %s: %s; retrying", chat_id, exc)
                else:
                    log.warning(
                        "chat %s: %s; may have been delivered, resending (a duplicate at most)",
                        chat_id,
                        exc,
                    )
                await self._sleep(NETWORK_BACKOFF * 2**attempt)
        return await self._post(chat_id, message)

    async def _post(self, chat_id: int, message: Outgoing) -> str:
        async with self._wire:
            if message.photo is None:
                return await self._post_text(chat_id, message)
            return await self._post_photo(chat_id, message.photo, message)

    async def _post_text(self, chat_id: int, message: Outgoing) -> str:
        """`Bot.send_message` without parsing the answer into a `Message` (with every object
        nested in it): only its id is kept, and the parsing cost about a tenth of the CPU of
        an update. `Bot._post` is the path every PTB method takes (same parameters, errors
        and timeouts); PTB's version is pinned."""
        data = {"chat_id": chat_id, "text": message.text, "reply_markup": message.markup}
        sent = await self._bot._post("sendMessage", data)
        return str(sent["message_id"])

    async def _post_photo(self, chat_id: int, path: Path, message: Outgoing) -> str:
        known_id = self._photo_ids.get(path)
        photo: str | bytes = (
            known_id if known_id is not None else await asyncio.to_thread(path.read_bytes)
        )
        sent = await self._bot.send_photo(
            chat_id, photo, caption=message.text or None, reply_markup=message.markup
        )
        if sent.photo:
            self._photo_ids[path] = sent.photo[-1].file_id
        return str(sent.message_id)

    def _photo(self, reply: Reply) -> Path | None:
        """The reply's picture under MEDIA_DIR; a missing one is logged and its text still sent."""
        if reply.photo_path is None:
            return None
        path = (self._media_dir / reply.photo_path).resolve()
        if not path.is_relative_to(self._media_dir) or not path.is_file():
            log.error(
                "reply photo %r not found under MEDIA_DIR; sending the text only", reply.photo_path
            )
            return None
        return path

    def _contact_texts(self, lang: str) -> ContactTexts:
        return ContactTexts(
            button=self._texts.get("telegram.contact_button", lang),
            prompt=self._texts.get("telegram.contact_prompt", lang),
        )


def surely_unsent(exc: NetworkError) -> bool:
    """True when Telegram cannot have acted on the request: it never left this machine, or the
    server answered with an error status (PTB raises those without a network error as cause)."""
    cause = exc.__cause__
    if cause is None:
        return not isinstance(exc, TimedOut)
    return isinstance(cause, UNSENT_ERRORS)


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB warns that the int form is deprecated; both forms are handled here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
