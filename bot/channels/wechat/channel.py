"""The WeChat 公众号 channel: the callback WeChat posts to, and sending back.

The 5-second rule shapes the callback. Each update is written to the engine's inbox before we
answer (a database outage answers 503, so WeChat retries instead of forgetting), then handled
with a deadline: a reply ready in time goes back passively in the HTTP response; otherwise
WeChat gets `success` at once and the reply follows as a 客服消息 when it is ready. Under a
burst, a callback that would queue too long for the engine gets `success` right after it is
recorded, and its reply goes the same way. A retry of the same update (WeChat tries three
times) gets the first reply again, or `success`.

Modules: `protocol` (signatures, AES, XML), `render` (replies as messages), `outbound` (客服
and template messages), `api` and `token` (HTTP API and the shared access_token), `setup`
(menu, QR codes).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from bisect import bisect_left
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from redis.asyncio import Redis
from starlette.requests import ClientDisconnect

from bot import log_context
from bot.channels.wechat.api import TooLarge, WeChatApi, WeChatApiError
from bot.channels.wechat.outbound import Delivery, load_templates
from bot.channels.wechat.protocol import (
    CHANNEL,
    MAX_BODY_BYTES,
    SUCCESS,
    CallbackCodec,
    CallbackQuery,
    Refused,
    passive_text,
    to_incoming,
)
from bot.channels.wechat.render import TextOut, render
from bot.channels.wechat.token import (
    FallbackTokenStore,
    RedisTokenStore,
    TokenStore,
    TokenUnavailable,
)
from bot.engine.ports import (
    Answer,
    EnginePort,
    EngineUnavailable,
    MediaError,
    Push,
    Recorded,
    ReplyRoute,
)
from bot.engine.types import IncomingMessage, Reply
from bot.settings import Settings, SettingsError

log = logging.getLogger(__name__)

#: WeChat waits 5 s; answering by 4 s leaves room for the network and the encryption.
REPLY_DEADLINE_SECONDS = 4.0
#: Recording the update (one insert) normally takes milliseconds; past this the database is
#: down or locked by another process, and WeChat is answered 503 while there is still time.
RECORD_DEADLINE_SECONDS = 3.5
#: Callbacks handled by the engine at once; the rest queue here, first come first served.
#: A process is CPU-bound long before this limits it; without it a burst interleaves a hundred
#: handlings, each waiting for all the others, so every answer is late instead of the last.
#: Recording is not queued here: it must happen before any answer (see `GroupRecorder`).
ENGINE_CONCURRENCY = 4
#: A callback that, once recorded, finds so many others in flight that handling them all
#: would take longer than this is answered `success` at once, and its reply goes by 客服消息:
#: under a burst, handling every callback before answering it made WeChat wait ~100 handlings
#: (`bench wechat`, 100 concurrent: p99 10 s; WeChat gives up at 5 s and retries).
PASSIVE_BUDGET_SECONDS = 0.3
#: Those replies are handled one at a time whenever no callback is waiting for its answer
#: (between the waves of a burst, and after it), and after this long at the latest, so a
#: steady stream cannot hold them back for good.
DEFER_LIMIT_SECONDS = 5.0
#: Callbacks recorded in one transaction at most (see `GroupRecorder`).
RECORD_BATCH = 100
#: What one callback costs before any has been timed (a burst can be the first thing a
#: process sees), and how fast the estimate follows the measured times.
FIRST_ESTIMATE_SECONDS = 0.02
ESTIMATE_WEIGHT = 0.2
#: Redis answers in milliseconds; an unreachable one must not eat the 5-s reply window.
REDIS_TIMEOUT_SECONDS = 1.0
#: How long `stop()` lets late replies finish before cancelling them.
STOP_GRACE_SECONDS = 10.0


class WeChatChannel:
    name = CHANNEL

    def __init__(
        self,
        settings: Settings,
        engine: EnginePort,
        *,
        database_tokens: TokenStore,
        clock: Callable[[], datetime],
        media_path: Callable[[str], Path],
    ) -> None:
        """`database_tokens` keeps the access_token when there is no Redis to share it in."""
        app_id, token, secret = _required_settings(settings)
        self._engine = engine
        self._clock = clock
        self._texts = engine.texts
        try:
            self._codec = CallbackCodec(
                token=token, app_id=app_id, aes_key=settings.wechat_aes_key, clock=self._clock
            )
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        # As many kept alive as may be open: under a burst the outbox sends many 客服 messages
        # at once, and each connection closed after use is a new TCP and TLS handshake.
        self._http = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=50)
        )
        self._redis = (
            Redis.from_url(
                settings.redis_url,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
            )
            if settings.redis_url
            else None
        )
        self._token_store: TokenStore = (
            FallbackTokenStore(self._redis, RedisTokenStore(self._redis, app_id), database_tokens)
            if self._redis is not None
            else database_tokens
        )
        self.api = WeChatApi(
            base_url=settings.wechat_api_base_url,
            app_id=app_id,
            app_secret=secret,
            http=self._http,
            token_store=self._token_store,
            clock=self._clock,
        )
        self._delivery = Delivery(
            self.api,
            load_templates(settings.config_dir / "wechat_templates.yaml"),
            engine.texts,
            self._clock,
            media_path,
            settings.tz,
        )
        self._background: set[asyncio.Task[Any]] = set()
        self._backlog = Backlog(ENGINE_CONCURRENCY, PASSIVE_BUDGET_SECONDS)
        self._recorder = GroupRecorder(engine)
        #: Owners with replies left for after the burst: their next messages wait their turn
        #: too (per-chat order), instead of being answered passively before the earlier ones.
        self._deferred: Counter[str] = Counter()

    # -- ChannelAdapter -----------------------------------------------------------------------
    def routes(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route("/wechat", self._verify, methods=["GET"], include_in_schema=False)
        router.add_api_route("/wechat", self._callback, methods=["POST"], include_in_schema=False)
        return router

    async def start(self) -> None:
        """WeChat calls us and the token is fetched on first use; what was recorded but not
        handled before the last stop is handled now and answered through the outbox."""
        if isinstance(self._token_store, FallbackTokenStore):
            await self._token_store.check()
        if self._codec.plaintext:
            log.warning(
                "WeChat callbacks in plaintext mode (WECHAT_AES_KEY is not set): messages "
                "are unencrypted and their bodies unsigned; set the EncodingAESKey for safe mode"
            )
        self._spawn(self._catch_up())

    async def _catch_up(self) -> None:
        try:
            await self._engine.process_pending(CHANNEL)
        except EngineUnavailable:
            log.warning("wechat catch-up skipped: database unavailable")

    async def stop(self) -> None:
        pending = set(self._background)
        if pending:
            _, unfinished = await asyncio.wait(pending, timeout=STOP_GRACE_SECONDS)
            for task in unfinished:
                task.cancel()
        await self._http.aclose()
        if self._redis is not None:
            await self._redis.aclose()

    async def send(
        self, user_id: str, replies: Sequence[Reply], *, lang: str, push: Push | None = None
    ) -> list[str]:
        return await self._delivery.send(user_id, lang, replies, push)

    async def fetch_media(self, media_ref: str, max_bytes: int) -> bytes:
        try:
            return await self.api.download_media(media_ref, max_bytes)
        except TooLarge:
            raise MediaError("too_large") from None
        except (WeChatApiError, httpx.HTTPError, TokenUnavailable) as exc:
            log.warning("wechat media %s unavailable: %r", media_ref[:40], exc)
            raise MediaError("unavailable") from None

    # -- the callback -------------------------------------------------------------------------
    async def _verify(self, request: Request) -> Response:
        try:
            echo = self._codec.verify_url(CallbackQuery.from_params(request.query_params))
        except Refused as exc:
            return _refusal(request, exc)
        return PlainTextResponse(echo)

    async def _callback(self, request: Request) -> Response:
        with self._backlog.callback():
            return await self._handle_callback(request)

    async def _handle_callback(self, request: Request) -> Response:
        started = time.monotonic()
        try:
            body = await _read_body(request)
            fields = self._codec.open(CallbackQuery.from_params(request.query_params), body)
            msg = to_incoming(fields, self._clock())
        except Refused as exc:
            return _refusal(request, exc)
        if msg is None:
            return PlainTextResponse(SUCCESS)
        with log_context.handling_update(msg.update_key):  # its tasks keep it too
            return await self._handle(msg, fields, started)

    async def _handle(
        self, msg: IncomingMessage, fields: dict[str, str], started: float
    ) -> Response:
        recording = self._recorder.record(msg)
        await asyncio.wait({recording}, timeout=RECORD_DEADLINE_SECONDS)
        recorded = recording.result() if recording.done() else None
        if recorded is None:
            # Down, or locked by another process (SQLite): answer within WeChat's 5 s. A write
            # that lands late is found by WeChat's retry, or by the catch-up at the next start
            # (not cancelled: cancelling a driver call would wait for the lock all the same).
            log.warning("wechat %s not recorded: database unavailable", msg.update_key)
            return PlainTextResponse("retry later", status_code=503)
        if recorded.duplicate and recorded.answer is not None:
            return await self._answer(fields, msg, recorded.answer)
        if self._backlog.expected_wait() > PASSIVE_BUDGET_SECONDS or self._deferred[msg.user_id]:
            # A burst: the reply goes from the outbox (客服) when the burst leaves room; for a
            # retry, the engine hands out nothing twice.
            self._deferred[msg.user_id] += 1
            self._spawn(self._process_after_burst(msg, time.monotonic()))
            return PlainTextResponse(SUCCESS)
        with self._backlog.handling():
            return await self._passive(msg, fields, started, retry=recorded.duplicate)

    async def _passive(
        self, msg: IncomingMessage, fields: dict[str, str], started: float, *, retry: bool
    ) -> Response:
        """Handled now: the reply in the response if it is ready by the deadline, else
        `success` and the reply by 客服."""
        task = self._spawn(self._process(msg, ReplyRoute.HELD))
        remaining = REPLY_DEADLINE_SECONDS - (time.monotonic() - started)
        if remaining > 0:  # past the deadline already (recording was slow): answer now
            await asyncio.wait({task}, timeout=remaining)
        if not task.done():
            # A retry's late reply is left to the request that first saw the update.
            if not retry:
                self._spawn(self._deliver_late(msg, task))
            return PlainTextResponse(SUCCESS)
        if task.exception() is not None:
            log.warning("wechat %s not handled: %r", msg.update_key, task.exception())
            return PlainTextResponse("retry later", status_code=503)
        return await self._answer(fields, msg, task.result())

    async def _answer(
        self, fields: dict[str, str], msg: IncomingMessage, answer: Answer
    ) -> Response:
        """The passive reply when the whole answer fits in one text message, sealed in safe
        mode; anything else (a photo, a text too long for one message) goes by 客服 from the
        outbox. A bare `success` is never encrypted (WeChat reads it as "no reply")."""
        items = render(answer.replies, self._texts, answer.lang, menus=False)
        if _unreachable(msg) or len(items) != 1 or not isinstance(items[0], TextOut):
            await self._settle(answer, passive=False)
            return PlainTextResponse(SUCCESS)
        xml = self._codec.seal(passive_text(fields, items[0].text, self._clock()))
        await self._settle(answer, passive=True)
        return Response(xml, media_type="application/xml")

    async def _settle(self, answer: Answer, *, passive: bool) -> None:
        """Close the held outbox row (answered in the response) or let the outbox send it now.
        If this fails the row still goes out after its hold: at worst twice, never lost."""
        if answer.outbox_id is None:
            return
        try:
            if passive:
                await self._engine.answered_passively(answer.outbox_id)
            else:
                await self._engine.release(answer.outbox_id)
        except EngineUnavailable:
            log.warning("wechat reply %s left to the outbox's hold", answer.outbox_id)

    async def _deliver_late(self, msg: IncomingMessage, task: asyncio.Task[Answer]) -> None:
        """Processing overran the deadline: WeChat got `success`, the reply goes by 客服."""
        try:
            answer = await task
        except EngineUnavailable:
            log.warning("wechat %s left pending: database unavailable", msg.update_key)
            return
        await self._settle(answer, passive=False)

    async def _process(self, msg: IncomingMessage, route: ReplyRoute) -> Answer:
        async with self._backlog.slots:
            return await self._engine.process(msg, route)

    async def _process_after_burst(self, msg: IncomingMessage, since: float) -> None:
        """Handled in its turn when no callback waits for an answer; the reply is queued in
        the outbox, which sends it by 客服. A database outage leaves the update pending
        (recorded: the next start's catch-up handles it)."""
        try:
            async with self._backlog.deferred_turn(since + DEFER_LIMIT_SECONDS):
                await self._process(msg, ReplyRoute.OUTBOX)
        except EngineUnavailable:
            log.warning("wechat %s left pending: database unavailable", msg.update_key)
        finally:
            self._deferred[msg.user_id] -= 1
            if not self._deferred[msg.user_id]:
                del self._deferred[msg.user_id]

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run in the background, kept referenced until done (and awaited by `stop`)."""
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task


class Backlog:
    """The callbacks in flight, the engine's slots, and the turns of the replies left for
    after a burst.

    A callback's wait is estimated, once it is recorded, as the callbacks it shares the
    process with times a moving average of what one costs: they are done one after another.
    Those are the others in flight or, when more, those that arrived within the budget (what
    came in the last moments is what comes next: under a burst the newcomers, not yet read
    when a callback decides, would wait behind its handling; counting only those in flight,
    the last of each wave found few and handled dozens at once, delaying the next wave by as
    much). Callbacks of a wave are recorded together, so by then a callback sees all of its
    wave. What one costs is learnt from the callbacks handled at once: the time from the
    decision to the answer, shared by the callbacks that were in flight meanwhile (the
    engine's handling alone left out the answer's sealing and writes)."""

    def __init__(self, slots: int, window: float) -> None:
        #: The engine's handlings at once.
        self.slots = asyncio.Semaphore(slots)
        self._in_flight = 0
        self._window = window
        self._arrivals: deque[float] = deque()
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._deferred_turn = asyncio.Lock()
        self._estimate = FIRST_ESTIMATE_SECONDS

    @contextmanager
    def callback(self) -> Iterator[None]:
        """Counts a callback in flight while it runs (and its arrival for `window` s)."""
        now = time.monotonic()
        self._arrivals.append(now)
        while self._arrivals[0] < now - self._window:
            self._arrivals.popleft()
        self._in_flight += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._quiet.set()

    def expected_wait(self) -> float:
        """For a callback in flight: how long handling it and the others would take."""
        now = time.monotonic()
        recent = len(self._arrivals) - bisect_left(self._arrivals, now - self._window)
        return (max(self._in_flight, recent) - 1) * self._estimate

    @contextmanager
    def handling(self) -> Iterator[None]:
        """Times a callback handled now, to learn what one costs."""
        sharing, started = self._in_flight, time.monotonic()
        try:
            yield
        finally:
            took = (time.monotonic() - started) / sharing
            self._estimate += ESTIMATE_WEIGHT * (took - self._estimate)

    @asynccontextmanager
    async def deferred_turn(self, deadline: float) -> AsyncIterator[None]:
        """One deferred handling at a time, in order, each when no callback is in flight (or
        from `deadline` on): so the replies left for after a burst take the CPU in the gaps
        between its waves and after it, not from the callbacks waiting for their answers."""
        async with self._deferred_turn:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._quiet.wait(), deadline - time.monotonic())
            yield


class GroupRecorder:
    """Records callbacks in the engine's inbox, those that arrive together in one transaction.

    The first callback's record starts at once; the callbacks arriving while it is written
    are recorded together in the next transaction, and so on: one commit (and, on PostgreSQL,
    one pooled connection) per wave of a burst instead of one per callback, and nothing waits
    for a timer when callbacks come one by one."""

    def __init__(self, engine: EnginePort) -> None:
        self._engine = engine
        self._waiting: list[tuple[IncomingMessage, asyncio.Future[Recorded | None]]] = []
        self._writer: asyncio.Task[None] | None = None

    def record(self, msg: IncomingMessage) -> asyncio.Future[Recorded | None]:
        """Resolves once `msg` is recorded, to None when the database is unavailable."""
        recorded: asyncio.Future[Recorded | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((msg, recorded))
        if self._writer is None:
            # Not in the context of the callback that happens to start it: the batch's log
            # lines are no more that update's than the others'.
            self._writer = asyncio.create_task(self._write(), context=contextvars.Context())
        return recorded

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[:RECORD_BATCH]
                del self._waiting[:RECORD_BATCH]
                await self._write_batch(batch)
        finally:
            self._writer = None

    async def _write_batch(
        self, batch: list[tuple[IncomingMessage, asyncio.Future[Recorded | None]]]
    ) -> None:
        """A failure other than the database's is each callback's (an error answer)."""
        results: list[Recorded | None]
        try:
            results = list(await self._engine.record_batch([msg for msg, _ in batch]))
        except EngineUnavailable:
            results = [None] * len(batch)
        except Exception as exc:
            for _, recorded in batch:
                recorded.set_exception(exc)
            return
        for (_, recorded), result in zip(batch, results, strict=True):
            recorded.set_result(result)


def _required_settings(settings: Settings) -> tuple[str, str, str]:
    missing = [
        name
        for name, value in (
            ("WECHAT_APP_ID", settings.wechat_app_id),
            ("WECHAT_TOKEN", settings.wechat_token),
            ("WECHAT_APP_SECRET", settings.wechat_app_secret),
        )
        if not value
    ]
    if missing:
        raise SettingsError("the WeChat channel needs " + ", ".join(missing))
    return (
        settings.wechat_app_id or "",
        settings.wechat_token or "",
        settings.wechat_app_secret or "",
    )


def _unreachable(msg: IncomingMessage) -> bool:
    """An owner who just unfollowed can receive nothing; the engine only deactivates them."""
    return msg.payload == "unsubscribe"


async def _read_body(request: Request) -> bytes:
    """The body, refused beyond MAX_BODY_BYTES by Content-Length and again while streaming
    (a chunked body has no Content-Length, and a declared one can lie)."""
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise Refused(413, f"body of {declared[:12]} bytes")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise Refused(413, "body too large")
            chunks.append(chunk)
    except ClientDisconnect:
        raise Refused(400, "client went away") from None
    return b"".join(chunks)


def _refusal(request: Request, exc: Refused) -> Response:
    client = request.client.host if request.client else "?"
    log.warning("wechat callback refused from %s: %s", client, exc.reason)
    return PlainTextResponse("forbidden" if exc.status == 403 else "bad request", exc.status)
