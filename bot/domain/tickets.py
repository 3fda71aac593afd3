"""The repair ticket and its lifecycle.

    submitted → accepted → dispatched → in_progress → completed → confirmed → closed
    cancelled: by the owner (or staff) before dispatch
    rejected:  staff decline it, always with a reason (domain §8, DEFAULT: "reason required")
    reopened:  the owner says "not fixed" (or a low survey score) → staff accept or dispatch again

Every change is a `TicketEvent` with actor and time ("事事有记录,事事有结果", 002). The table
below is the whole rule; anything not in it is refused with `IllegalTransition`, and an owner
may only make the moves in `OWNER_MOVES` — the rest are staff's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.repair import Urgency
from bot.domain.warranty import WarrantyDecision


class TicketStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    CLOSED = "closed"
    REOPENED = "reopened"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


S = TicketStatus
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.SUBMITTED: frozenset({S.ACCEPTED, S.CANCELLED, S.REJECTED}),
    # A site survey can show it is no defect of ours after all.
    S.ACCEPTED: frozenset({S.DISPATCHED, S.CANCELLED, S.REJECTED}),
    S.DISPATCHED: frozenset({S.IN_PROGRESS}),
    S.IN_PROGRESS: frozenset({S.COMPLETED}),
    # Staff may close a completed ticket the owner never answers.
    S.COMPLETED: frozenset({S.CONFIRMED, S.REOPENED, S.CLOSED}),
    # A low satisfaction score after confirmation reopens it (domain §5).
    S.CONFIRMED: frozenset({S.CLOSED, S.REOPENED}),
    S.REOPENED: frozenset({S.ACCEPTED, S.DISPATCHED, S.REJECTED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
}
OWNER_MOVES = frozenset(
    {
        (S.SUBMITTED, S.CANCELLED),
        (S.ACCEPTED, S.CANCELLED),
        (S.COMPLETED, S.CONFIRMED),
        (S.COMPLETED, S.REOPENED),
    }
)
#: Still needs someone's action; listed first and offered for "add to it".
OPEN_STATUSES = frozenset(TicketStatus) - {S.CONFIRMED, S.CLOSED, S.CANCELLED, S.REJECTED}
#: Fixed to the owner's satisfaction (or closed by staff): counts towards "repeat repair".
RESOLVED_STATUSES = frozenset({S.CONFIRMED, S.CLOSED})


class ActorKind(enum.StrEnum):
    OWNER = "owner"
    STAFF = "staff"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    #: Owner id, staff login, or the job's name.
    name: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.name}"

    @classmethod
    def parse(cls, value: str) -> Actor:
        kind, _, name = value.partition(":")
        return cls(ActorKind(kind), name)


class TicketError(Exception):
    """A ticket change the rules forbid; `reason` is a locale key suffix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IllegalTransition(TicketError):
    def __init__(self, current: TicketStatus, new: TicketStatus, actor: Actor) -> None:
        super().__init__("illegal_transition")
        self.current, self.new, self.actor = current, new, actor

    def __str__(self) -> str:
        return f"{self.actor} cannot move a ticket from {self.current} to {self.new}"


def check_transition(current: TicketStatus, new: TicketStatus, actor: Actor) -> None:
    if new not in TRANSITIONS[current]:
        raise IllegalTransition(current, new, actor)
    if actor.kind is ActorKind.OWNER and (current, new) not in OWNER_MOVES:
        raise IllegalTransition(current, new, actor)


def can_comment(status: TicketStatus) -> bool:
    """Closed and cancelled tickets are history: a new problem is a new report."""
    return status not in {S.CLOSED, S.CANCELLED, S.REJECTED}


class EventKind(enum.StrEnum):
    STATUS = "status"
    COMMENT = "comment"


@dataclass(frozen=True)
class Ticket:
    id: int
    number: str
    unit_id: int
    home_label: str
    owner_id: int
    category: str
    description: str
    location: str
    contact_time: str
    photos: tuple[str, ...]
    status: TicketStatus
    urgency: Urgency
    warranty: WarrantyDecision
    is_repeat: bool
    respond_by: datetime
    visit_by: datetime
    resolve_by: datetime
    created_at: datetime
    updated_at: datetime
    #: Who was sent and when they will come; set on dispatch.
    assignee: str | None = None
    appointment_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class TicketEvent:
    id: int
    ticket_id: int
    kind: EventKind
    actor: Actor
    at: datetime
    from_status: TicketStatus | None = None
    to_status: TicketStatus | None = None
    note: str = ""
    photos: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewTicket:
    """What the owner reported, with the decisions taken on it; storage adds id and number."""

    unit_id: int
    owner_id: int
    account_id: int
    category: str
    description: str
    location: str
    contact_time: str
    photos: tuple[str, ...]
    urgency: Urgency
    warranty: WarrantyDecision
    is_repeat: bool
    respond_by: datetime
    visit_by: datetime
    resolve_by: datetime
    local_day: date


def sort_for_owner(tickets: list[Ticket]) -> list[Ticket]:
    """Open tickets first, newest first within each group."""
    return sorted(tickets, key=lambda t: (not t.is_open, -t.created_at.timestamp()))
