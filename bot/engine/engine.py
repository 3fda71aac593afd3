"""The engine: records each platform update once, routes it to a flow, persists the result.

Channel adapters call `record` before they acknowledge an update to the platform and `process`
after (or `handle` for both); they see the engine only as `EnginePort` (bot/engine/ports.py).
State lives in the database, so a restart, a second instance or a redelivered update loses
nothing and repeats nothing.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bot.domain.conversation import StaleConversation
from bot.engine.context import Context, Services
from bot.engine.flow import Flow
from bot.engine.ports import Answer, EngineUnavailable, Recorded
from bot.engine.router import Router
from bot.engine.types import IncomingMessage, Reply
from bot.i18n import Texts
from bot.storage.errors import DatabaseError, is_transient
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

DATABASE_RETRIES = 3
STALE_RETRIES = 5
T = TypeVar("T")


__all__ = ["Engine", "EngineUnavailable", "HandleResult"]


@dataclass(frozen=True)
class HandleResult:
    answer: Answer
    duplicate: bool = False

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
    ) -> None:
        self.uow_factory = uow_factory
        self.services = services
        self.router = Router(flows, services)
        self._retry_delay = retry_delay
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
        recorded = await self.record(msg)
        if recorded.duplicate:
            answer = recorded.answer or Answer([], self.router.language_for(msg))
            return HandleResult(answer, duplicate=True)
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
                if existing.status != "done":
                    return Recorded(duplicate=True)
                replies = [Reply.from_dict(r) for r in existing.replies or []]
                return Recorded(duplicate=True, answer=await self._answer(uow, msg, replies))

        return await self._with_database_retries(attempt)

    async def process(self, msg: IncomingMessage) -> Answer:
        """Handle a recorded update exactly once and return the replies to send (for an update
        handled before, the replies it got then)."""
        return (await self._process(msg)).answer

    async def process_pending(self, channel: str) -> list[tuple[IncomingMessage, Answer]]:
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
                handled.append((msg, result.answer))
        return handled

    async def _process(self, msg: IncomingMessage) -> HandleResult:
        lock = self._locks.setdefault((msg.channel, msg.user_id), asyncio.Lock())
        async with lock:
            for _ in range(STALE_RETRIES):
                try:
                    return await self._with_database_retries(lambda: self._process_once(msg))
                except StaleConversation:
                    log.info("conversation changed concurrently; retrying %s", msg.update_key)
            return await self._with_database_retries(lambda: self._fail_softly(msg))

    async def _process_once(self, msg: IncomingMessage) -> HandleResult:
        outcome = await self._route_in_transaction(msg)
        if outcome is None:
            return await self._fail_softly(msg)
        return outcome

    async def _route_in_transaction(self, msg: IncomingMessage) -> HandleResult | None:
        """None when a flow crashed (its transaction is rolled back by then)."""
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
                msg=msg, account=account, uow=uow, services=self.services, now=now, state=state
            )
            try:
                replies = await self.router.route(ctx, state)
            except (StaleConversation, DatabaseError, OSError):
                raise
            except Exception:
                log.exception("flow failed on update %s", msg.update_key)
                return None
            await uow.conversations.save(state, now)
            if await uow.inbox.complete(msg.channel, msg.update_key, _dicts(replies), now):
                await uow.commit()
                return HandleResult(Answer(replies, ctx.account.language))
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

    async def _fail_softly(self, msg: IncomingMessage) -> HandleResult:
        """A step crashed: its writes are rolled back, the owner gets an apology and the menu,
        and the update is marked handled so it does not crash again on every restart."""
        async with self.uow_factory() as uow:
            now = self.services.clock()
            account = await uow.accounts.find(msg.channel, msg.user_id)
            lang = account.language if account else self.router.language_for(msg)
            replies = [self.router.apology(lang)]
            if await uow.inbox.complete(msg.channel, msg.update_key, _dicts(replies), now):
                await uow.commit()
                return HandleResult(Answer(replies, lang))
        return await self._handled_elsewhere(msg)

    async def _with_database_retries(self, operation: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(DATABASE_RETRIES):
            try:
                return await operation()
            except (DatabaseError, OSError) as exc:
                if not is_transient(exc):
                    raise
                log.warning("database unavailable (attempt %d): %s", attempt + 1, exc)
                await asyncio.sleep(self._retry_delay * (2**attempt))
        raise EngineUnavailable("database unavailable")


def _dicts(replies: list[Reply]) -> list[dict[str, object]]:
    return [reply.to_dict() for reply in replies]
