"""The inbox of platform updates: persist before acknowledging, handle once.

These statements run for every update, so they use the Core table (no ORM unit-of-work
bookkeeping) and the fewest round trips: an insert that ignores duplicates, and a completion
that only succeeds while the update is still pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import ProcessedUpdate
from bot.storage.sql import dialect_of, insert_ignoring, table_of

PENDING = "pending"
DONE = "done"
#: Could not be handled (the reason is kept); answered with an apology, never retried.
FAILED = "failed"
INBOX = table_of(ProcessedUpdate)
#: Built once: it runs for every update (see accounts.TOUCH).
COMPLETE = update(INBOX).where(
    INBOX.c.channel == bindparam("match_channel"),
    INBOX.c.update_key == bindparam("match_key"),
    INBOX.c.status == PENDING,
)


@dataclass(frozen=True)
class Completion:
    """An update marked handled (or failed, with `failure`) with its replies stored."""

    channel: str
    update_key: str
    replies: list[Any]
    now: datetime
    failure: str | None = None

    def parameters(self) -> dict[str, Any]:
        """COMPLETE's parameters (the outbox's completing insert names the same ones)."""
        return {
            "match_channel": self.channel,
            "match_key": self.update_key,
            "status": DONE if self.failure is None else FAILED,
            "replies": self.replies,
            "handled_at": self.now,
            "failure": self.failure,
        }


@dataclass(frozen=True)
class InboxEntry:
    channel: str
    update_key: str
    payload: dict[str, Any]
    status: str
    replies: list[Any] | None


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record_many(
        self, channel: str, updates: list[tuple[str, dict[str, Any]]], now: datetime
    ) -> set[str]:
        """Insert a page of updates (key, payload) in one statement; returns the keys that were
        new (the others were recorded before)."""
        if not updates:
            return set()
        rows = [
            {
                "channel": channel,
                "update_key": key,
                "payload": payload,
                "status": PENDING,
                "received_at": now,
            }
            for key, payload in updates
        ]
        statement = insert_ignoring(dialect_of(self.session), ProcessedUpdate, ("update_key",))
        result = await self.session.execute(statement, rows)
        return set(result.scalars().all())

    async def get(self, channel: str, update_key: str) -> InboxEntry | None:
        query = select(INBOX.c.payload, INBOX.c.status, INBOX.c.replies).where(
            INBOX.c.channel == channel, INBOX.c.update_key == update_key
        )
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        payload, status, replies = row
        return InboxEntry(channel, update_key, payload, status, replies)

    async def complete(
        self,
        channel: str,
        update_key: str,
        replies: list[Any],
        now: datetime,
        *,
        failure: str | None = None,
    ) -> bool:
        """Store the replies and mark the update handled (or failed, with `failure`) — unless
        another process handled it first (False): then the caller rolls back its work. On
        PostgreSQL the row lock makes a concurrent completion wait, and it then sees `done`
        and loses."""
        return await self.complete_with(Completion(channel, update_key, replies, now, failure))

    async def complete_with(self, completion: Completion) -> bool:
        result = await self.session.execute(COMPLETE, completion.parameters())
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def pending(self, channel: str, limit: int = 500) -> list[InboxEntry]:
        query = (
            select(INBOX.c.update_key, INBOX.c.payload, INBOX.c.status, INBOX.c.replies)
            .where(INBOX.c.status == PENDING, INBOX.c.channel == channel)
            .order_by(INBOX.c.id)
            .limit(limit)
        )
        return [
            InboxEntry(channel, key, payload, status, replies)
            for key, payload, status, replies in (await self.session.execute(query)).all()
        ]
