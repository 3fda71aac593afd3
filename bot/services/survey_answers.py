"""Answering a survey, in the chat or on its web page (both count the same), and what a low
score starts: the repair ticket reopens, or staff get the owner with their comment (domain §5:
"A score ≤ 2 reopens the case or hands off to staff")."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.complaints import Escalation
from bot.domain.rules import CompanyRules
from bot.domain.surveys import Answer, FollowUp, Survey
from bot.domain.tickets import Actor, ActorKind, TicketStatus
from bot.i18n import Texts
from bot.services.escalations import escalate_low_score
from bot.services.surveys import describe, staff_summary
from bot.services.tickets import change_ticket_status
from bot.settings import Settings
from bot.storage.uow import UnitOfWork

#: Who reopens a ticket after a low score, in its timeline.
SURVEY_ACTOR = Actor(ActorKind.SYSTEM, "survey")
#: Ticket statuses a low score may reopen (the lifecycle allows it from these).
REOPENABLE = frozenset({TicketStatus.COMPLETED, TicketStatus.CONFIRMED})


class Via(enum.StrEnum):
    CHAT = "chat"
    PAGE = "page"


@dataclass(frozen=True)
class Submitted:
    """The outcome the owner is told: thanks, or what happens next after a low score."""

    #: False when the survey was answered elsewhere first or had expired: nothing was stored.
    accepted: bool
    follow_up: FollowUp = FollowUp.NONE
    ticket_number: str = ""
    #: When a person answers, for an escalation.
    contact_by: datetime | None = None

    def text(self, texts: Texts, lang: str, tz: ZoneInfo) -> str:
        """What the owner is told after answering, in the chat and on the page alike."""
        if not self.accepted:
            return texts.get("survey.closed", lang)
        if self.follow_up is FollowUp.REOPENED:
            return texts.get("survey.thanks_reopened", lang, number=self.ticket_number)
        if self.follow_up is FollowUp.ESCALATED and self.contact_by is not None:
            due = self.contact_by.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            return texts.get("survey.thanks_escalated", lang, due=due)
        if self.follow_up is FollowUp.ESCALATED:
            return texts.get("survey.thanks_escalated_later", lang)
        return texts.get("survey.thanks", lang)


async def submit_answers(
    uow: UnitOfWork,
    texts: Texts,
    rules: CompanyRules,
    settings: Settings,
    survey: Survey,
    given: Mapping[str, str],
    *,
    via: Via,
    account_id: int | None,
    lang: str,
    now: datetime,
) -> Submitted:
    """Store the answers (raises `InvalidAnswer` for a missing or bad score, storing nothing)
    and follow up a low score; the caller commits."""
    answers = rules.survey.answers_from(survey.kind, given)
    scores = [a.score for a in answers if a.score is not None]
    low = rules.survey.is_low(scores)
    if not await uow.surveys.record_answers(survey.id, answers, via.value, low, now):
        return Submitted(accepted=False)
    if not low:
        return Submitted(accepted=True)
    summary = await _summary(uow, texts, survey, answers, lang)
    reopened = await _reopen(uow, texts, settings, survey, summary, now)
    if reopened:
        await uow.surveys.set_follow_up(survey.id, FollowUp.REOPENED.value)
        return Submitted(True, FollowUp.REOPENED, ticket_number=reopened)
    escalation = await _escalate(uow, rules, survey, account_id, summary, now, settings.tz)
    escalation_id = escalation.id if escalation else None
    await uow.surveys.set_follow_up(survey.id, FollowUp.ESCALATED.value, escalation_id)
    due = escalation.due_at if escalation else None
    return Submitted(True, FollowUp.ESCALATED, contact_by=due)


async def _reopen(
    uow: UnitOfWork,
    texts: Texts,
    settings: Settings,
    survey: Survey,
    summary: str,
    now: datetime,
) -> str:
    """The ticket's number when it was reopened, "" when it cannot be (closed, or none).
    The owner's one message about it is the survey's answer (`Submitted.text`), not also the
    usual status push."""
    if survey.ticket_id is None:
        return ""
    ticket = await uow.tickets.get(survey.ticket_id)
    if ticket is None or ticket.status not in REOPENABLE:
        return ""
    await change_ticket_status(
        uow,
        ticket.id,
        TicketStatus.REOPENED,
        SURVEY_ACTOR,
        now,
        texts,
        note=summary,
        survey_delay=settings.survey_delay,
        tell_owner=False,
    )
    return ticket.number


async def _escalate(
    uow: UnitOfWork,
    rules: CompanyRules,
    survey: Survey,
    account_id: int | None,
    summary: str,
    now: datetime,
    tz: ZoneInfo,
) -> Escalation | None:
    """Staff get the owner on the account they answered from (the page: their first account);
    None when the owner has no active account to be answered on."""
    if account_id is None:
        accounts = await uow.accounts.active_accounts_of_owner(survey.owner_id)
        if not accounts:
            return None
        account_id = accounts[0].id
    return await escalate_low_score(uow, rules, account_id, survey.owner_id, summary, now, tz)


async def _summary(
    uow: UnitOfWork, texts: Texts, survey: Survey, answers: list[Answer], lang: str
) -> str:
    """What staff read: the scores by question and the owner's own words."""
    return staff_summary(texts, lang, await describe(uow, texts, survey, lang), answers)
