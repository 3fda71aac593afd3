"""The JSON shapes of the staff REST API (they are the OpenAPI schema at /openapi.json).

Field names are a contract (issue 15): `id`, `status`, `channel`, `owner_name`, `due_at`,
`grade` and `messages` (`author`: owner|staff|bot, `text`, `at`) on escalations, ticket status
names of the domain, `{"grade", "reason"}` for a grade.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, StringConstraints

from bot.domain.alerts import AlertKind, Audience, StaffAlert
from bot.domain.certificates import CertificateCase
from bot.domain.complaints import (
    ComplaintGrade,
    ComplaintListing,
    EscalationListing,
    EscalationMessage,
    EscalationReason,
    EscalationStatus,
    MessageAuthor,
    Satisfaction,
)
from bot.domain.staff import StaffRole, StaffUser
from bot.domain.tickets import Ticket, TicketEvent, TicketStatus

MAX_ID = 2**31 - 1


def _no_nul(value: str) -> str:
    """PostgreSQL text cannot hold NUL: refuse it here as bad input, not later as a crash."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


MessageText = Annotated[
    str, StringConstraints(min_length=1, max_length=2000), AfterValidator(_no_nul)
]
Note = Annotated[str, StringConstraints(max_length=1000), AfterValidator(_no_nul)]
Username = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_no_nul)]


class FieldError(BaseModel):
    """Where a request is malformed and why (never the value sent)."""

    loc: list[str]
    msg: str
    type: str


class Refusal(BaseModel):
    """Every 4xx answer: `detail` is a code (`not_found`, `needs_role_admin`, `unknown_stage`,
    `too_many_attempts`…), or for malformed input the list of what is wrong where; `message`
    adds words for people."""

    detail: str | list[FieldError]
    message: str | None = None


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class StaffOut(BaseModel):
    username: str
    role: StaffRole
    display_name: str
    active: bool
    telegram_user_id: int | None

    @classmethod
    def of(cls, user: StaffUser) -> StaffOut:
        return cls(
            username=user.username,
            role=user.role,
            display_name=user.display_name,
            active=user.active,
            telegram_user_id=user.telegram_user_id,
        )


class StaffIn(BaseModel):
    username: Username
    password: Annotated[str, StringConstraints(max_length=256), AfterValidator(_no_nul)]
    role: StaffRole
    display_name: Annotated[str, StringConstraints(max_length=100), AfterValidator(_no_nul)] = ""
    telegram_user_id: int | None = Field(default=None, ge=1, le=2**62)


class RoleIn(BaseModel):
    role: StaffRole


class MessageOut(BaseModel):
    id: int
    author: MessageAuthor
    #: The staff login for staff lines, else null.
    staff: str | None
    text: str
    #: Path under MEDIA_DIR of a photo sent with it, else null.
    photo: str | None
    at: datetime

    @classmethod
    def of(cls, message: EscalationMessage) -> MessageOut:
        return cls(
            id=message.id,
            author=message.author_kind,
            staff=message.author or None,
            text=message.text,
            photo=message.photo_path,
            at=message.at,
        )


class EscalationOut(BaseModel):
    id: int
    status: EscalationStatus
    channel: str
    owner_name: str
    due_at: datetime
    #: Staff's grade, else the bot's proposal; null when it is not a complaint.
    grade: ComplaintGrade | None
    reason: EscalationReason
    complaint_id: int | None
    assigned_to: str | None
    overdue: bool
    created_at: datetime
    claimed_at: datetime | None
    closed_at: datetime | None
    satisfaction: Satisfaction | None
    #: What the owner, staff and the bot said, in order (notes are not here).
    messages: list[MessageOut]
    #: Staff notes, never shown to the owner.
    notes: list[MessageOut]

    @classmethod
    def of(
        cls, listing: EscalationListing, messages: list[EscalationMessage], now: datetime
    ) -> EscalationOut:
        escalation = listing.escalation
        return cls(
            id=escalation.id,
            status=escalation.status,
            channel=listing.channel,
            owner_name=listing.owner_name,
            due_at=escalation.due_at,
            grade=listing.grade,
            reason=escalation.reason,
            complaint_id=escalation.complaint_id,
            assigned_to=escalation.assigned_to,
            overdue=escalation.overdue(now),
            created_at=escalation.created_at,
            claimed_at=escalation.claimed_at,
            closed_at=escalation.closed_at,
            satisfaction=escalation.satisfaction,
            messages=[MessageOut.of(m) for m in messages if not m.internal],
            notes=[MessageOut.of(m) for m in messages if m.internal],
        )


class TextIn(BaseModel):
    text: MessageText


class TransferIn(BaseModel):
    #: The staff login who takes it over.
    to: Username


