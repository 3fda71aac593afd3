"""Survey invitations, their answers, campaigns, and the rows the survey report counts.

Every state change is one conditional UPDATE (`status` as it was read), so two workers, a chat
and the web page never both send, remind, expire or answer the same invitation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, distinct, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.surveys import Answer, Occasion, Survey, SurveyStatus
from bot.storage.models import (
    Building,
    ChannelAccount,
    Escalation,
    Owner,
    OwnerUnit,
    Project,
    SurveyAnswer,
    SurveyCampaign,
    Ticket,
    Unit,
)
from bot.storage.models import Survey as SurveyRow
from bot.storage.sql import insert_unless_exists

S = SurveyStatus


@dataclass(frozen=True)
class NewSurvey:
    dedupe_key: str
    kind: str
    occasion: str
    owner_id: int
    unit_id: int | None
    due_at: datetime
    ticket_id: int | None = None
    campaign_id: int | None = None


@dataclass(frozen=True)
class HomeOfOwner:
    """A bound owner-unit with its handover date, for the revisit scan."""

    owner_id: int
    unit_id: int
    handover_date: date


@dataclass(frozen=True)
class CampaignRow:
    """A campaign and how many of its invitations are in each status."""

    id: int
    kind: str
    project: str
    buildings: tuple[str, ...]
    due_at: datetime
    created_by: str
    created_at: datetime
    statuses: dict[SurveyStatus, int]


@dataclass(frozen=True)
class ReportRow:
    kind: str
    occasion: str
    project: str
    #: The ticket's repair category for a repair survey, else the survey kind.
    category: str
    status: SurveyStatus
    scores: tuple[int, ...]


@dataclass(frozen=True)
class LowScoreRow:
    """An answered invitation with a low score, with what it started: the repair ticket it
    reopened, or the escalation that handed the owner to staff (each as it is now)."""

    survey_id: int
    kind: str
    occasion: str
    owner_name: str
    answered_at: datetime
    #: `FollowUp`'s value; None only for a survey answered before follow-ups were recorded.
    follow_up: str | None
    answers: tuple[Answer, ...]
    ticket_id: int | None
    ticket_number: str | None
    ticket_status: str | None
    escalation_id: int | None
    escalation_status: str | None


def _low_score(
    survey: SurveyRow,
    owner_name: str,
    ticket_number: str | None,
    ticket_status: str | None,
    escalation_status: str | None,
    answers: list[Answer],
) -> LowScoreRow:
    assert survey.answered_at is not None  # the query takes answered ones only
    return LowScoreRow(
        survey_id=survey.id,
        kind=survey.kind,
        occasion=survey.occasion,
        owner_name=owner_name,
        answered_at=survey.answered_at,
        follow_up=survey.follow_up,
        answers=tuple(answers),
        ticket_id=survey.ticket_id,
        ticket_number=ticket_number,
        ticket_status=ticket_status,
        escalation_id=survey.escalation_id,
        escalation_status=escalation_status,
    )


def _survey(row: SurveyRow) -> Survey:
    return Survey(
        id=row.id,
        kind=row.kind,
        occasion=row.occasion,
        owner_id=row.owner_id,
        unit_id=row.unit_id,
        ticket_id=row.ticket_id,
        campaign_id=row.campaign_id,
        status=SurveyStatus(row.status),
        due_at=row.due_at,
        expires_at=row.expires_at,
        reminded_at=row.reminded_at,
        answered_at=row.answered_at,
    )


class SurveyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- creating ----------------------------------------------------------------------------
    async def add(self, new: NewSurvey, now: datetime) -> bool:
        """False when an invitation with the same key exists (once per ticket, occasion …)."""
        return await insert_unless_exists(
            self.session,
            SurveyRow,
            {
                "dedupe_key": new.dedupe_key,
                "kind": new.kind,
                "occasion": new.occasion,
                "owner_id": new.owner_id,
                "unit_id": new.unit_id,
                "ticket_id": new.ticket_id,
                "campaign_id": new.campaign_id,
                "status": S.PENDING.value,
                "due_at": new.due_at,
                "low_score": False,
                "created_at": now,
            },
        )

    async def reschedule_for_ticket(self, ticket_id: int, due_at: datetime) -> None:
        """A repair completed again after a reopen: the unsent survey waits for this one."""
        await self._update(
            and_(
                SurveyRow.ticket_id == ticket_id,
                SurveyRow.status.in_([S.PENDING.value, S.ON_HOLD.value]),
            ),
            status=S.PENDING.value,
            due_at=due_at,
        )

    async def hold_for_ticket(self, ticket_id: int) -> None:
        """Reopened before the survey went out: never ask about a repair that is not done."""
        await self._update(
            and_(SurveyRow.ticket_id == ticket_id, SurveyRow.status == S.PENDING.value),
            status=S.ON_HOLD.value,
        )

    async def bring_forward(self, ticket_id: int, now: datetime) -> None:
        await self._update(
            and_(
                SurveyRow.ticket_id == ticket_id,
                SurveyRow.status == S.PENDING.value,
                SurveyRow.due_at > now,
            ),
            due_at=now,
        )

    async def add_campaign(
        self,
        kind: str,
        project: str,
        buildings: list[str],
        due_at: datetime,
        by: str,
        now: datetime,
    ) -> int:
        row = SurveyCampaign(
            kind=kind,
            project=project,
            buildings=buildings,
            due_at=due_at,
            created_by=by,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    # -- reading -----------------------------------------------------------------------------
    async def get(self, survey_id: int) -> Survey | None:
        row = await self.session.get(SurveyRow, survey_id, populate_existing=True)
        return _survey(row) if row else None

    async def for_ticket(self, ticket_id: int) -> Survey | None:
        query = select(SurveyRow).where(SurveyRow.ticket_id == ticket_id)
        row = (await self.session.execute(query)).scalar_one_or_none()
        return _survey(row) if row else None

    async def due(self, now: datetime, limit: int) -> list[Survey]:
        query = (
            select(SurveyRow)
            .where(SurveyRow.status == S.PENDING.value, SurveyRow.due_at <= now)
            .order_by(SurveyRow.due_at, SurveyRow.id)
            .limit(limit)
        )
        return [_survey(row) for row in (await self.session.execute(query)).scalars()]

    async def open_for_owner(self, owner_id: int, now: datetime) -> list[Survey]:
        """Sent and unanswered, newest first, plus the due ones not yet sent (the owner who
        just confirmed a fix is asked in the chat, without waiting for the push)."""
        query = (
            select(SurveyRow)
            .where(
                SurveyRow.owner_id == owner_id,
                (
                    (SurveyRow.status == S.OPEN.value) & (SurveyRow.expires_at > now)
                    | (SurveyRow.status == S.PENDING.value) & (SurveyRow.due_at <= now)
                ),
            )
            .order_by(SurveyRow.due_at.desc(), SurveyRow.id.desc())
        )
        return [_survey(row) for row in (await self.session.execute(query)).scalars()]

    async def to_remind(self, sent_before: datetime, now: datetime) -> list[Survey]:
        query = select(SurveyRow).where(
            SurveyRow.status == S.OPEN.value,
            SurveyRow.reminded_at.is_(None),
            SurveyRow.sent_at <= sent_before,
            SurveyRow.expires_at > now,
        )
        return [_survey(row) for row in (await self.session.execute(query)).scalars()]

    async def answers(self, survey_id: int) -> list[Answer]:
        return (await self._answers_of([survey_id])).get(survey_id, [])

    async def bound_homes(self, owner_id: int | None = None) -> list[HomeOfOwner]:
        """Owner-units with a handover date whose owner has an active chat account (of one
        owner, or all)."""
        reachable = exists().where(
            ChannelAccount.owner_id == OwnerUnit.owner_id, ChannelAccount.active.is_(True)
        )
        query = (
            select(OwnerUnit.owner_id, OwnerUnit.unit_id, Unit.handover_date)
            .join(Unit, Unit.id == OwnerUnit.unit_id)
            .where(Unit.handover_date.is_not(None), reachable)
            .order_by(OwnerUnit.id)
        )
        if owner_id is not None:
            query = query.where(OwnerUnit.owner_id == owner_id)
        return [
            HomeOfOwner(owner_id, unit_id, handover)
            for owner_id, unit_id, handover in (await self.session.execute(query)).all()
            if handover is not None
        ]

    async def owner_units_in(
        self, project: str, buildings: list[str]
    ) -> dict[str, list[tuple[int, int]]]:
        """Building name → its (owner id, unit id) pairs; a name the roster lacks is absent."""
        query = (
            select(Building.name, OwnerUnit.owner_id, OwnerUnit.unit_id)
            .join(Project, Project.id == Building.project_id)
            .join(Unit, Unit.building_id == Building.id)
            .join(OwnerUnit, OwnerUnit.unit_id == Unit.id, isouter=True)
            .where(Project.name == project, Building.name.in_(buildings))
            .order_by(Building.name, OwnerUnit.id)
        )
        found: dict[str, list[tuple[int, int]]] = {}
        for building, owner_id, unit_id in (await self.session.execute(query)).all():
            pairs = found.setdefault(building, [])
            if owner_id is not None:
                pairs.append((owner_id, unit_id))
        return found

    async def projects_and_buildings(self) -> dict[str, list[str]]:
        """Project name → its building names, as the roster has them (what campaigns choose
        from)."""
        query = (
            select(Project.name, Building.name)
            .join(Building, Building.project_id == Project.id)
            .order_by(Project.name, Building.name)
        )
        found: dict[str, list[str]] = {}
        for project, building in (await self.session.execute(query)).all():
            found.setdefault(project, []).append(building)
        return found

    async def reach(self, owner_ids: set[int]) -> tuple[int, int]:
        """(owners with an active chat account, those accounts): who a push to these owners
        reaches, and how many messages it is."""
        if not owner_ids:
            return 0, 0
        query = select(
            func.count(distinct(ChannelAccount.owner_id)), func.count(distinct(ChannelAccount.id))
        ).where(ChannelAccount.owner_id.in_(owner_ids), ChannelAccount.active.is_(True))
        owners, accounts = (await self.session.execute(query)).one()
        return int(owners), int(accounts)

    async def campaigns(self, limit: int) -> list[CampaignRow]:
        """The newest campaigns, each with its invitations counted by status."""
        query = select(SurveyCampaign).order_by(SurveyCampaign.id.desc()).limit(limit)
        rows = list((await self.session.execute(query)).scalars())
        counts: dict[int, dict[SurveyStatus, int]] = {row.id: {} for row in rows}
        if rows:
            tally = (
                select(SurveyRow.campaign_id, SurveyRow.status, func.count())
                .where(SurveyRow.campaign_id.in_(counts))
                .group_by(SurveyRow.campaign_id, SurveyRow.status)
            )
            for campaign_id, status, count in (await self.session.execute(tally)).all():
                if campaign_id is not None:
                    counts[campaign_id][SurveyStatus(status)] = int(count)
        return [
            CampaignRow(
                id=row.id,
                kind=row.kind,
                project=row.project,
                buildings=tuple(row.buildings),
                due_at=row.due_at,
                created_by=row.created_by,
                created_at=row.created_at,
                statuses=counts[row.id],
            )
            for row in rows
        ]

    async def report_rows(self, since: datetime | None) -> list[ReportRow]:
        """Every invitation that was sent (answered, open, expired) since `since`."""
        query = (
            select(SurveyRow, Project.name, Ticket.category)
            .join(Unit, Unit.id == SurveyRow.unit_id, isouter=True)
            .join(Building, Building.id == Unit.building_id, isouter=True)
            .join(Project, Project.id == Building.project_id, isouter=True)
            .join(Ticket, Ticket.id == SurveyRow.ticket_id, isouter=True)
            .where(SurveyRow.sent_at.is_not(None))
            .order_by(SurveyRow.id)
        )
        if since is not None:
            query = query.where(SurveyRow.sent_at >= since)
        rows = (await self.session.execute(query)).all()
        scores = await self._scores([row[0].id for row in rows])
        return [
            ReportRow(
                kind=survey.kind,
                occasion=survey.occasion,
                project=project or "-",
                category=category if survey.occasion == Occasion.REPAIR else survey.kind,
                status=SurveyStatus(survey.status),
                scores=tuple(scores.get(survey.id, ())),
            )
            for survey, project, category in rows
        ]

    async def low_scored(self, limit: int) -> list[LowScoreRow]:
        """The newest answered invitations with a low score (index `ix_surveys_low_score_answered`),
        with their owner, ticket and escalation in the same query and the answers in one more."""
        query = (
            select(SurveyRow, Owner.name, Ticket.number, Ticket.status, Escalation.status)
            .join(Owner, Owner.id == SurveyRow.owner_id)
            .join(Ticket, Ticket.id == SurveyRow.ticket_id, isouter=True)
            .join(Escalation, Escalation.id == SurveyRow.escalation_id, isouter=True)
            .where(SurveyRow.low_score.is_(True), SurveyRow.answered_at.is_not(None))
            .order_by(SurveyRow.answered_at.desc(), SurveyRow.id.desc())
            .limit(limit)
        )
        rows = (await self.session.execute(query)).all()
        answers = await self._answers_of([row[0].id for row in rows])
        return [_low_score(*row, answers.get(row[0].id, [])) for row in rows]

    async def _answers_of(self, survey_ids: list[int]) -> dict[int, list[Answer]]:
        if not survey_ids:
            return {}
        query = (
            select(
                SurveyAnswer.survey_id, SurveyAnswer.question, SurveyAnswer.score, SurveyAnswer.text
            )
            .where(SurveyAnswer.survey_id.in_(survey_ids))
            .order_by(SurveyAnswer.id)
        )
        found: dict[int, list[Answer]] = {}
        for survey_id, question, score, text in (await self.session.execute(query)).all():
            found.setdefault(survey_id, []).append(Answer(question, score, text))
        return found

    async def _scores(self, survey_ids: list[int]) -> dict[int, list[int]]:
        if not survey_ids:
            return {}
        query = select(SurveyAnswer.survey_id, SurveyAnswer.score).where(
            SurveyAnswer.survey_id.in_(survey_ids), SurveyAnswer.score.is_not(None)
        )
        found: dict[int, list[int]] = {}
        for survey_id, score in (await self.session.execute(query)).all():
            if score is not None:
                found.setdefault(survey_id, []).append(score)
        return found

    # -- changing ----------------------------------------------------------------------------
    async def mark_sent(
        self, survey_id: int, now: datetime, expires_at: datetime, reached: bool
    ) -> bool:
        """PENDING → OPEN (or UNREACHABLE without an account); False if another worker did."""
        return await self._update(
            and_(SurveyRow.id == survey_id, SurveyRow.status == S.PENDING.value),
            status=(S.OPEN if reached else S.UNREACHABLE).value,
            sent_at=now,
            expires_at=expires_at if reached else None,
        )

    async def mark_reminded(self, survey_id: int, now: datetime) -> bool:
        return await self._update(
            and_(
                SurveyRow.id == survey_id,
                SurveyRow.status == S.OPEN.value,
                SurveyRow.reminded_at.is_(None),
            ),
            reminded_at=now,
        )

    async def expire(self, now: datetime) -> int:
        result = await self.session.execute(
            update(SurveyRow)
            .where(SurveyRow.status == S.OPEN.value, SurveyRow.expires_at <= now)
            .values(status=S.EXPIRED.value)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def record_answers(
        self, survey_id: int, answers: list[Answer], via: str, low: bool, now: datetime
    ) -> bool:
        """Store the answers of an open, unexpired invitation; False if it was answered (on
        another device) or expired meanwhile: nothing is written then."""
        answered = await self._update(
            and_(
                SurveyRow.id == survey_id,
                SurveyRow.status == S.OPEN.value,
                SurveyRow.expires_at > now,
            ),
            status=S.ANSWERED.value,
            answered_at=now,
            answered_via=via,
            low_score=low,
        )
        if answered:
            self.session.add_all(
                SurveyAnswer(survey_id=survey_id, question=a.question, score=a.score, text=a.text)
                for a in answers
            )
            await self.session.flush()
        return answered

    async def set_follow_up(
        self, survey_id: int, follow_up: str, escalation_id: int | None = None
    ) -> None:
        await self._update(
            SurveyRow.id == survey_id, follow_up=follow_up, escalation_id=escalation_id
        )

    async def _update(self, condition: Any, **values: Any) -> bool:
        result = await self.session.execute(
            update(SurveyRow)
            .where(condition)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
