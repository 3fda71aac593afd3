"""Read-only figures about the shared backlog, for `/metrics`: outbox and escalations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.complaints import EscalationStatus
from bot.storage.models import Escalation, OutboxMessage
from bot.storage.repositories.outbox import DEAD, OPEN, SENT


@dataclass(frozen=True)
class Backlog:
    outbox_due: int
    outbox_sent: int
    outbox_failed: int
    oldest_due_at: datetime | None
    escalations_waiting: int
    escalations_overdue: int


async def backlog(session: AsyncSession, now: datetime) -> Backlog:
    unclaimed = OutboxMessage.claimed_until.is_(None) | (OutboxMessage.claimed_until < now)
    due = OutboxMessage.status.in_(OPEN) & (OutboxMessage.due_at <= now) & unclaimed
    outbox = select(
        func.count().filter(due),
        func.count().filter(OutboxMessage.status == SENT),
        # "failed" is what was given up on (dead); dropped rows had no reader left.
        func.count().filter(OutboxMessage.status == DEAD),
        func.min(OutboxMessage.due_at).filter(due),
    )
    waiting = Escalation.status == EscalationStatus.WAITING.value
    late = (Escalation.status != EscalationStatus.CLOSED.value) & (Escalation.due_at < now)
    escalations = select(func.count().filter(waiting), func.count().filter(late))
    due_count, sent, failed, oldest = (await session.execute(outbox)).one()
    waiting_count, overdue = (await session.execute(escalations)).one()
    return Backlog(due_count, sent, failed, oldest, waiting_count, overdue)
