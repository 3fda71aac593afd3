"""Complaint grading and deadlines, and the escalation a person picks up (domain §4).

The bot only *proposes* a grade; 客服部 staff set it ("根据影响程度", 000):

- 一级 G1: a behaviour the source names ("拉条幅、穿统一服装、聚众讨说法、上访政府", 000),
  one of the company's own additions (媒体, 记者, 报警…: `g1_company_keywords`), or
  `group_people_g1`+ people ("10人以上客户", people, not households);
- 二级 G2: a G2 keyword, `group_households_g2`+ households, or a topic with group risk
  (规划设计、工程进度、重大质量、配套功能变更、教育配套, 000 第六条);
- 三级 G3: everything else ("一般、单户的投诉未涉及共性问题的").

Deadlines start when someone can act: a complaint received outside the service hours counts
from the next opening (DEFAULT, not in source), except a 一级 one, which starts at once at any
hour ("一把手必须第一时间亲自安排", 000). The 督办令 is due `order_within_hours` later
("受理投诉后1小时内", 000), the resolution per grade.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain.errors import ConfigError, amount, whole
from bot.domain.repair import add_working_days
from bot.domain.service_hours import ServiceHours


class ComplaintGrade(enum.StrEnum):
    G1 = "G1"
    G2 = "G2"
    G3 = "G3"


class EscalationStatus(enum.StrEnum):
    """waiting → active (a person claimed it; the bot is silent) → closed (the bot resumes)."""

    WAITING = "waiting"
    ACTIVE = "active"
    CLOSED = "closed"


class MessageAuthor(enum.StrEnum):
    """Who said a line of an escalation's conversation."""

    OWNER = "owner"
    STAFF = "staff"
    #: What the bot itself told the owner meanwhile (who answers, closing).
    BOT = "bot"


class Satisfaction(enum.StrEnum):
    """The owner's answer to the short question after a hand-off closes."""

    SATISFIED = "satisfied"
    NEUTRAL = "neutral"
    DISSATISFIED = "dissatisfied"


class ComplaintError(Exception):
    """A staff change to a complaint the rules refuse; `reason` is a short code for the API."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EscalationError(Exception):
    """A staff action the escalation's state forbids; `reason` is a short code for the API."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EscalationReason(enum.StrEnum):
    COMPLAINT = "complaint"
    HUMAN_REQUESTED = "human_requested"
    #: A low survey or revisit score that could not reopen a ticket (domain §5).
    LOW_SCORE = "low_score"


