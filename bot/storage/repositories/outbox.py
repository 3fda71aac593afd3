"""The outbox: messages the bot starts, each delivered once by whichever worker claims it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import ChannelAccount, OutboxMessage
from bot.storage.sql import insert_unless_exists

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
    purpose: str
    replies: list[Any]
    attempts: int


@dataclass(frozen=True)
class OutboxPage:
    """A pushed message as its web page shows it."""

    replies: list[Any]
    language: str
    purpose: str
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
        """Take due rows for this worker. On PostgreSQL `SKIP LOCKED` keeps workers disjoint;
        the lease (`claimed_until`) lets another worker pick up rows of one that crashed."""
        query = (
            select(OutboxMessage, ChannelAccount)
            .join(ChannelAccount, ChannelAccount.id == OutboxMessage.account_id)
            .where(
                OutboxMessage.status == PENDING,
                OutboxMessage.due_at <= now,
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
            )
            .order_by(OutboxMessage.due_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=OutboxMessage)
        )
        items = []
        for message, account in (await self.session.execute(query)).all():
            message.claimed_until = now + lease
            message.attempts += 1
            items.append(
                OutboxItem(
                    id=message.id,
                    account_id=account.id,
                    channel=account.channel,
                    user_id=account.platform_user_id,
                    last_inbound_at=account.last_inbound_at,
                    purpose=message.purpose,
                    replies=message.replies,
                    attempts=message.attempts,
                )
            )
        return items

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
        return OutboxPage(message.replies, language, message.purpose, message.created_at)

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
