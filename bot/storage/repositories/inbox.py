"""The inbox of platform updates: persist before acknowledging, handle once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import ProcessedUpdate
from bot.storage.sql import insert_unless_exists

PENDING = "pending"
DONE = "done"


@dataclass(frozen=True)
class InboxEntry:
    channel: str
    update_key: str
    payload: dict[str, Any]
    status: str
    replies: list[Any] | None


def _entry(row: ProcessedUpdate) -> InboxEntry:
    return InboxEntry(row.channel, row.update_key, row.payload, row.status, row.replies)


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self, channel: str, update_key: str, payload: dict[str, Any], now: datetime
    ) -> InboxEntry | None:
        """Insert the update; returns the existing entry when it was recorded before."""
        inserted = await insert_unless_exists(
            self.session,
            ProcessedUpdate,
            {
                "channel": channel,
                "update_key": update_key,
                "payload": payload,
                "status": PENDING,
                "attempts": 0,
                "received_at": now,
            },
        )
        return None if inserted else await self.get(channel, update_key)

    async def get(self, channel: str, update_key: str) -> InboxEntry | None:
        row = await self._row(channel, update_key)
        return _entry(row) if row else None

    async def _row(self, channel: str, update_key: str) -> ProcessedUpdate | None:
        query = select(ProcessedUpdate).where(
            ProcessedUpdate.channel == channel, ProcessedUpdate.update_key == update_key
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def claim(self, channel: str, update_key: str) -> InboxEntry | None:
        """Count an attempt and lock the row until commit (on PostgreSQL the UPDATE holds the
        row lock, so two processes never handle one update at the same time)."""
        statement = (
            update(ProcessedUpdate)
            .where(ProcessedUpdate.channel == channel, ProcessedUpdate.update_key == update_key)
            .values(attempts=ProcessedUpdate.attempts + 1)
            .returning(ProcessedUpdate.payload, ProcessedUpdate.status, ProcessedUpdate.replies)
        )
        row = (await self.session.execute(statement)).first()
        if row is None:
            return None
        payload, status, replies = row
        return InboxEntry(channel, update_key, payload, status, replies)

    async def mark_done(
        self, channel: str, update_key: str, replies: list[Any], now: datetime
    ) -> None:
        await self.session.execute(
            update(ProcessedUpdate)
            .where(ProcessedUpdate.channel == channel, ProcessedUpdate.update_key == update_key)
            .values(status=DONE, replies=replies, handled_at=now)
        )

    async def pending(self, channel: str, limit: int = 500) -> list[InboxEntry]:
        query = (
            select(ProcessedUpdate)
            .where(ProcessedUpdate.status == PENDING, ProcessedUpdate.channel == channel)
            .order_by(ProcessedUpdate.id)
            .limit(limit)
        )
        return [_entry(row) for row in (await self.session.execute(query)).scalars()]
