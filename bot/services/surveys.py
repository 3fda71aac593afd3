"""Survey invitations as use cases: schedule them (after a repair, revisits after handover,
staff campaigns), push the due ones through the outbox, remind once, expire, and report.

The rows are the truth: the scheduler's jobs only call `push_due`, `remind_and_expire` and
`scan_revisits`, and each may run twice or on two instances without sending anything twice
(conditional updates on the invitation, idempotency keys on the outbox).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.surveys import (
    COMMENT,
    POST_REPAIR,
    Answer,
    Occasion,
    Question,
    Survey,
    SurveyRules,
    SurveyStatus,
    Tally,
)
from bot.domain.tickets import Ticket, TicketStatus
from bot.i18n import Texts
from bot.services.notify import notify_owners
from bot.storage.repositories.surveys import CampaignRow, LowScoreRow, NewSurvey, ReportRow
from bot.storage.uow import UnitOfWork

#: The survey page of one invitation, signed until the invitation expires.
SurveyLink = Callable[[int, datetime], str]
#: The outbox purpose (WeChat picks its `survey` template by it).
PURPOSE = "survey"
#: Invitations handled per job run; the next run takes the rest.
BATCH = 500


class SurveyError(Exception):
    """A campaign staff cannot start as asked; `reason` is a short code (the console's text),
    `str()` says why in words (the CLI)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# -- after a repair -----------------------------------------------------------------------------
async def on_ticket_moved(
    uow: UnitOfWork, ticket: Ticket, status: TicketStatus, now: datetime, delay_after: datetime
) -> None:
    """Completed: the survey is due `delay_after`; confirmed by the owner: due now; reopened
    before it went out: on hold until the next completion. Never before completion."""
    if status is TicketStatus.COMPLETED:
        new = NewSurvey(
            dedupe_key=f"repair:{ticket.id}",
            kind=POST_REPAIR,
            occasion=Occasion.REPAIR,
            owner_id=ticket.owner_id,
            unit_id=ticket.unit_id,
            ticket_id=ticket.id,
            due_at=delay_after,
        )
        if not await uow.surveys.add(new, now):
            await uow.surveys.reschedule_for_ticket(ticket.id, delay_after)
    elif status is TicketStatus.CONFIRMED:
        await uow.surveys.bring_forward(ticket.id, now)
    elif status is TicketStatus.REOPENED:
        await uow.surveys.hold_for_ticket(ticket.id)


# -- revisits after handover --------------------------------------------------------------------
async def scan_revisits(
    uow: UnitOfWork,
    rules: SurveyRules,
    now: datetime,
    tz: ZoneInfo,
    *,
    owner_id: int | None = None,
) -> int:
    """Create the latest due revisit of every bound owner-unit (or only `owner_id`'s, when they
    bind), once each; returns how many are new. An owner who bound late gets only the newest
    one still inside its window."""
    today, created = now.astimezone(tz).date(), 0
    for home in await uow.surveys.bound_homes(owner_id):
        due = rules.latest_revisit(home.handover_date, today)
        if due is None:
            continue
        revisit, _ = due
        created += await uow.surveys.add(
            NewSurvey(
                dedupe_key=f"revisit:{home.owner_id}:{home.unit_id}:{revisit.id}",
                kind=rules.revisit_kind,
                occasion=revisit.id,
                owner_id=home.owner_id,
                unit_id=home.unit_id,
                due_at=now,
            ),
            now,
        )
    return created


# -- campaigns ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Campaign:
    id: int
    invited: int


@dataclass(frozen=True)
class Reach:
    """Who a campaign would invite, before staff start it."""

    #: Invitations: one per owner and home in the chosen buildings.
    owner_units: int
    owners: int
    #: Owners with an active chat account (the others' invitations stay unreachable) …
    reachable_owners: int
    #: … and their accounts, each of which gets the push.
    accounts: int


@dataclass(frozen=True)
class CampaignProgress:
    """A started campaign and how far it got: invited, sent, answered (and who could not be
    reached), from its invitations' statuses."""

    campaign: CampaignRow

    def _count(self, *statuses: SurveyStatus) -> int:
        return sum(self.campaign.statuses.get(status, 0) for status in statuses)

    @property
    def invited(self) -> int:
        return sum(self.campaign.statuses.values())

    @property
    def waiting(self) -> int:
        """Not yet due (or not yet sent)."""
        return self._count(SurveyStatus.PENDING)

    @property
    def sent(self) -> int:
        return self._count(SurveyStatus.OPEN, SurveyStatus.ANSWERED, SurveyStatus.EXPIRED)

    @property
    def answered(self) -> int:
        return self._count(SurveyStatus.ANSWERED)

    @property
    def unreachable(self) -> int:
        return self._count(SurveyStatus.UNREACHABLE)

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.sent if self.sent else None


async def campaign_choices(uow: UnitOfWork) -> dict[str, list[str]]:
    """Project → building names, as the roster has them."""
    return await uow.surveys.projects_and_buildings()


def campaign_kinds(rules: SurveyRules) -> list[str]:
    """The question sets a campaign may use (every one but the repair survey's)."""
    return [kind for kind in rules.kinds if kind != POST_REPAIR]


async def preview_campaign(
    uow: UnitOfWork, rules: SurveyRules, *, kind: str, project: str, buildings: list[str]
) -> Reach:
    """What `start_campaign` would invite, checked the same way; nothing is written."""
    found = await _chosen(uow, rules, kind, project, buildings)
    pairs = {pair for name in buildings for pair in found[name]}
    owners = {owner_id for owner_id, _ in pairs}
    reachable, accounts = await uow.surveys.reach(owners)
    return Reach(len(pairs), len(owners), reachable, accounts)


async def start_campaign(
    uow: UnitOfWork,
    rules: SurveyRules,
    *,
    kind: str,
    project: str,
    buildings: list[str],
    due_at: datetime,
    by: str,
    now: datetime,
) -> Campaign:
    """Invite every owner of the chosen buildings, e.g. after a storm; all or nothing."""
    found = await _chosen(uow, rules, kind, project, buildings)
    campaign_id = await uow.surveys.add_campaign(kind, project, buildings, due_at, by, now)
    invited = 0
    for owner_id, unit_id in (pair for name in buildings for pair in found[name]):
        invited += await uow.surveys.add(
            NewSurvey(
                dedupe_key=f"campaign:{campaign_id}:{owner_id}:{unit_id}",
                kind=kind,
                occasion=Occasion.CAMPAIGN,
                owner_id=owner_id,
                unit_id=unit_id,
                campaign_id=campaign_id,
                due_at=due_at,
            ),
            now,
        )
    return Campaign(campaign_id, invited)


async def campaign_progress(uow: UnitOfWork, limit: int) -> list[CampaignProgress]:
    """The newest campaigns with how far each got, newest first."""
    return [CampaignProgress(row) for row in await uow.surveys.campaigns(limit)]


async def _chosen(
    uow: UnitOfWork, rules: SurveyRules, kind: str, project: str, buildings: list[str]
) -> dict[str, list[tuple[int, int]]]:
    """Building name → its (owner id, unit id) pairs; SurveyError for an unknown kind, no
    building or one the project lacks."""
    if kind not in campaign_kinds(rules):
        choices = ", ".join(campaign_kinds(rules))
        raise SurveyError("unknown_kind", f"unknown survey kind {kind!r}; choose one of: {choices}")
    if not buildings:
        raise SurveyError("no_buildings", "name at least one building")
    found = await uow.surveys.owner_units_in(project, buildings)
    missing = [name for name in buildings if name not in found]
    if missing:
        raise SurveyError(
            "unknown_building", f"project {project!r} has no building {', '.join(missing)}"
        )
    return found


# -- sending ------------------------------------------------------------------------------------
async def open_now(uow: UnitOfWork, rules: SurveyRules, survey: Survey, now: datetime) -> None:
    """A due survey started (chat or page) before its push went out counts as sent now."""
    if survey.status is SurveyStatus.PENDING:
        await uow.surveys.mark_sent(survey.id, now, now + rules.expires_after, reached=True)


@dataclass(frozen=True)
class Invitations:
    """Sends invitations and reminders through the outbox, each in the owner's language, with
    the survey's button and its signed page; the caller commits."""

    texts: Texts
    rules: SurveyRules
    link: SurveyLink
    tz: ZoneInfo

    async def push_due(self, uow: UnitOfWork, now: datetime) -> int:
        """Every due survey to each of the owner's active accounts; how many went out."""
        sent = 0
        for survey in await uow.surveys.due(now, BATCH):
            expires_at = now + self.rules.expires_after
            reached = bool(await uow.accounts.active_accounts_of_owner(survey.owner_id))
            if not await uow.surveys.mark_sent(survey.id, now, expires_at, reached):
                continue
            if reached:
                await self._push(uow, survey, now, expires_at, "invite")
                sent += 1
        return sent

    async def remind_and_expire(self, uow: UnitOfWork, now: datetime) -> tuple[int, int]:
        """Close the lapsed invitations, then remind each open one once; (reminded, expired)."""
        expired = await uow.surveys.expire(now)
        reminded = 0
        for survey in await uow.surveys.to_remind(now - self.rules.remind_after, now):
            if not await uow.surveys.mark_reminded(survey.id, now):
                continue
            assert survey.expires_at is not None
            await self._push(uow, survey, now, survey.expires_at, "reminder")
            reminded += 1
        return reminded, expired

    async def _push(
        self, uow: UnitOfWork, survey: Survey, now: datetime, expires_at: datetime, which: str
    ) -> None:
        subject, localized = await _subject(uow, survey)
        url = self.link(survey.id, expires_at)
        await notify_owners(
            uow,
            self.texts,
            [survey.owner_id],
            f"survey.{which}",
            purpose=PURPOSE,
            idempotency_key=f"survey:{survey.id}:{which}",
            now=now,
            values={
                **subject,
                "count": len(self.rules.questions(survey.kind)),
                "expires": expires_at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M"),
                "url": url,
            },
            localized=localized,
            buttons=[("survey.button_start", f"survey:start:{survey.id}")],
            link=url,
        )


async def _subject(uow: UnitOfWork, survey: Survey) -> tuple[dict[str, str], dict[str, str]]:
    """What the invitation is about, as values and as text keys to render per language."""
    number = None
    if survey.ticket_id is not None:
        ticket = await uow.tickets.get(survey.ticket_id)
        number = ticket.number if ticket else ""
    return _about(survey.occasion, survey.kind, number)


def _about(
    occasion: str, kind: str, ticket_number: str | None
) -> tuple[dict[str, str], dict[str, str]]:
    """`_subject` once the ticket's number is known (None: no ticket)."""
    if ticket_number is not None:
        return {"number": ticket_number}, {"about": "survey.about_repair"}
    if occasion == Occasion.CAMPAIGN:
        return {}, {"about": f"survey.about_kind_{kind}"}
    return {}, {"about": f"survey.about_{occasion}"}


async def describe(uow: UnitOfWork, texts: Texts, survey: Survey, lang: str) -> str:
    """One line saying what a survey is about, in the owner's language (chat and page)."""
    values, localized = await _subject(uow, survey)
    return texts.get(localized["about"], lang, **values)


def staff_summary(texts: Texts, lang: str, about: str, answers: Sequence[Answer]) -> str:
    """What staff read of a low score: the scores by question and the owner's own words (the
    reopened ticket's note, the escalation's message, the console's dashboard)."""
    scores = texts.get("survey.staff_summary_separator", lang).join(
        f"{texts.get(f'survey.q_{a.question}_short', lang)} {a.score}"
        for a in answers
        if a.score is not None
    )
    comment = next((a.text for a in answers if a.question == COMMENT and a.text), "")
    return texts.get(
        "survey.staff_summary",
        lang,
        about=about,
        scores=scores,
        comment=comment or texts.get("survey.no_comment", lang),
    )


async def recent_low_scores(uow: UnitOfWork, limit: int) -> list[LowScoreRow]:
    """The newest low scores, each with the ticket it reopened or the escalation it opened."""
    return await uow.surveys.low_scored(limit)


def low_score_summary(texts: Texts, lang: str, row: LowScoreRow) -> str:
    """`staff_summary` of a listed low score, in the reader's language."""
    values, localized = _about(row.occasion, row.kind, row.ticket_number)
    about = texts.get(localized["about"], lang, **values)
    return staff_summary(texts, lang, about, row.answers)


def hint_key(texts: Texts, question: Question, lang: str) -> str:
    """How a question is answered: its own hint (e.g. what 1 and 5 mean for the storm question),
    else the one of every score question."""
    own = f"survey.hint_{question.id}"
    if own in texts.keys(lang) or own in texts.keys("zh"):
        return own
    return "survey.hint_score" if question.scored else "survey.hint_comment"


# -- report -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReportLine:
    project: str
    category: str
    tally: Tally


async def survey_report(uow: UnitOfWork, since: datetime | None) -> list[ReportLine]:
    """CSAT and response rate per project and category (repair category, or survey kind),
    then a total line (project and category "*")."""
    rows = await uow.surveys.report_rows(since)
    groups: dict[tuple[str, str], list[ReportRow]] = {}
    for row in rows:
        groups.setdefault((row.project, row.category), []).append(row)
    lines = [ReportLine(p, c, _tally(group)) for (p, c), group in sorted(groups.items())]
    return [*lines, ReportLine("*", "*", _tally(rows))]


def _tally(rows: list[ReportRow]) -> Tally:
    answered = [row for row in rows if row.status is SurveyStatus.ANSWERED]
    return Tally(
        invited=len(rows),
        answered=len(answered),
        scores=tuple(score for row in answered for score in row.scores),
    )
