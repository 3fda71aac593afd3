"""Complaints: graded provisionally, given their 督办令 deadline and queued for staff as an
escalation; staff set the grade (with a reason). Requests for a person: services/escalations.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.complaints import (
    Complaint,
    ComplaintError,
    ComplaintGrade,
    ComplaintListing,
    Escalation,
    NewComplaint,
)
from bot.domain.rules import CompanyRules
from bot.domain.staff import StaffUser
from bot.services.escalations import open_for_complaint
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
    return complaint, await open_for_complaint(uow, complaint, now)


#: Longest reason staff may give for a grade.
MAX_GRADE_REASON = 500


async def list_complaints(
    uow: UnitOfWork,
    grade: ComplaintGrade | None = None,
    limit: int = 200,
    complaint_id: int | None = None,
) -> list[ComplaintListing]:
    """Newest first; `grade` filters on staff's grade, else the bot's proposal."""
    return await uow.complaints.listing(grade, limit, complaint_id)


async def set_complaint_grade(
    uow: UnitOfWork,
    rules: CompanyRules,
    complaint_id: int,
    grade: ComplaintGrade,
    reason: str,
    staff: StaffUser,
    now: datetime,
    tz: ZoneInfo,
) -> Complaint:
    """客服部 grade a complaint "根据影响程度" (000), always with a reason, in the audit log.
    The resolution deadline follows the grade, counted from when the complaint came in.
    Raises `ComplaintError` ("not_found", "reason_needed", "reason_too_long")."""
    reason = reason.strip()
    if not reason:
        raise ComplaintError("reason_needed")
    if len(reason) > MAX_GRADE_REASON:
        raise ComplaintError("reason_too_long")
    complaint = await uow.complaints.get(complaint_id)
    if complaint is None:
        raise ComplaintError("not_found")
    _, resolve_due = rules.complaint.deadlines(
        grade, complaint.created_at.astimezone(tz), rules.service_hours
    )
    await uow.complaints.set_grade(complaint.id, grade, resolve_due)
    await uow.audit.record(
        actor=staff.actor,
        action="complaint_grade",
        subject=f"complaint:{complaint.id}",
        at=now,
        old=(complaint.grade or complaint.details.proposal.grade).value,
        new=grade.value,
        reason=reason,
    )
    graded = await uow.complaints.get(complaint.id)
    assert graded is not None
    return graded
