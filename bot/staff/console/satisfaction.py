"""Satisfaction on the dashboard: the CSAT of each of the last weeks (from the surveys'
report, `services/surveys.survey_report`) and the newest low scores, each with what the owner
said and what it started: a repair survey's low score reopens the ticket, any other (or one
whose ticket cannot reopen) hands the owner to staff (`services/survey_answers`). Both kinds are
listed, as staff must see a reopened ticket as much as a hand-off."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.surveys import FollowUp, Tally
from bot.i18n import Texts
from bot.services.surveys import low_score_summary, recent_low_scores, survey_report
from bot.storage.uow import UnitOfWork

#: Weeks the CSAT trend covers. DEFAULT (not in source).
WEEKS = 8
#: Low scores listed, newest first.
MAX_LOW_SCORES = 20


@dataclass(frozen=True)
class WeekCsat:
    label: str
    #: Percent of scores at or above `satisfied_from`; None when nobody answered that week.
    csat: float | None
    answered: int


@dataclass(frozen=True)
class LowScore:
    survey_id: int
    owner_name: str
    #: When the owner answered.
    at: datetime
    #: The scores and comment, as the reopened ticket's note or the escalation's message.
    said: str
    #: What the low score started (`FollowUp`); NONE for one answered before it was recorded.
    follow_up: FollowUp
    ticket_id: int | None = None
    ticket_number: str = ""
    #: The reopened ticket's status now.
    ticket_status: str = ""
    #: None for a hand-off to an owner without an active chat account (nobody to answer).
    escalation_id: int | None = None
    #: The escalation's status now.
    status: str = ""


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


async def low_scores(uow: UnitOfWork, texts: Texts, lang: str) -> list[LowScore]:
    """The newest low-scored surveys, each with the owner's words in the reader's language."""
    return [
        LowScore(
            survey_id=row.survey_id,
            owner_name=row.owner_name,
            at=row.answered_at,
            said=low_score_summary(texts, lang, row),
            follow_up=FollowUp(row.follow_up or FollowUp.NONE),
            ticket_id=row.ticket_id,
            ticket_number=row.ticket_number or "",
            ticket_status=row.ticket_status or "",
            escalation_id=row.escalation_id,
            status=row.escalation_status or "",
        )
        for row in await recent_low_scores(uow, MAX_LOW_SCORES)
    ]


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
