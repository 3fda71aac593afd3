"""The engine: records each platform update once, routes it to a flow, persists the result.

Channel adapters call `record` before they acknowledge an update to the platform and `process`
after (or `handle` for both). State lives in the database, so a restart, a second instance or
a redelivered update loses nothing and repeats nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bot.domain.conversation import StaleConversation
from bot.engine.context import Context, Services, fetch_photo
from bot.engine.flow import Flow
from bot.engine.ports import MediaError
from bot.engine.router import Router
from bot.engine.types import IncomingMessage, Reply
from bot.metrics import HANDLING_SECONDS, UPDATES
from bot.storage.repositories.inbox import PENDING
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

DATABASE_RETRIES = 3
STALE_RETRIES = 5
T = TypeVar("T")


class EngineUnavailable(Exception):
    """The database could not be reached: the adapter must not acknowledge the update."""


class FlowFailed(Exception):
    """A flow raised: the update is recorded as failed with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Recorded:
    duplicate: bool
    #: For a duplicate already handled: the replies it got the first time.
    replies: list[Reply] | None = None


@dataclass(frozen=True)
class HandleResult:
    replies: list[Reply]
    duplicate: bool = False


class Engine:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        services: Services,
        flows: Sequence[Flow],
        *,
        retry_delay: float = 0.2,
    ) -> None:
        self.uow_factory = uow_factory
        self.services = services
        self.router = Router(flows, services)
        self._retry_delay = retry_delay
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def handle(self, msg: IncomingMessage) -> HandleResult:
        recorded = await self.record(msg)
        if recorded.duplicate:
            return HandleResult(recorded.replies or [], duplicate=True)
        return await self._process(msg)

    async def record(self, msg: IncomingMessage) -> Recorded:
        """Persist the update in the inbox; tells whether it was seen before."""

        async def attempt() -> Recorded:
            async with self.uow_factory() as uow:
                existing = await uow.inbox.record(
                    msg.channel, msg.update_key, msg.to_dict(), self.services.clock()
                )
                await uow.commit()
            if existing is None:
                return Recorded(duplicate=False)
            replies = [Reply.from_dict(r) for r in existing.replies or []]
            answered = existing.status != PENDING  # done, or failed with its apology
            return Recorded(duplicate=True, replies=replies if answered else None)

        return await self._with_database_retries(attempt)

    async def process(self, msg: IncomingMessage) -> list[Reply]:
        """Handle a recorded update exactly once and return the replies to send (for an update
        handled before, the replies it got then)."""
        return (await self._process(msg)).replies

    async def process_pending(self, channel: str) -> list[tuple[IncomingMessage, list[Reply]]]:
        """Handle this channel's updates recorded but never handled (a crash or restart in
        between). Only what this call handled is returned, so two instances catching up at
        the same time never both send the same replies."""
        async with self.uow_factory() as uow:
            entries = await uow.inbox.pending(channel)
        handled = []
        for entry in entries:
            msg = IncomingMessage.from_dict(entry.payload)
            result = await self._process(msg)
            if not result.duplicate:
                handled.append((msg, result.replies))
        return handled

    async def _process(self, msg: IncomingMessage) -> HandleResult:
        started = time.monotonic()
        result = await self._process_in_order(msg)
        if not result.duplicate:
            HANDLING_SECONDS.labels(msg.channel).observe(time.monotonic() - started)
            UPDATES.labels(msg.channel, "handled").inc()
        return result

    async def _process_in_order(self, msg: IncomingMessage) -> HandleResult:
        lock = self._locks.setdefault((msg.channel, msg.user_id), asyncio.Lock())
        async with lock:
            photo = await fetch_photo(self.services, msg)
            for _ in range(STALE_RETRIES):
                try:
                    return await self._with_database_retries(
                        lambda: self._route_in_transaction(msg, photo)
                    )
                except StaleConversation:
                    log.info("conversation changed concurrently; retrying %s", msg.update_key)
                except (FlowFailed, DBAPIError) as exc:  # a DBAPIError here is not transient
                    return await self._record_failure(msg, _reason(exc))
            return await self._record_failure(msg, "conversation kept changing concurrently")

    async def _record_failure(self, msg: IncomingMessage, reason: str) -> HandleResult:
        """One log line (the reason names a class, never the owner's input or SQL parameters),
        and the update kept as failed so it neither stops the channel nor runs again."""
        log.warning("update %s failed: %s", msg.update_key, reason)
        UPDATES.labels(msg.channel, "failed").inc()
        replies = await self._with_database_retries(lambda: self._fail_softly(msg, reason))
        return HandleResult(replies)

    async def _route_in_transaction(
        self, msg: IncomingMessage, photo: bytes | MediaError | None
    ) -> HandleResult:
        """FlowFailed when a flow crashed (its transaction is rolled back by then)."""
        async with self.uow_factory() as uow:
            now = self.services.clock()
            account = await uow.accounts.touch(
                msg.channel,
                msg.user_id,
                language=self.router.language_for(msg),
                now=now,
                display_name=msg.display_name,
            )
            state = await uow.conversations.load(account.id)
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
            except (StaleConversation, DBAPIError, OSError):
                raise
            except Exception as exc:
                log.exception("flow failed on update %s", msg.update_key)
                raise FlowFailed(f"flow error: {type(exc).__name__}") from exc
            await uow.conversations.save(state, now)
            if await uow.inbox.complete(msg.channel, msg.update_key, _dicts(replies), now):
                await uow.commit()
                return HandleResult(replies)
        return await self._handled_elsewhere(msg)

    async def _handled_elsewhere(self, msg: IncomingMessage) -> HandleResult:
        """Another process (or an earlier run) completed this update first: our work was
        rolled back, and the replies are the ones stored then."""
        async with self.uow_factory() as uow:
            entry = await uow.inbox.get(msg.channel, msg.update_key)
        stored = entry.replies if entry is not None else []
        return HandleResult([Reply.from_dict(r) for r in stored or []], duplicate=True)

    async def _fail_softly(self, msg: IncomingMessage, reason: str) -> list[Reply]:
        """A step crashed: its writes are rolled back, the owner gets an apology and the menu,
        and the update is marked failed so it does not crash again on every restart."""
        async with self.uow_factory() as uow:
            now = self.services.clock()
            account = await uow.accounts.find(msg.channel, msg.user_id)
            lang = account.language if account else self.router.language_for(msg)
            replies = [self.router.apology(lang)]
            stored = _dicts(replies)
            if await uow.inbox.complete(msg.channel, msg.update_key, stored, now, failure=reason):
                await uow.commit()
                return replies
        return (await self._handled_elsewhere(msg)).replies

    async def _with_database_retries(self, operation: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(DATABASE_RETRIES):
            try:
                return await operation()
            except (DBAPIError, OSError) as exc:
                if not _is_transient(exc):
                    raise
                log.warning("database unavailable (attempt %d): %s", attempt + 1, exc)
                await asyncio.sleep(self._retry_delay * (2**attempt))
        raise EngineUnavailable("database unavailable")


def _is_transient(exc: Exception) -> bool:
    """Connection loss and lock time-outs pass; constraint or SQL errors are bugs to surface."""
    if isinstance(exc, OSError | OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _reason(exc: Exception) -> str:
    """Why an update failed, by class names only: a database error's text carries the SQL
    parameters (the owner's phone, message text)."""
    if isinstance(exc, FlowFailed):
        return exc.reason
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return f"database error: {type(exc).__name__} ({type(exc.orig).__name__})"[:200]
    return f"database error: {type(exc).__name__}"


def _dicts(replies: list[Reply]) -> list[dict[str, object]]:
    return [reply.to_dict() for reply in replies]
