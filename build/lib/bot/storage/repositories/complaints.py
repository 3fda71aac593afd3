"""Complaints and escalations: what the staff side picks up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.complaints import (
    Complaint,
    ComplaintGrade,
    Escalation,
    EscalationReason,
    EscalationStatus,
    GradeProposal,
    NewComplaint,
)
from bot.storage.models import Complaint as ComplaintRow
from bot.storage.models import Escalation as EscalationRow
from bot.storage.models import EscalationMessage

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
        row = await self.session.get(ComplaintRow, complaint_id)
        return _complaint(row) if row else None


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
        self, escalation_id: int, author: str, now: datetime, text: str, photo_path: str | None
    ) -> None:
        self.session.add(
            EscalationMessage(
                escalation_id=escalation_id, author=author, text=text, photo_path=photo_path, at=now
            )
        )
        await self.session.flush()

    async def messages(self, escalation_id: int) -> list[tuple[str, str, str | None]]:
        """(author, text, photo path) in order."""
        query = (
            select(EscalationMessage.author, EscalationMessage.text, EscalationMessage.photo_path)
            .where(EscalationMessage.escalation_id == escalation_id)
            .order_by(EscalationMessage.id)
        )
        return [(a, t, p) for a, t, p in (await self.session.execute(query)).all()]

    async def close(self, escalation_id: int, now: datetime) -> None:
        await self.session.execute(
            update(EscalationRow)
            .where(EscalationRow.id == escalation_id)
            .values(status=EscalationStatus.CLOSED.value, closed_at=now)
            .execution_options(synchronize_session=False)
        )
