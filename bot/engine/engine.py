"""The engine: records each platform update once, routes it to a flow, persists the result.

Channel adapters call `record` before they acknowledge an update to the platform and `process`
after (or `handle` for both); they see the engine only as `EnginePort` (bot/engine/ports.py).
State lives in the database, so a restart, a second instance or a redelivered update loses
nothing and repeats nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from bot import log_context
from bot.domain.conversation import ConversationState, StaleConversation
from bot.domain.delivery import REPLY
from bot.domain.roster import Account
from bot.engine.context import Context, Services, fetch_photo
from bot.engine.flow import Flow
from bot.engine.ports import Answer, EngineUnavailable, MediaError, Recorded, ReplyRoute
from bot.engine.router import Router
from bot.engine.types import IncomingMessage, Reply
from bot.i18n import Texts
from bot.metrics import HANDLING_SECONDS, UPDATES
from bot.storage.errors import DatabaseError, is_transient
from bot.storage.repositories.inbox import PENDING, Completion
from bot.storage.repositories.outbox import OutboxItem
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

DATABASE_RETRIES = 3
STALE_RETRIES = 5
#: How long a HELD reply waits for the channel's passive answer before the outbox sends it
#: anyway (WeChat waits 5 s for the HTTP response; a crash in between must not lose it).
PASSIVE_HOLD = timedelta(seconds=15)
T = TypeVar("T")


__all__ = ["Engine", "EngineUnavailable", "HandleResult"]


class FlowFailed(Exception):
    """A flow raised: the update is recorded as failed with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DirectDelivery(Protocol):
    """The outbox worker of this process, seen from the engine: a reply whose row is claimed
    for it in the transaction that decides the reply is sent at once, without the worker's
    claim round trip (the row's lease keeps the worker's crash guarantees)."""

    def lease_now(self, now: datetime) -> tuple[str, datetime] | None:
        """(worker id, lease end) to claim a new row with; None when the worker is not
        running or has no room."""

    def deliver(self, item: OutboxItem, until: datetime) -> None:
        """Start sending a row claimed with `lease_now` until `until` (returns at once)."""


@dataclass(frozen=True)
class HandleResult:
    answer: Answer
    duplicate: bool = False
    #: The reply's outbox row, claimed for this process's worker until the given time: sent
    #: as soon as committed.
    direct: tuple[OutboxItem, datetime] | None = None

    @property
    def replies(self) -> list[Reply]:
        return self.answer.replies