@dataclass(frozen=True)
class GradeProposal:
    grade: ComplaintGrade
    #: Why, for staff: "keyword:拉横幅", "households:12", "topic:planning".
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ComplaintRules:
    order_within: timedelta
    handoff_first_reply: timedelta
    resolution: Mapping[ComplaintGrade, timedelta | int]
    g1_keywords: tuple[str, ...]
    #: The company's own 一级 keywords, beyond the behaviours the source names.
    g1_company_keywords: tuple[str, ...]
    g2_keywords: tuple[str, ...]
    g2_topics: frozenset[str]
    topics: tuple[str, ...]
    group_households_g2: int
    group_people_g1: int
    max_photos: int

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> ComplaintRules:
        try:
            resolution = section["resolution"]
            topics = section["topics"]
            return cls(
                order_within=timedelta(hours=amount(section, "order_within_hours")),
                handoff_first_reply=timedelta(
                    minutes=amount(section, "handoff_first_reply_minutes")
                ),
                resolution={
                    ComplaintGrade.G1: timedelta(hours=amount(resolution, "G1_hours")),
                    ComplaintGrade.G2: timedelta(hours=amount(resolution, "G2_hours")),
                    ComplaintGrade.G3: whole(resolution, "G3_working_days"),
                },
                g1_keywords=tuple(str(w) for w in section["g1_keywords"]),
                g1_company_keywords=tuple(str(w) for w in section["g1_company_keywords"]),
                g2_keywords=tuple(str(w) for w in section["g2_keywords"]),
                g2_topics=frozenset(str(t["id"]) for t in topics if t.get("group_risk")),
                topics=tuple(str(t["id"]) for t in topics),
                group_households_g2=whole(section, "group_households_g2"),
                group_people_g1=whole(section, "group_people_g1"),
                max_photos=whole(section, "max_photos"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"complaint: {exc!r}") from exc

    def propose_grade(self, text: str, households: int, topic: str) -> GradeProposal:
        """`households` is the owner's answer to "how many households or people": its top
        option is `group_people_g1` people."""
        folded = text.casefold()
        g1 = [f"keyword:{w}" for w in self.g1_keywords if w.casefold() in folded]
        g1 += [f"company_keyword:{w}" for w in self.g1_company_keywords if w.casefold() in folded]
        if households >= self.group_people_g1:
            g1.append(f"people:{households}")
        if g1:
            return GradeProposal(ComplaintGrade.G1, tuple(g1))
        g2 = [f"keyword:{w}" for w in self.g2_keywords if w.casefold() in folded]
        if households >= self.group_households_g2:
            g2.append(f"households:{households}")
        if topic in self.g2_topics:
            g2.append(f"topic:{topic}")
        if g2:
            return GradeProposal(ComplaintGrade.G2, tuple(g2))
        return GradeProposal(ComplaintGrade.G3, ())

    def deadlines(
        self, grade: ComplaintGrade, received_local: datetime, hours: ServiceHours
    ) -> tuple[datetime, datetime]:
        """(督办令 due, resolution due) for a complaint received at `received_local`."""
        start = received_local if grade is ComplaintGrade.G1 else hours.next_open(received_local)
        resolution = self.resolution[grade]
        if isinstance(resolution, int):
            return start + self.order_within, add_working_days(start, resolution)
        return start + self.order_within, start + resolution

    def first_reply_due(self, received_local: datetime, hours: ServiceHours) -> datetime:
        """When a person should first answer someone who asked for one."""
        return hours.next_open(received_local) + self.handoff_first_reply


@dataclass(frozen=True)
class NewComplaint:
    owner_id: int
    unit_id: int | None
    account_id: int
    description: str
    topic: str
    households: int
    photos: tuple[str, ...]
    proposal: GradeProposal
    order_due: datetime
    resolve_due: datetime


@dataclass(frozen=True)
class Complaint:
    id: int
    details: NewComplaint
    #: Set by staff; None while only the bot's proposal exists.
    grade: ComplaintGrade | None
    status: str
    created_at: datetime


@dataclass(frozen=True)
class Escalation:
    id: int
    account_id: int
    owner_id: int | None
    reason: EscalationReason
    complaint_id: int | None
    status: EscalationStatus
    #: Login of the staff member who claimed it (首问责任制: theirs until a transfer).
    assigned_to: str | None
    due_at: datetime
    created_at: datetime
    claimed_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    satisfaction: Satisfaction | None = None

    @property
    def is_open(self) -> bool:
        return self.status is not EscalationStatus.CLOSED

    def overdue(self, now: datetime) -> bool:
        """Nobody has claimed it and its first-answer (or 督办令) deadline has passed."""
        return self.status is EscalationStatus.WAITING and self.due_at < now


@dataclass(frozen=True)
class EscalationMessage:
    id: int
    author_kind: MessageAuthor
    #: The staff login for staff lines and notes; empty for the owner and the bot.
    author: str
    text: str
    photo_path: str | None
    #: A staff note, never relayed to the owner.
    internal: bool
    at: datetime


@dataclass(frozen=True)
class EscalationListing:
    """An escalation with what a staff list shows beside it."""

    escalation: Escalation
    channel: str
    #: The owner's roster name, else the chat's display name, else "".
    owner_name: str
    #: Staff's grade, else the bot's proposal; None when it is not a complaint.
    grade: ComplaintGrade | None


@dataclass(frozen=True)
class ComplaintListing:
    complaint: Complaint
    owner_name: str
    escalation_id: int | None
