"""Satisfaction on the dashboard: the CSAT of each of the last weeks (from the surveys'
report, `services/surveys.survey_report`) and the owners whose low score handed them to staff
(escalations of reason `low_score`, with what they said)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.complaints import EscalationListing, EscalationReason, MessageAuthor
from bot.domain.surveys import Tally
from bot.services import escalations
from bot.services.surveys import survey_report
from bot.storage.uow import UnitOfWork

#: Weeks the CSAT trend covers. DEFAULT (not in source).
WEEKS = 8
#: Low-score hand-offs listed, newest first.
MAX_LOW_SCORES = 20


@dataclass(frozen=True)
class WeekCsat:
    label: str
    #: Percent of scores at or above `satisfied_from`; None when nobody answered that week.
    csat: float | None
    answered: int


@dataclass(frozen=True)
class LowScore:
    escalation_id: int
    owner_name: str
    at: datetime
    said: str
    status: str


async def csat_trend(
    uow: UnitOfWork, now: datetime, tz: ZoneInfo, satisfied_from: int
) -> list[WeekCsat]:
    """Seven-day windows ending now, oldest first. The report counts invitations sent since a
    moment, so one window is the report since its start less the report since its end."""
    starts = [now - timedelta(days=7 * k) for k in range(WEEKS, 0, -1)]
    since = [await _total(uow, start) for start in starts]
    weeks = []
    for k, start in enumerate(starts):
        later = since[k + 1] if k + 1 < len(since) else Tally(0, 0, ())
        window = _minus(since[k], later)
        share = window.csat(satisfied_from)
        weeks.append(
            WeekCsat(
                f"{start.astimezone(tz):%m-%d}",
                None if share is None else round(share * 100, 1),
                window.answered,
            )
        )
    return weeks


async def low_scores(uow: UnitOfWork, listed: list[EscalationListing]) -> list[LowScore]:
    """The newest hand-offs a low score opened, each with the owner's words (the summary)."""
    found = [item for item in listed if item.escalation.reason is EscalationReason.LOW_SCORE]
    found.sort(key=lambda item: item.escalation.created_at, reverse=True)
    result = []
    for item in found[:MAX_LOW_SCORES]:
        said = next(
            (
                m.text
                for m in await escalations.conversation(uow, item)
                if m.author_kind is MessageAuthor.OWNER
            ),
            "",
        )
        e = item.escalation
        result.append(LowScore(e.id, item.owner_name, e.created_at, said, e.status.value))
    return result


async def _total(uow: UnitOfWork, since: datetime) -> Tally:
    lines = await survey_report(uow, since)
    return lines[-1].tally  # the total line comes last


def _minus(whole: Tally, part: Tally) -> Tally:
    scores = Counter(whole.scores)
    scores.subtract(part.scores)
    return Tally(
        whole.invited - part.invited,
        whole.answered - part.answered,
        tuple(sorted(scores.elements())),
    )