class Engine:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        services: Services,
        flows: Sequence[Flow],
        *,
        retry_delay: float = 0.2,
        on_queued: Callable[[], None] = lambda: None,
        direct: DirectDelivery | None = None,
    ) -> None:
        """`on_queued` is called after a commit that queued replies in the outbox (it wakes
        the delivery worker, so an answer leaves without waiting for a tick); `direct` hands
        a reply claimed in its own transaction to the worker (see `DirectDelivery`)."""
        self.uow_factory = uow_factory
        self.services = services
        self.router = Router(flows, services)
        self._retry_delay = retry_delay
        self._on_queued = on_queued
        self._direct = direct
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    @property
    def texts(self) -> Texts:
        return self.services.texts

    @property
    def default_language(self) -> str:
        return self.services.settings.default_language

    def commands(self) -> list[str]:
        return [command for flow in self.router.flows.values() for command in flow.commands]

    async def deactivate(self, channel: str, user_id: str) -> None:
        async def attempt() -> None:
            async with self.uow_factory() as uow:
                account = await uow.accounts.find(channel, user_id)
                if account is not None:
                    await uow.accounts.deactivate(account.id)
                    await uow.commit()

        await self._with_database_retries(attempt)

    async def handle(self, msg: IncomingMessage) -> HandleResult:
        """Record and process in one call; the caller shows the replies (tests, the demo)."""
        recorded = await self.record(msg)
        if recorded.duplicate:
            answer = recorded.answer or Answer([], self.router.language_for(msg))
            return HandleResult(answer, duplicate=True)
        return await self._process(msg, ReplyRoute.CALLER)

    async def record(self, msg: IncomingMessage) -> Recorded:
        """Persist the update in the inbox; tells whether it was seen before."""
        with log_context.handling_update(msg.update_key):
            return (await self.record_batch([msg]))[0]

    async def record_batch(self, msgs: Sequence[IncomingMessage]) -> list[Recorded]:
        """Persist a page of updates in one transaction, one multi-row insert per channel: a
        page fetched from a platform costs one commit, not one per update. Tells for each
        (in order) whether it was seen before."""

        async def attempt() -> list[Recorded]:
            async with self.uow_factory() as uow:
                now = self.services.clock()
                new: set[tuple[str, str]] = set()
                for channel in dict.fromkeys(msg.channel for msg in msgs):
                    page = {m.update_key: m.to_dict() for m in msgs if m.channel == channel}
                    keys = await uow.inbox.record_many(channel, list(page.items()), now)
                    new |= {(channel, key) for key in keys}
                await uow.commit()
                recorded = []
                for msg in msgs:
                    if (msg.channel, msg.update_key) in new:
                        new.discard((msg.channel, msg.update_key))  # a repeat in the page
                        recorded.append(Recorded(duplicate=False))
                    else:
                        recorded.append(await self._recorded_before(uow, msg))
                return recorded

        return await self._with_database_retries(attempt)

    async def _recorded_before(self, uow: UnitOfWork, msg: IncomingMessage) -> Recorded:
        """A redelivery: pending (handling follows) or answered (its stored answer)."""
        existing = await uow.inbox.get(msg.channel, msg.update_key)
        if existing is None or existing.status == PENDING:
            # done, or failed with its apology, is answered
            return Recorded(duplicate=True)
        replies = [Reply.from_dict(r) for r in existing.replies or []]
        return Recorded(duplicate=True, answer=await self._answer(uow, msg, replies))

    async def process(self, msg: IncomingMessage, route: ReplyRoute = ReplyRoute.OUTBOX) -> Answer:
        """Handle a recorded update exactly once and return its replies (for an update handled
        before, the replies it got then). Unless `route` is CALLER they are queued in the
        outbox in the same transaction that marks the update handled, so a crash after the
        commit loses no answer: the outbox sends it, at once or after a restart."""
        return (await self._process(msg, route)).answer

    async def answered_passively(self, outbox_id: int) -> None:
        await self._close_held(lambda uow, now: uow.outbox.mark_answered_passively(outbox_id, now))

    async def release(self, outbox_id: int) -> None:
        await self._close_held(lambda uow, now: uow.outbox.release(outbox_id, now))
        self._on_queued()

    async def _close_held(self, write: Callable[[UnitOfWork, datetime], Awaitable[None]]) -> None:
        """One small write to a held reply's outbox row, retried while the database blips."""

        async def attempt() -> None:
            async with self.uow_factory() as uow:
                await write(uow, self.services.clock())
                await uow.commit()

        await self._with_database_retries(attempt)

    async def process_pending(self, channel: str) -> list[tuple[IncomingMessage, Answer]]:
        """Handle this channel's updates recorded but never handled (a crash or restart in
        between). Only what this call handled is returned, so two instances catching up at
        the same time never both send the same replies."""
        async with self.uow_factory() as uow:
            entries = await uow.inbox.pending(channel)
        handled = []
        for entry in entries:
            msg = IncomingMessage.from_dict(entry.payload)
            result = await self._process(msg, ReplyRoute.OUTBOX)
            if not result.duplicate:
                handled.append((msg, result.answer))
        return handled

    async def _process(self, msg: IncomingMessage, route: ReplyRoute) -> HandleResult:
        started = time.monotonic()
        with log_context.handling_update(msg.update_key):  # also when catching up
            result = await self._process_in_order(msg, route)
            if not result.duplicate:
                seconds = time.monotonic() - started
                HANDLING_SECONDS.labels(msg.channel).observe(seconds)
                UPDATES.labels(msg.channel, "handled").inc()
                # DEBUG: at INFO a line per message would interleave with the console chat.
                log.debug(
                    "%s update %s handled in %.0f ms", msg.channel, msg.update_key, seconds * 1000
                )
        if result.direct is not None and self._direct is not None:
            self._direct.deliver(*result.direct)
        elif result.answer.outbox_id is not None and route is ReplyRoute.OUTBOX:
            self._on_queued()
        return result

    async def _process_in_order(self, msg: IncomingMessage, route: ReplyRoute) -> HandleResult:
        lock = self._locks.setdefault((msg.channel, msg.user_id), asyncio.Lock())
        async with lock:
            photo = await fetch_photo(self.services, msg)
            for _ in range(STALE_RETRIES):
                try:
                    return await self._with_database_retries(
                        lambda: self._route_in_transaction(msg, route, photo)
                    )
                except StaleConversation:
                    log.info("conversation changed concurrently; retrying %s", msg.update_key)
                except (FlowFailed, DatabaseError) as exc:  # a DatabaseError here is not transient
                    return await self._record_failure(msg, route, _reason(exc))
            return await self._record_failure(msg, route, "conversation kept changing concurrently")

    async def _record_failure(
        self, msg: IncomingMessage, route: ReplyRoute, reason: str
    ) -> HandleResult:
        """One log line (the reason names a class, never the owner's input or SQL parameters),
        and the update kept as failed so it neither stops the channel nor runs again."""
        log.warning("update %s failed: %s", msg.update_key, reason)
        UPDATES.labels(msg.channel, "failed").inc()
        return await self._with_database_retries(lambda: self._fail_softly(msg, route, reason))

    async def _route_in_transaction(
        self, msg: IncomingMessage, route: ReplyRoute, photo: bytes | MediaError | None
    ) -> HandleResult:
        """FlowFailed when a flow crashed (its transaction is rolled back by then)."""
        async with self.uow_factory() as uow:
            now = self.services.clock()
            account, created = await uow.accounts.touch(
                msg.channel,
                msg.user_id,
                language=self.router.language_for(msg),
                now=now,
                display_name=msg.display_name,
            )
            if created:
                state = ConversationState(account_id=account.id)
            else:
                state = await uow.conversations.load(account.id)
            loaded = state.snapshot()
            ctx = Context(
                msg=msg,
                account=account,
                uow=uow,
                services=self.services,
                now=now,
                state=state,
                photo=photo,
            )
            try:
                replies = await self.router.route(ctx, state)
            except (StaleConversation, DatabaseError):
                raise
            except Exception as exc:
                log.exception("flow failed on update %s", msg.update_key)
                raise FlowFailed(f"flow error: {type(exc).__name__}") from exc
            # Outside a flow a state the message left as it was needs no write (its time
            # matters only in a flow, for IDLE_PAUSE_AFTER): /help or a question asked again
            # costs one statement less.
            if state.in_flow or state.snapshot() != loaded:
                await uow.conversations.save(state, now)
            result = await self._complete(uow, msg, ctx.account, replies, now, route)
            if result is not None:
                return result
        return await self._handled_elsewhere(msg)

    async def _handled_elsewhere(self, msg: IncomingMessage) -> HandleResult:
        """Another process (or an earlier run) completed this update first: our work was
        rolled back, and the replies are the ones stored then."""
        async with self.uow_factory() as uow:
            entry = await uow.inbox.get(msg.channel, msg.update_key)
            stored = entry.replies if entry is not None else []
            replies = [Reply.from_dict(r) for r in stored or []]
            return HandleResult(await self._answer(uow, msg, replies), duplicate=True)

    async def _answer(self, uow: UnitOfWork, msg: IncomingMessage, replies: list[Reply]) -> Answer:
        """Stored replies with the language of the owner they were for."""
        account = await uow.accounts.find(msg.channel, msg.user_id)
        return Answer(replies, account.language if account else self.router.language_for(msg))

    async def _fail_softly(
        self, msg: IncomingMessage, route: ReplyRoute, reason: str
    ) -> HandleResult:
        """A step crashed: its writes are rolled back, the owner gets an apology and the menu,
        and the update is marked failed (with `reason`) so it does not crash again on every
        restart."""
        async with self.uow_factory() as uow:
            now = self.services.clock()
            account = await uow.accounts.find(msg.channel, msg.user_id)
            lang = account.language if account else self.router.language_for(msg)
            replies = [self.router.apology(lang)]
            if account is not None:
                result = await self._complete(uow, msg, account, replies, now, route, reason)
                if result is not None:
                    return result
            elif await uow.inbox.complete(
                msg.channel, msg.update_key, _dicts(replies), now, failure=reason
            ):
                await uow.commit()
                return HandleResult(Answer(replies, lang))
        return await self._handled_elsewhere(msg)

    async def _complete(
        self,
        uow: UnitOfWork,
        msg: IncomingMessage,
        account: Account,
        replies: list[Reply],
        now: datetime,
        route: ReplyRoute,
        failure: str | None = None,
    ) -> HandleResult | None:
        """Mark the update handled (or failed, with `failure`) with its replies, queue them in
        the outbox row that delivers them (one per update: its key is the update's) and
        commit; None when another process completed the update first (nothing is written).
        The row is claimed for this process's worker when it has room and no earlier message
        of the owner is still open (so the reply cannot overtake one)."""
        completion = Completion(msg.channel, msg.update_key, _dicts(replies), now, failure)
        if route is ReplyRoute.CALLER or not replies:
            if not await uow.inbox.complete_with(completion):
                return None
            await uow.commit()
            return HandleResult(Answer(replies, account.language))
        key = f"reply:{msg.channel}:{msg.update_key}"
        claim = None
        if route is ReplyRoute.OUTBOX and self._direct is not None:
            # The lease counts from now, not from the transaction's start: a slow flow must
            # not leave the row's lease half spent before it is even committed.
            claim = self._direct.lease_now(self.services.clock())
        due_at = now + PASSIVE_HOLD if route is ReplyRoute.HELD else now
        queued = await uow.outbox.add_reply(
            account_id=account.id,
            idempotency_key=key,
            due_at=due_at,
            completing=completion,
            claim=claim,
        )
        if queued is None:
            return None
        outbox_id = queued.id if queued.id is not None else await uow.outbox.id_of(key)
        await uow.commit()
        answer = Answer(replies, account.language, outbox_id)
        if queued.id is None or not queued.claimed or claim is None:
            return HandleResult(answer)
        direct = OutboxItem(
            id=queued.id,
            account_id=account.id,
            channel=account.channel,
            user_id=account.user_id,
            last_inbound_at=account.last_inbound_at,
            language=account.language,
            purpose=REPLY,
            replies=completion.replies,
            attempts=1,
            message_ids=[],
        )
        return HandleResult(answer, direct=(direct, claim[1]))

    async def _with_database_retries(self, operation: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(DATABASE_RETRIES):
            try:
                return await operation()
            except DatabaseError as exc:
                if not is_transient(exc):
                    raise
                log.warning("database unavailable (attempt %d): %s", attempt + 1, exc)
                await asyncio.sleep(self._retry_delay * (2**attempt))
        raise EngineUnavailable("database unavailable")


def _reason(exc: Exception) -> str:
    """Why an update failed, by class names only: a database error's text carries the SQL
    parameters (the owner's phone, message text)."""
    if isinstance(exc, FlowFailed):
        return exc.reason
    if isinstance(exc, DatabaseError) and exc.orig is not None:
        return f"database error: {type(exc).__name__} ({type(exc.orig).__name__})"[:200]
    return f"database error: {type(exc).__name__}"


def _dicts(replies: list[Reply]) -> list[dict[str, object]]:
    return [reply.to_dict() for reply in replies]
