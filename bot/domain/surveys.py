"""Satisfaction surveys (满意度) and revisits (回访): what is asked, when, and what a low score
means (domain §5).

- After a repair: "维修完成后,要对客户进行回访,确保客户满意" (000). Due `SURVEY_DELAY` after staff
  complete the ticket, or at once when the owner confirms the fix first; never before completion,
  one per ticket.
- After handover, per owner-unit: "如一个月、三个月、半年" and "保修期结束前" (000); the days are in
  `survey.revisits` of rules.yaml. An owner who binds late gets only the latest revisit that is
  due and still inside its answer window; a home handed over days ago gets none yet.
- Campaigns: staff invite chosen buildings, e.g. "恶劣天气后…须针对性回访一次" (000).

An invitation is open for `expire_days` from the moment it reaches the owner, with one reminder.
Any score at or below `low_score` reopens the ticket or hands the owner to staff.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.domain.errors import ConfigError, whole

#: The comment question: free text, may be skipped.
COMMENT = "comment"
#: Longest comment kept (a chat message or the page's text area).
COMMENT_MAX = 2000
#: The question set of the survey after a repair.
POST_REPAIR = "post_repair"


class Occasion(enum.StrEnum):
    """Why an invitation exists (the revisit occasions of rules.yaml add their own ids)."""

    REPAIR = "repair"
    CAMPAIGN = "campaign"


class SurveyStatus(enum.StrEnum):
    #: Created, not yet due (or due and not yet sent).
    PENDING = "pending"
    #: The ticket was reopened before the survey went out: it waits for the next completion.
    ON_HOLD = "on_hold"
    #: Sent to the owner (push or chat), waiting for answers.
    OPEN = "open"
    ANSWERED = "answered"
    EXPIRED = "expired"
    #: Due, but the owner has no active chat account to send it to.
    UNREACHABLE = "unreachable"


class FollowUp(enum.StrEnum):
    """What a low score started."""

    NONE = "none"
    REOPENED = "reopened"
    ESCALATED = "escalated"


@dataclass(frozen=True)
class Question:
    id: str

    @property
    def scored(self) -> bool:
        return self.id != COMMENT


@dataclass(frozen=True)
class RevisitRule:
    """A revisit `years` and `days` after the handover date (days may be negative: "30 days
    before the 2-year warranty ends" is years=2, days=-30)."""

    id: str
    years: int
    days: int

    def due_on(self, handover: date) -> date:
        return _add_years(handover, self.years) + timedelta(days=self.days)


@dataclass(frozen=True)
class SurveyRules:
    """The `survey` section of rules.yaml."""

    scale: int
    low_score: int
    satisfied_from: int
    expires_after: timedelta
    remind_after: timedelta
    #: Question sets by survey kind (post_repair, revisit, weather …).
    kinds: Mapping[str, tuple[Question, ...]]
    revisits: tuple[RevisitRule, ...]
    #: The question set each revisit occasion uses.
    revisit_kind: str

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> SurveyRules:
        try:
            kinds = {
                str(kind): tuple(Question(str(q)) for q in spec["questions"])
                for kind, spec in section["kinds"].items()
            }
            rules = cls(
                scale=whole(section, "scale"),
                low_score=whole(section, "low_score"),
                satisfied_from=whole(section, "satisfied_from"),
                expires_after=timedelta(days=whole(section, "expire_days")),
                remind_after=timedelta(days=whole(section, "remind_after_days")),
                kinds=kinds,
                revisits=tuple(_revisit(item) for item in section["revisits"]),
                revisit_kind=str(section["revisit_kind"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"survey: {exc!r}") from exc
        rules._check()
        return rules

    def _check(self) -> None:
        if not 1 <= self.low_score < self.satisfied_from <= self.scale:
            raise ConfigError("survey: need 1 <= low_score < satisfied_from <= scale")
        if self.remind_after >= self.expires_after:
            raise ConfigError("survey: remind_after_days must be less than expire_days")
        for name in (Occasion.REPAIR, self.revisit_kind):
            if self.kind_for(name) not in self.kinds:
                raise ConfigError(f"survey: kinds has no {self.kind_for(name)!r}")
        for kind, questions in self.kinds.items():
            if not any(q.scored for q in questions):
                raise ConfigError(f"survey: kind {kind!r} asks for no score")

    def kind_for(self, occasion: str) -> str:
        """The question set of a repair survey or a revisit."""
        return POST_REPAIR if occasion == Occasion.REPAIR else self.revisit_kind

    def questions(self, kind: str) -> tuple[Question, ...]:
        return self.kinds[kind]

    def latest_revisit(self, handover: date, today: date) -> tuple[RevisitRule, date] | None:
        """The newest revisit due by `today` whose answer window is not over; None when the
        first one is not due yet or the last one lapsed."""
        due = [(rule, rule.due_on(handover)) for rule in self.revisits]
        reached = [(rule, day) for rule, day in due if day <= today]
        if not reached:
            return None
        rule, day = max(reached, key=lambda pair: pair[1])
        if today >= day + self.expires_after:
            return None
        return rule, day

    def parse_score(self, value: str) -> int | None:
        """The score typed or pressed, or None when it is not one of 1…scale."""
        text = value.strip()
        if text.isdigit() and 1 <= int(text) <= self.scale:
            return int(text)
        return None

    def is_low(self, scores: Sequence[int]) -> bool:
        return any(score <= self.low_score for score in scores)

    def answers_from(self, kind: str, given: Mapping[str, str]) -> list[Answer]:
        """Every question of the kind answered: a score 1…scale, the comment optional.

        Raises `InvalidAnswer` naming the first question without a valid answer."""
        answers = []
        for question in self.questions(kind):
            value = str(given.get(question.id, "")).strip()
            if not question.scored:
                answers.append(Answer(question.id, None, value[:COMMENT_MAX]))
                continue
            score = self.parse_score(value)
            if score is None:
                raise InvalidAnswer(question.id)
            answers.append(Answer(question.id, score, ""))
        return answers


class InvalidAnswer(ValueError):
    """A question left unanswered or answered outside 1…scale; `question` names it."""

    def __init__(self, question: str) -> None:
        super().__init__(question)
        self.question = question


@dataclass(frozen=True)
class Survey:
    """One invitation: who is asked, about what, and where it stands."""

    id: int
    kind: str
    occasion: str
    owner_id: int
    unit_id: int | None
    ticket_id: int | None
    campaign_id: int | None
    status: SurveyStatus
    due_at: datetime
    expires_at: datetime | None
    reminded_at: datetime | None
    answered_at: datetime | None

    def is_open(self, now: datetime) -> bool:
        return self.status is SurveyStatus.OPEN and (
            self.expires_at is None or now < self.expires_at
        )

    def can_start(self, now: datetime) -> bool:
        """Open, or due and not yet pushed (the owner who just confirmed a fix)."""
        due = self.status is SurveyStatus.PENDING and self.due_at <= now
        return due or self.is_open(now)


@dataclass(frozen=True)
class Answer:
    question: str
    score: int | None
    text: str


@dataclass(frozen=True)
class ScoreRow:
    """One answered score, with what the report groups it by."""

    project: str
    category: str
    score: int


@dataclass(frozen=True)
class Tally:
    invited: int
    answered: int
    scores: tuple[int, ...]

    def response_rate(self) -> float | None:
        return self.answered / self.invited if self.invited else None

    def csat(self, satisfied_from: int) -> float | None:
        """Share of scores at `satisfied_from` or above (the usual "4 or 5 of 5")."""
        if not self.scores:
            return None
        return sum(1 for s in self.scores if s >= satisfied_from) / len(self.scores)

    def mean(self) -> float | None:
        return sum(self.scores) / len(self.scores) if self.scores else None


def _revisit(item: Mapping[str, Any]) -> RevisitRule:
    if "days_after_handover" in item:
        return RevisitRule(str(item["id"]), 0, whole(item, "days_after_handover"))
    return RevisitRule(
        str(item["id"]), whole(item, "warranty_years"), -whole(item, "days_before_warranty_end")
    )


def _add_years(day: date, years: int) -> date:
    """29 February plus a year is 28 February (the warranty does not run a day longer)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