class EventOut(BaseModel):
    kind: str
    #: "owner:<id>", "staff:<login>" or "system:<job>".
    actor: str
    at: datetime
    from_status: TicketStatus | None
    to_status: TicketStatus | None
    note: str
    photos: list[str]

    @classmethod
    def of(cls, event: TicketEvent) -> EventOut:
        return cls(
            kind=event.kind.value,
            actor=str(event.actor),
            at=event.at,
            from_status=event.from_status,
            to_status=event.to_status,
            note=event.note,
            photos=list(event.photos),
        )


class TicketOut(BaseModel):
    id: int
    number: str
    status: TicketStatus
    home: str
    category: str
    description: str
    location: str
    contact_time: str
    urgency: str
    warranty: str
    warranty_until: date | None
    is_repeat: bool
    photos: list[str]
    respond_by: datetime
    visit_by: datetime
    resolve_by: datetime
    assignee: str | None
    appointment_at: datetime | None
    created_at: datetime
    updated_at: datetime
    #: Only in the detail (GET /tickets/{id}): the whole timeline, the owner's answers included.
    events: list[EventOut] | None = None

    @classmethod
    def of(cls, ticket: Ticket, events: list[TicketEvent] | None = None) -> TicketOut:
        return cls(
            id=ticket.id,
            number=ticket.number,
            status=ticket.status,
            home=ticket.home_label,
            category=ticket.category,
            description=ticket.description,
            location=ticket.location,
            contact_time=ticket.contact_time,
            urgency=ticket.urgency.value,
            warranty=ticket.warranty.status.value,
            warranty_until=ticket.warranty.until,
            is_repeat=ticket.is_repeat,
            photos=list(ticket.photos),
            respond_by=ticket.respond_by,
            visit_by=ticket.visit_by,
            resolve_by=ticket.resolve_by,
            assignee=ticket.assignee,
            appointment_at=ticket.appointment_at,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            events=None if events is None else [EventOut.of(e) for e in events],
        )


class TicketStatusIn(BaseModel):
    status: TicketStatus
    #: Shown to the owner; required to reject (the reason).
    note: Note = ""
    #: Required to dispatch: who goes.
    assignee: Annotated[str, StringConstraints(max_length=100), AfterValidator(_no_nul)] | None = (
        None
    )
    appointment_at: AwareDatetime | None = None


class ComplaintOut(BaseModel):
    id: int
    owner_name: str
    #: Staff's grade; null until they set one.
    grade: ComplaintGrade | None
    provisional_grade: ComplaintGrade
    grade_reasons: list[str]
    description: str
    topic: str
    households: int
    photos: list[str]
    status: str
    order_due: datetime
    resolve_due: datetime
    created_at: datetime
    escalation_id: int | None

    @classmethod
    def of(cls, listing: ComplaintListing) -> ComplaintOut:
        complaint = listing.complaint
        details = complaint.details
        return cls(
            id=complaint.id,
            owner_name=listing.owner_name,
            grade=complaint.grade,
            provisional_grade=details.proposal.grade,
            grade_reasons=list(details.proposal.reasons),
            description=details.description,
            topic=details.topic,
            households=details.households,
            photos=list(details.photos),
            status=complaint.status,
            order_due=details.order_due,
            resolve_due=details.resolve_due,
            created_at=complaint.created_at,
            escalation_id=listing.escalation_id,
        )


class GradeIn(BaseModel):
    grade: ComplaintGrade
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500), AfterValidator(_no_nul)]


class CertificateOut(BaseModel):
    id: int
    unit_id: int
    home: str
    mortgage: bool
    stage: str
    stage_date: date
    eta: date | None
    outstanding: list[str]
    note: str
    updated_at: datetime

    @classmethod
    def of(cls, case: CertificateCase, home: str) -> CertificateOut:
        return cls(
            id=case.id,
            unit_id=case.unit_id,
            home=home,
            mortgage=case.mortgage,
            stage=case.stage,
            stage_date=case.stage_date,
            eta=case.eta,
            outstanding=list(case.outstanding),
            note=case.note,
            updated_at=case.updated_at,
        )


StageId = Annotated[str, StringConstraints(min_length=1, max_length=40), AfterValidator(_no_nul)]


class StageIn(BaseModel):
    stage: StageId
    #: Defaults to today (local).
    stage_date: date | None = None
    #: Shown to the owner; omitted keeps the case's note.
    note: Note | None = None


class BulkStageIn(StageIn):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=1000)


class AlertOut(BaseModel):
    """An alert the deadline watcher raised (once per escalation and kind)."""

    id: int
    escalation_id: int
    #: overdue (not acknowledged by its deadline), complaint_g1, emergency.
    kind: AlertKind
    #: supervisor, management or on_duty (rules.yaml staff_alerts).
    audience: Audience
    created_at: datetime
    #: When it was posted in the Telegram staff group; null when not (yet).
    posted_at: datetime | None

    @classmethod
    def of(cls, alert: StaffAlert) -> AlertOut:
        return cls(
            id=alert.id,
            escalation_id=alert.escalation_id,
            kind=alert.kind,
            audience=alert.audience,
            created_at=alert.created_at,
            posted_at=alert.posted_at,
        )
