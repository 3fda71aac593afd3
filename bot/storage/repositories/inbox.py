"""The inbox of platform updates: persist before acknowledging, handle once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import ProcessedUpdate

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
        try:
            async with self.session.begin_nested():
                self.session.add(
                    ProcessedUpdate(
                        channel=channel,
                        update_key=update_key,
                        payload=payload,
                        status=PENDING,
                        attempts=0,
                        received_at=now,
                    )
                )
        except IntegrityError:
            return await self.get(channel, update_key)
        return None

    async def get(self, channel: str, update_key: str) -> InboxEntry | None:
        row = await self._row(channel, update_key)
        return _entry(row) if row else None

    async def _row(self, channel: str, update_key: str) -> ProcessedUpdate | None:
        query = select(ProcessedUpdate).where(
            ProcessedUpdate.channel == channel, ProcessedUpdate.update_key == update_key
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def claim(self, channel: str, update_key: str) -> InboxEntry | None:
        """Lock a pending update for handling; None if it is done (or gone)."""
        query = (
            select(ProcessedUpdate)
            .where(ProcessedUpdate.channel == channel, ProcessedUpdate.update_key == update_key)
            .with_for_update()
        )
        row = (await self.session.execute(query)).scalar_one_or_none()
        if row is None:
            return None
        row.attempts += 1
        return _entry(row)

    async def mark_done(
        self, channel: str, update_key: str, replies: list[Any], now: datetime
    ) -> None:
        await self.session.execute(
            update(ProcessedUpdate)
            .where(ProcessedUpdate.channel == channel, ProcessedUpdate.update_key == update_key)
            .values(status=DONE, replies=replies, handled_at=now)
        )

    async def pending(self, limit: int = 500) -> list[InboxEntry]:
        query = (
            select(ProcessedUpdate)
            .where(ProcessedUpdate.status == PENDING)
            .order_by(ProcessedUpdate.id)
            .limit(limit)
        )
        return [_entry(row) for row in (await self.session.execute(query)).scalars()]
