"""The Telegram channel: PTB's `Bot` for the wire, our own intake, pacing and delivery.

Polling when only TELEGRAM_TOKEN is set, a webhook on our FastAPI app when
TELEGRAM_WEBHOOK_URL is set too. Either way each update is recorded in the inbox before
Telegram is told it arrived (see `intake`, `webhook`), handled in per-chat
order, and answered through `TelegramSender`, which keeps Telegram's rate limits.
Parts: `mapping` (shapes), `pacing` (limits), `sender` (delivery).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence

import httpx
from fastapi import APIRouter
from telegram import Bot, BotCommand, Update
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot import log_context
from bot.channels.telegram.intake import ALLOWED_UPDATES, ChatQueue, Poller
from bot.channels.telegram.mapping import CHANNEL, pressed_button, to_incoming
from bot.channels.telegram.pacing import (
    Pacer,
    SharedBuckets,
    Sleep,
    TelegramLimits,
    shared_buckets,
)
from bot.channels.telegram.request import AiohttpRequest
from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.staff_group import StaffGroup
from bot.channels.telegram.webhook import webhook_router
from bot.engine.ports import Answer, EnginePort, EngineUnavailable, MediaError, Push
from bot.engine.types import IncomingMessage, Reply
from bot.services.staff_group import StaffDesk
from bot.settings import Settings, SettingsError

log = logging.getLogger(__name__)

#: Telegram's own rule for secret_token.
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,256}")
COMMAND_PATTERN = re.compile(r"[a-z0-9_]{1,32}")
STOP_GRACE_SECONDS = 10.0
MAX_BACKOFF = 30.0
DOWNLOAD_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
#: Idle connections are closed by us before the server does (uvicorn: 5 s): a request sent on a
#: connection the server is closing at that moment fails after it left, so it cannot be resent
#: safely, and the message would be lost.
KEEPALIVE_SECONDS = 2.0
#: PTB's own default pool size.
CONNECTIONS = 256


class TelegramChannel:
    name = CHANNEL

    def __init__(
        self,
        settings: Settings,
        engine: EnginePort,
        *,
        limits: TelegramLimits | None = None,
        sleep: Sleep = asyncio.sleep,
        staff_desk: StaffDesk | None = None,
        max_photo_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        """`staff_desk`: the staff group's use cases, when STAFF_TELEGRAM_CHAT_ID is set."""
        if not settings.telegram_token:
            raise SettingsError("TELEGRAM_TOKEN is not set")
        self._settings = settings
        self._engine = engine
        self._secret = _webhook_secret(settings)
        self._sleep = sleep
        base = settings.telegram_api_base_url.rstrip("/")
        self._requests = (
            AiohttpRequest(connections=CONNECTIONS, keepalive_seconds=KEEPALIVE_SECONDS),
            AiohttpRequest(connections=1, keepalive_seconds=KEEPALIVE_SECONDS),
        )
        self.bot = Bot(
            settings.telegram_token,
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
            request=self._requests[0],
            get_updates_request=self._requests[1],
        )
        limits = limits or _limits(settings)
        self._shared: SharedBuckets | None = None
        if settings.redis_url:
            self._shared = shared_buckets(settings.redis_url, settings.telegram_token, limits)
        overall = self._shared.overall if self._shared else None
        per_chat = self._shared.per_chat if self._shared else None
        window = self._shared.window if self._shared else None
        pacer = Pacer(limits, sleep, overall=overall, per_chat=per_chat, window=window)
        texts = engine.texts
        self._sender = TelegramSender(self.bot, pacer, settings.media_dir, texts, sleep)
        self._queue = ChatQueue()
        self._downloads = httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT)
        self._task: asyncio.Task[None] | None = None
        self.staff_group: StaffGroup | None = None
        if staff_desk is not None and settings.staff_telegram_chat_id is not None:
            self.staff_group = StaffGroup(
                self.bot,
                settings.staff_telegram_chat_id,
                staff_desk,
                engine,
                self._queue,
                self.fetch_media,
                max_photo_bytes,
            )

    @property
    def webhook_mode(self) -> bool:
        return self._secret is not None

    # -- ChannelAdapter --------------------------------------------------------------------

    async def send(
        self, user_id: str, replies: Sequence[Reply], *, lang: str, push: Push | None = None
    ) -> list[str]:
        """`push` changes nothing here: Telegram has no reply window like WeChat's 48 hours."""
        return await self._sender.send(user_id, replies, lang)

    async def fetch_media(self, media_ref: str, max_bytes: int) -> bytes:
        """Download a photo, refusing it by its declared size first and again while reading."""
        try:
            file = await self.bot.get_file(media_ref)
        except TelegramError as exc:
            log.info("getFile failed: %s", exc)
            raise MediaError("unavailable") from exc
        if file.file_size is not None and file.file_size > max_bytes:
            raise MediaError("too_large")
        if not file.file_path:
            raise MediaError("unavailable")
        return await self._download(file.file_path, max_bytes)

    def routes(self) -> APIRouter | None:
        if self._secret is None:
            return None
        return webhook_router(self.bot, self._secret, self._accept)

    async def start(self) -> None:
        """Returns at once; set-up, catching up on the inbox and polling run in a task."""
        self._task = asyncio.create_task(self._run(), name="telegram")
        self._task.add_done_callback(_report_end)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._queue.drain(STOP_GRACE_SECONDS)
        await self._downloads.aclose()
        if self._shared is not None:
            await self._shared.close()
        await self.bot.shutdown()
        # Also when the bot never got initialized (Telegram unreachable at start): the requests
        # open their sessions on first use, and PTB shuts down only what it initialized.
        for request in self._requests:
            await request.shutdown()

    # -- receiving ---------------------------------------------------------------------------

    async def _run(self) -> None:
        await self._prepare()
        await self._catch_up()
        if self.staff_group is not None:
            await self.staff_group.catch_up()
        if not self.webhook_mode:
            await Poller(self.bot, self._accept_page, self._queue, self._sleep).run()

    async def _accept(self, update: Update) -> None:
        """One update (the webhook's): as a page of one."""
        await self._accept_page([update])

    async def _accept_page(self, updates: Sequence[Update]) -> None:
        """Record the owners' updates of a page in one transaction (EngineUnavailable
        propagates: do not acknowledge), then queue each. The staff group's updates go to its
        own handling, never to the owner flows. Log lines about one update carry its id."""
        owners: list[tuple[Update, IncomingMessage]] = []
        for update in updates:
            if self.staff_group is not None and self.staff_group.owns(update):
                with log_context.handling_update(update.update_id):
                    await self.staff_group.accept(update)
            elif (msg := to_incoming(update)) is not None:
                owners.append((update, msg))
        if not owners:
            return
        recorded = await self._engine.record_batch([msg for _, msg in owners])
        for (update, msg), outcome in zip(owners, recorded, strict=True):
            if outcome.duplicate:
                with log_context.handling_update(update.update_id):
                    log.info("update %s delivered again; handled once already", update.update_id)
            else:
                self._submit(update, msg)

    def _submit(self, update: Update, msg: IncomingMessage) -> None:
        press = pressed_button(update)

        async def handle() -> None:
            if press is not None:
                await self._sender.acknowledge_press(press)
            # The replies are queued in the outbox with the outcome and sent from there.
            await self._process(msg)

        self._queue.submit(msg.user_id, handle)

    async def _process(self, msg: IncomingMessage) -> Answer:
        """The engine's answer; while the database is down, keep trying (the update stays
        pending in the inbox, so a restart in between loses nothing either)."""
        failures = 0
        while True:
            try:
                return await self._engine.process(msg)
            except EngineUnavailable:
                failures += 1
                log.warning("database unavailable; update %s waits", msg.update_key)
                await self._sleep(min(MAX_BACKOFF, 2.0**failures))

    async def _catch_up(self) -> None:
        """Handle what was recorded but never handled before the last stop or crash (the
        replies go out through the outbox, like every reply)."""
        while True:
            try:
                handled = await self._engine.process_pending(CHANNEL)
            except EngineUnavailable:
                log.warning("database unavailable; pending updates wait for it")
                await self._sleep(MAX_BACKOFF)
                continue
            if not handled:
                return

    # -- set-up ------------------------------------------------------------------------------

    async def _prepare(self) -> None:
        """Check the token, publish the command menu, and point Telegram at webhook or polling.

        Retries while Telegram is unreachable; a rejected token ends the channel (logged).
        """
        failures = 0
        while True:
            try:
                await self.bot.initialize()
                await self._publish_commands()
                if self._secret is not None:
                    await self.bot.set_webhook(
                        str(self._settings.telegram_webhook_url),
                        secret_token=self._secret,
                        allowed_updates=ALLOWED_UPDATES,
                    )
                else:
                    # getUpdates is refused while a webhook is set (409).
                    await self.bot.delete_webhook(drop_pending_updates=False)
                return
            except BadRequest:
                raise
            except (NetworkError, RetryAfter) as exc:
                failures += 1
                log.warning("Telegram not reachable for set-up: %s", exc)
                await self._sleep(min(MAX_BACKOFF, 2.0**failures))

    async def _publish_commands(self) -> None:
        """The "/" menu in both languages; the default follows DEFAULT_LANGUAGE.

        A menu Telegram refuses (a description too long) is logged; owners can chat without it.
        """
        default = self._settings.default_language
        try:
            await self.bot.set_my_commands(self._commands(default))
            for lang in ("zh", "en"):
                await self.bot.set_my_commands(self._commands(lang), language_code=lang)
        except BadRequest as exc:
            log.error("command menu refused by Telegram: %s", exc)

    def _commands(self, lang: str) -> list[BotCommand]:
        """Slash commands of the flows that have a `telegram.command_<name>` description."""
        texts = self._engine.texts
        described = texts.keys("zh")
        names: list[str] = []
        for command in self._engine.commands():
            name = command.removeprefix("/")
            if command.startswith("/") and COMMAND_PATTERN.fullmatch(name) and name not in names:
                names.append(name)
        return [
            BotCommand(name, texts.get(f"telegram.command_{name}", lang))
            for name in names
            if f"telegram.command_{name}" in described
        ]

    # -- media -------------------------------------------------------------------------------

    async def _download(self, url: str, max_bytes: int) -> bytes:
        # The URL holds the bot token: errors are logged by type only.
        try:
            async with self._downloads.stream("GET", url) as response:
                if response.status_code != 200:
                    log.info("photo download answered %s", response.status_code)
                    raise MediaError("unavailable")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise MediaError("too_large")
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data.extend(chunk)
                    if len(data) > max_bytes:
                        raise MediaError("too_large")
                return bytes(data)
        except httpx.HTTPError as exc:
            log.info("photo download failed: %s", type(exc).__name__)
            raise MediaError("unavailable") from exc


def _limits(settings: Settings) -> TelegramLimits:
    if settings.telegram_pacing == "off":
        log.warning(
            "TELEGRAM_PACING=off: our Telegram rate limits are lifted. For benchmarks against a "
            "fake Bot API only; never in production."
        )
        return TelegramLimits.unlimited()
    return TelegramLimits()


def _webhook_secret(settings: Settings) -> str | None:
    """The secret in webhook mode (validated, so a weak one stops start-up); None for polling."""
    if not settings.telegram_webhook_url:
        return None
    secret = settings.telegram_webhook_secret or ""
    if not SECRET_PATTERN.fullmatch(secret):
        raise SettingsError(
            "TELEGRAM_WEBHOOK_SECRET: required with TELEGRAM_WEBHOOK_URL; 16-256 characters "
            "of A-Z, a-z, 0-9, _ and -"
        )
    return secret


def _report_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.critical("Telegram channel stopped", exc_info=task.exception())
