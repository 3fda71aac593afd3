"""Complaints and escalations: what the staff side picks up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.complaints import (
    Complaint,
    ComplaintGrade,
    ComplaintListing,
    Escalation,
    EscalationListing,
    EscalationMessage,
    EscalationReason,
    EscalationStatus,
    GradeProposal,
    MessageAuthor,
    NewComplaint,
    Satisfaction,
)
from bot.storage.models import ChannelAccount, Owner
from bot.storage.models import Complaint as ComplaintRow
from bot.storage.models import Escalation as EscalationRow
from bot.storage.models import EscalationMessage as MessageRow

COMPLAINT_OPEN = "open"


def _complaint(row: ComplaintRow) -> Complaint:
    details = NewComplaint(
        owner_id=row.owner_id,
        unit_id=row.unit_id,
        account_id=row.account_id,
        description=row.description,
        topic=row.topic,
        households=row.households,
        photos=tuple(row.photos),
        proposal=GradeProposal(ComplaintGrade(row.provisional_grade), tuple(row.grade_reasons)),
        order_due=row.order_due,
        resolve_due=row.resolve_due,
    )
    grade = ComplaintGrade(row.grade) if row.grade else None
    return Complaint(row.id, details, grade, row.status, row.created_at)


def _escalation(row: EscalationRow) -> Escalation:
    return Escalation(
        id=row.id,
        account_id=row.account_id,
        owner_id=row.owner_id,
        reason=EscalationReason(row.reason),
        complaint_id=row.complaint_id,
        status=EscalationStatus(row.status),
        assigned_to=row.assigned_to,
        due_at=row.due_at,
        created_at=row.created_at,
        claimed_at=row.claimed_at,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        satisfaction=Satisfaction(row.satisfaction) if row.satisfaction else None,
    )


def _message(row: MessageRow) -> EscalationMessage:
    return EscalationMessage(
        id=row.id,
        author_kind=MessageAuthor(row.author_kind),
        author=row.author,
        text=row.text,
        photo_path=row.photo_path,
        internal=row.internal,
        at=row.at,
    )


def _listing_query() -> Select[EscalationRow, str, str, str]:
    return (
        select(
            EscalationRow,
            ChannelAccount.channel,
            func.coalesce(Owner.name, ChannelAccount.display_name, ""),
            func.coalesce(ComplaintRow.grade, ComplaintRow.provisional_grade),
        )
        .join(ChannelAccount, ChannelAccount.id == EscalationRow.account_id)
        .outerjoin(Owner, Owner.id == EscalationRow.owner_id)
        .outerjoin(ComplaintRow, ComplaintRow.id == EscalationRow.complaint_id)
    )


class ComplaintRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, new: NewComplaint, now: datetime) -> Complaint:
        row = ComplaintRow(
            owner_id=new.owner_id,
            unit_id=new.unit_id,
            account_id=new.account_id,
            description=new.description,
            topic=new.topic,
            households=new.households,
            photos=list(new.photos),
            provisional_grade=new.proposal.grade.value,
            grade_reasons=list(new.proposal.reasons),
            status=COMPLAINT_OPEN,
            order_due=new.order_due,
            resolve_due=new.resolve_due,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return _complaint(row)

    async def get(self, complaint_id: int) -> Complaint | None:
        row = await self.session.get(ComplaintRow, complaint_id, populate_existing=True)
        return _complaint(row) if row else None

    async def set_grade(
        self, complaint_id: int, grade: ComplaintGrade, resolve_due: datetime
    ) -> None:
        await self.session.execute(
            update(ComplaintRow)
            .where(ComplaintRow.id == complaint_id)
            .values(grade=grade.value, resolve_due=resolve_due)
            .execution_options(synchronize_session=False)
        )

    async def listing(
        self, grade: ComplaintGrade | None = None, limit: int = 200, complaint_id: int | None = None
    ) -> list[ComplaintListing]:
        """Newest first; `grade` matches staff's grade, else the bot's proposal."""
        effective = func.coalesce(ComplaintRow.grade, ComplaintRow.provisional_grade)
        query = (
            select(ComplaintRow, Owner.name, func.max(EscalationRow.id))
            .join(Owner, Owner.id == ComplaintRow.owner_id)
            .outerjoin(EscalationRow, EscalationRow.complaint_id == ComplaintRow.id)
            .group_by(ComplaintRow.id, Owner.name)
            .order_by(ComplaintRow.id.desc())
            .limit(limit)
        )
        if grade is not None:
            query = query.where(effective == grade.value)
        if complaint_id is not None:
            query = query.where(ComplaintRow.id == complaint_id)
        rows = (await self.session.execute(query)).all()
        return [
            ComplaintListing(_complaint(row), name, escalation) for row, name, escalation in rows
        ]


class EscalationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        account_id: int,
        owner_id: int | None,
        reason: EscalationReason,
        due_at: datetime,
        now: datetime,
        complaint_id: int | None = None,
    ) -> Escalation:
        row = EscalationRow(
            account_id=account_id,
            owner_id=owner_id,
            reason=reason.value,
            complaint_id=complaint_id,
            status=EscalationStatus.WAITING.value,
            due_at=due_at,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return _escalation(row)

    async def open_for_account(self, account_id: int) -> Escalation | None:
        query = (
            select(EscalationRow)
            .where(
                EscalationRow.account_id == account_id,
                EscalationRow.status != EscalationStatus.CLOSED.value,
            )
            .order_by(EscalationRow.id.desc())
            .limit(1)
        )
        row = (await self.session.execute(query)).scalar_one_or_none()
        return _escalation(row) if row else None

    async def get(self, escalation_id: int) -> Escalation | None:
        row = await self.session.get(EscalationRow, escalation_id, populate_existing=True)
        return _escalation(row) if row else None

    async def add_message(
        self,
        escalation_id: int,
        kind: MessageAuthor,
        now: datetime,
        text: str,
        *,
        author: str = "",
        photo_path: str | None = None,
        internal: bool = False,
    ) -> int:
        row = MessageRow(
            escalation_id=escalation_id,
            author_kind=kind.value,
            author=author,
            text=text,
            photo_path=photo_path,
            internal=internal,
            at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def messages(
        self, escalation_id: int, *, after_id: int = 0, with_notes: bool = True
    ) -> list[EscalationMessage]:
        """In order; `after_id` gives only the newer ones (for live views)."""
        query = (
            select(MessageRow)
            .where(MessageRow.escalation_id == escalation_id, MessageRow.id > after_id)
            .order_by(MessageRow.id)
        )
        if not with_notes:
            query = query.where(MessageRow.internal.is_(False))
        return [_message(row) for row in (await self.session.execute(query)).scalars()]

    async def listing(
        self,
        status: EscalationStatus | None = None,
        *,
        due_before: datetime | None = None,
        escalation_id: int | None = None,
        limit: int = 200,
    ) -> list[EscalationListing]:
        """Soonest deadline first: what a person should answer next is on top."""
        query = _listing_query().order_by(EscalationRow.due_at, EscalationRow.id).limit(limit)
        if status is not None:
            query = query.where(EscalationRow.status == status.value)
        if due_before is not None:
            query = query.where(EscalationRow.due_at < due_before)
        if escalation_id is not None:
            query = query.where(EscalationRow.id == escalation_id)
        rows = (await self.session.execute(query)).all()
        return [
            EscalationListing(_escalation(row), channel, name, ComplaintGrade(g) if g else None)
            for row, channel, name, g in rows
        ]

    async def claim(self, escalation_id: int, staff: str, now: datetime) -> bool:
        """Waiting → active for `staff`; False when someone else changed it first."""
        return await self._change(
            escalation_id,
            EscalationRow.status == EscalationStatus.WAITING.value,
            status=EscalationStatus.ACTIVE.value,
            assigned_to=staff,
            claimed_at=now,
        )

    async def reassign(self, escalation_id: int, current: str, new: str) -> bool:
        return await self._change(
            escalation_id,
            (EscalationRow.status == EscalationStatus.ACTIVE.value)
            & (EscalationRow.assigned_to == current),
            assigned_to=new,
        )

    async def close(self, escalation_id: int, now: datetime, closed_by: str) -> bool:
        return await self._change(
            escalation_id,
            EscalationRow.status != EscalationStatus.CLOSED.value,
            status=EscalationStatus.CLOSED.value,
            closed_at=now,
            closed_by=closed_by,
        )

    async def mark_emergency(self, escalation_id: int) -> bool:
        return await self._change(
            escalation_id,
            EscalationRow.status != EscalationStatus.CLOSED.value,
            reason=EscalationReason.EMERGENCY.value,
        )

    async def rate(self, escalation_id: int, satisfaction: Satisfaction) -> bool:
        """Only a closed escalation, only once."""
        return await self._change(
            escalation_id,
            (EscalationRow.status == EscalationStatus.CLOSED.value)
            & EscalationRow.satisfaction.is_(None),
            satisfaction=satisfaction.value,
        )

    async def _change(self, escalation_id: int, condition: Any, **values: Any) -> bool:
        result = await self.session.execute(
            update(EscalationRow)
            .where(EscalationRow.id == escalation_id, condition)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]
