"""The outbox: messages the bot starts, each delivered once by whichever worker claims it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import ChannelAccount, OutboxMessage
from bot.storage.sql import insert_unless_exists, table_of

OUTBOX = table_of(OutboxMessage)
ACCOUNTS = table_of(ChannelAccount)
PENDING = "pending"
SENT = "sent"
FAILED = "failed"


@dataclass(frozen=True)
class OutboxItem:
    id: int
    account_id: int
    channel: str
    user_id: str
    last_inbound_at: datetime | None
    #: The owner's language, for the channel's own wording around the message.
    language: str
    purpose: str
    replies: list[Any]
    attempts: int


@dataclass(frozen=True)
class OutboxPage:
    """A pushed message as its web page shows it."""

    replies: list[Any]
    language: str
    created_at: datetime


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        account_id: int,
        purpose: str,
        idempotency_key: str,
        replies: list[Any],
        due_at: datetime,
        now: datetime,
    ) -> bool:
        """Queue a message; False when the same idempotency key was queued before."""
        return await insert_unless_exists(
            self.session,
            OutboxMessage,
            {
                "account_id": account_id,
                "purpose": purpose,
                "idempotency_key": idempotency_key,
                "replies": replies,
                "due_at": due_at,
                "status": PENDING,
                "attempts": 0,
                "created_at": now,
            },
        )

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxItem]:
        """Take due rows for this worker, disjoint from every other worker's.

        One UPDATE whose subquery picks the rows: SQLite runs it under its single write lock,
        PostgreSQL skips rows another worker has locked (`SKIP LOCKED`). The lease
        (`claimed_until`) lets a later tick take over the rows of a worker that crashed.
        """
        due = (
            select(OUTBOX.c.id)
            .where(
                OUTBOX.c.status == PENDING,
                OUTBOX.c.due_at <= now,
                or_(OUTBOX.c.claimed_until.is_(None), OUTBOX.c.claimed_until < now),
            )
            .order_by(OUTBOX.c.due_at, OUTBOX.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(due.scalar_subquery()))
            .values(claimed_until=now + lease, attempts=OUTBOX.c.attempts + 1)
            .returning(
                OUTBOX.c.id,
                OUTBOX.c.account_id,
                OUTBOX.c.purpose,
                OUTBOX.c.replies,
                OUTBOX.c.attempts,
            )
        )
        claimed = sorted((await self.session.execute(claim)).all())
        accounts = await self._recipients({row.account_id for row in claimed})
        return [
            OutboxItem(
                id=row.id,
                account_id=row.account_id,
                channel=accounts[row.account_id].channel,
                user_id=accounts[row.account_id].platform_user_id,
                last_inbound_at=accounts[row.account_id].last_inbound_at,
                language=accounts[row.account_id].language,
                purpose=row.purpose,
                replies=row.replies,
                attempts=row.attempts,
            )
            for row in claimed
        ]

    async def _recipients(self, account_ids: set[int]) -> dict[int, Any]:
        if not account_ids:
            return {}
        query = select(
            ACCOUNTS.c.id,
            ACCOUNTS.c.channel,
            ACCOUNTS.c.platform_user_id,
            ACCOUNTS.c.language,
            ACCOUNTS.c.last_inbound_at,
        ).where(ACCOUNTS.c.id.in_(account_ids))
        return {row.id: row for row in (await self.session.execute(query)).all()}

    async def page(self, message_id: int) -> OutboxPage | None:
        query = (
            select(OutboxMessage, ChannelAccount.language)
            .join(ChannelAccount, ChannelAccount.id == OutboxMessage.account_id)
            .where(OutboxMessage.id == message_id)
        )
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        message, language = row
        return OutboxPage(message.replies, language, message.created_at)

    async def mark_sent(self, item_id: int, now: datetime) -> None:
        await self._set(item_id, status=SENT, sent_at=now, claimed_until=None)

    async def retry_later(self, item_id: int, due_at: datetime, error: str) -> None:
        await self._set(item_id, due_at=due_at, last_error=error[:500], claimed_until=None)

    async def give_up(self, item_id: int, error: str) -> None:
        await self._set(item_id, status=FAILED, last_error=error[:500], claimed_until=None)

    async def _set(self, item_id: int, **values: Any) -> None:
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == item_id).values(**values)
        )
