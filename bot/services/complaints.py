"""Complaints and requests for a person: both end as an escalation a staff member picks up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.complaints import (
    MESSAGE_FROM_USER,
    Complaint,
    Escalation,
    EscalationReason,
    NewComplaint,
)
from bot.domain.rules import CompanyRules
from bot.storage.uow import UnitOfWork


@dataclass(frozen=True)
class ComplaintReport:
    """What the owner told the bot."""

    unit_id: int | None
    description: str
    topic: str
    households: int
    photos: tuple[str, ...]


async def file_complaint(
    uow: UnitOfWork,
    rules: CompanyRules,
    report: ComplaintReport,
    owner_id: int,
    account_id: int,
    now: datetime,
    tz: ZoneInfo,
) -> tuple[Complaint, Escalation]:
    """Grade provisionally, set the 督办令 deadline and queue it for staff."""
    grading = rules.complaint
    proposal = grading.propose_grade(report.description, report.households, report.topic)
    order_due, resolve_due = grading.deadlines(
        proposal.grade, now.astimezone(tz), rules.service_hours
    )
    complaint = await uow.complaints.add(
        NewComplaint(
            owner_id=owner_id,
            unit_id=report.unit_id,
            account_id=account_id,
            description=report.description,
            topic=report.topic,
            households=report.households,
            photos=report.photos,
            proposal=proposal,
            order_due=order_due,
            resolve_due=resolve_due,
        ),
        now,
    )
    escalation = await uow.escalations.add(
        account_id=account_id,
        owner_id=owner_id,
        reason=EscalationReason.COMPLAINT,
        due_at=order_due,
        now=now,
        complaint_id=complaint.id,
    )
    return complaint, escalation


async def request_person(
    uow: UnitOfWork,
    rules: CompanyRules,
    account_id: int,
    owner_id: int | None,
    now: datetime,
    tz: ZoneInfo,
) -> tuple[Escalation, bool]:
    """The account's open escalation, or a new one due at the first-reply time; True if new."""
    existing = await uow.escalations.open_for_account(account_id)
    if existing is not None:
        return existing, False
    reason = EscalationReason.HUMAN_REQUESTED
    return await _waiting(uow, rules, account_id, owner_id, reason, now, tz), True


async def _waiting(
    uow: UnitOfWork,
    rules: CompanyRules,
    account_id: int,
    owner_id: int | None,
    reason: EscalationReason,
    now: datetime,
    tz: ZoneInfo,
) -> Escalation:
    """A new escalation, due at the first-reply time after the next service hour."""
    return await uow.escalations.add(
        account_id=account_id,
        owner_id=owner_id,
        reason=reason,
        due_at=rules.complaint.first_reply_due(now.astimezone(tz), rules.service_hours),
        now=now,
    )


async def escalate_low_score(
    uow: UnitOfWork,
    rules: CompanyRules,
    account_id: int,
    owner_id: int,
    summary: str,
    now: datetime,
    tz: ZoneInfo,
) -> Escalation:
    """A low score hands the owner to staff with what they said: added to the account's open
    escalation, or a new one due at the first-reply time (as `request_person`)."""
    escalation = await uow.escalations.open_for_account(account_id)
    if escalation is None:
        reason = EscalationReason.LOW_SCORE
        escalation = await _waiting(uow, rules, account_id, owner_id, reason, now, tz)
    await uow.escalations.add_message(escalation.id, MESSAGE_FROM_USER, now, summary, None)
    return escalation
