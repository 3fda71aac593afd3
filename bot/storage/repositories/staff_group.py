"""Staff-group topics and staff alerts: claimed with conditional updates, so several instances
(or a restart) never create a topic twice or post an alert twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.alerts import AlertKind, Audience, StaffAlert
from bot.domain.complaints import EscalationStatus
from bot.storage.models import Escalation as EscalationRow
from bot.storage.models import StaffAlert as AlertRow
from bot.storage.models import StaffTopic as TopicRow
from bot.storage.sql import insert_unless_exists


@dataclass(frozen=True)
class Topic:
    escalation_id: int
    chat_id: int
    thread_id: int | None
    shown_up_to: int


def _topic(row: TopicRow) -> Topic:
    return Topic(row.escalation_id, row.chat_id, row.thread_id, row.shown_up_to)


def _alert(row: AlertRow) -> StaffAlert:
    return StaffAlert(
        row.id,
        row.escalation_id,
        AlertKind(row.kind),
        Audience(row.audience),
        row.created_at,
        row.posted_at,
    )


class StaffGroupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- topics ----------------------------------------------------------------------------

    async def add_missing_topics(self, chat_id: int, now: datetime) -> None:
        """A topic row (not yet created in Telegram) for every open escalation without one."""
        query = (
            select(EscalationRow.id)
            .outerjoin(TopicRow, TopicRow.escalation_id == EscalationRow.id)
            .where(
                EscalationRow.status != EscalationStatus.CLOSED.value,
                TopicRow.escalation_id.is_(None),
            )
        )
        for escalation_id in (await self.session.execute(query)).scalars():
            await insert_unless_exists(
                self.session,
                TopicRow,
                {
                    "escalation_id": escalation_id,
                    "chat_id": chat_id,
                    "thread_id": None,
                    "shown_up_to": 0,
                    "lease_until": None,
                    "created_at": now,
                },
            )

    async def claim_topics(self, chat_id: int, now: datetime, lease: timedelta) -> list[Topic]:
        """Topics of open escalations in this chat with nothing else working on them, leased
        to the caller (a closed escalation's topic gets nothing new)."""
        free = (
            select(TopicRow.escalation_id)
            .join(EscalationRow, EscalationRow.id == TopicRow.escalation_id)
            .where(
                TopicRow.chat_id == chat_id,
                EscalationRow.status != EscalationStatus.CLOSED.value,
                or_(TopicRow.lease_until.is_(None), TopicRow.lease_until < now),
            )
        )
        claimed = []
        for escalation_id in (await self.session.execute(free)).scalars().all():
            result = await self.session.execute(
                update(TopicRow)
                .where(
                    TopicRow.escalation_id == escalation_id,
                    or_(TopicRow.lease_until.is_(None), TopicRow.lease_until < now),
                )
                .values(lease_until=now + lease)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                row = await self.session.get(TopicRow, escalation_id, populate_existing=True)
                assert row is not None
                claimed.append(_topic(row))
        return claimed

    async def topic_created(self, escalation_id: int, thread_id: int) -> None:
        await self._set_topic(escalation_id, thread_id=thread_id)

    async def topic_shown(self, escalation_id: int, message_id: int) -> None:
        await self._set_topic(escalation_id, shown_up_to=message_id)

    async def release_topic(self, escalation_id: int) -> None:
        await self._set_topic(escalation_id, lease_until=None)

    async def topic_of(self, escalation_id: int) -> Topic | None:
        row = await self.session.get(TopicRow, escalation_id, populate_existing=True)
        return _topic(row) if row else None

    async def escalation_in_thread(self, chat_id: int, thread_id: int) -> int | None:
        query = select(TopicRow.escalation_id).where(
            TopicRow.chat_id == chat_id, TopicRow.thread_id == thread_id
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def _set_topic(self, escalation_id: int, **values: object) -> None:
        await self.session.execute(
            update(TopicRow)
            .where(TopicRow.escalation_id == escalation_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    # -- alerts ----------------------------------------------------------------------------

    async def add_alert(
        self, escalation_id: int, kind: AlertKind, audience: Audience, now: datetime
    ) -> bool:
        """False when this escalation already had this kind of alert (raised once, ever)."""
        return await insert_unless_exists(
            self.session,
            AlertRow,
            {
                "escalation_id": escalation_id,
                "kind": kind.value,
                "audience": audience.value,
                "created_at": now,
                "posted_at": None,
            },
        )

    async def alerts(self, *, unposted: bool = False, limit: int = 200) -> list[StaffAlert]:
        """Newest first; `unposted`: oldest first, only those not yet in the staff group."""
        query = select(AlertRow).limit(limit)
        if unposted:
            query = query.where(AlertRow.posted_at.is_(None)).order_by(AlertRow.id)
        else:
            query = query.order_by(AlertRow.id.desc())
        return [_alert(row) for row in (await self.session.execute(query)).scalars()]

    async def mark_posted(self, alert_id: int, now: datetime) -> bool:
        """Only one instance wins an alert; it then posts it."""
        result = await self.session.execute(
            update(AlertRow)
            .where(AlertRow.id == alert_id, AlertRow.posted_at.is_(None))
            .values(posted_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]
