"""Repair tickets: numbering, storage, the owner's view (only units they are bound to), events."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Row, Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.repair import Urgency, ticket_number
from bot.domain.roster import Home
from bot.domain.tickets import (
    OPEN_STATUSES,
    RESOLVED_STATUSES,
    Actor,
    EventKind,
    NewTicket,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from bot.domain.warranty import AssessmentReason, WarrantyDecision, WarrantyStatus
from bot.storage.models import Building, OwnerUnit, Project, TicketCounter, Unit
from bot.storage.models import Ticket as TicketRow
from bot.storage.models import TicketEvent as EventRow


def _ticket_query() -> Select[TicketRow, Unit, str, str]:
    return (
        select(TicketRow, Unit, Building.name, Project.name)
        .join(Unit, Unit.id == TicketRow.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .join(Project, Project.id == Building.project_id)
    )


def _ticket(found: Row[TicketRow, Unit, str, str]) -> Ticket:
    row, unit, building, project = found
    home = Home(unit.id, project, building, unit.number, unit.area_m2, unit.handover_date)
    reason = AssessmentReason(row.warranty_reason) if row.warranty_reason else None
    return Ticket(
        id=row.id,
        number=row.number,
        unit_id=row.unit_id,
        home_label=home.label,
        owner_id=row.owner_id,
        category=row.category,
        description=row.description,
        location=row.location,
        contact_time=row.contact_time,
        photos=tuple(row.photos),
        status=TicketStatus(row.status),
        urgency=Urgency(row.urgency),
        warranty=WarrantyDecision(WarrantyStatus(row.warranty_status), row.warranty_until, reason),
        is_repeat=row.is_repeat,
        respond_by=row.respond_by,
        visit_by=row.visit_by,
        resolve_by=row.resolve_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        assignee=row.assignee,
        appointment_at=row.appointment_at,
    )


def _event(row: EventRow) -> TicketEvent:
    return TicketEvent(
        id=row.id,
        ticket_id=row.ticket_id,
        kind=EventKind(row.kind),
        actor=Actor.parse(row.actor),
        at=row.at,
        from_status=TicketStatus(row.from_status) if row.from_status else None,
        to_status=TicketStatus(row.to_status) if row.to_status else None,
        note=row.note,
        photos=tuple(row.photos),
    )


class TicketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, new: NewTicket, actor: Actor, now: datetime) -> Ticket:
        """Store a submitted ticket with its first event and a fresh number."""
        sequence = await self._next_sequence(new.local_day)
        row = TicketRow(
            number=ticket_number(new.local_day, sequence),
            unit_id=new.unit_id,
            owner_id=new.owner_id,
            account_id=new.account_id,
            category=new.category,
            description=new.description,
            location=new.location,
            contact_time=new.contact_time,
            photos=list(new.photos),
            status=TicketStatus.SUBMITTED.value,
            urgency=new.urgency.value,
            warranty_status=new.warranty.status.value,
            warranty_until=new.warranty.until,
            warranty_reason=new.warranty.reason.value if new.warranty.reason else None,
            is_repeat=new.is_repeat,
            respond_by=new.respond_by,
            visit_by=new.visit_by,
            resolve_by=new.resolve_by,
            created_at=now,
            updated_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        await self._add_event(
            row.id, EventKind.STATUS, actor, now, to_status=TicketStatus.SUBMITTED
        )
        ticket = await self.get(row.id)
        assert ticket is not None
        return ticket

    async def _next_sequence(self, day: date) -> int:
        """The UPDATE takes the counter row's lock until commit, so concurrent reports of the
        same day queue up; the first report of a day inserts the row (a lost race retries)."""
        bump = (
            update(TicketCounter)
            .where(TicketCounter.day == day)
            .values(last=TicketCounter.last + 1)
            .returning(TicketCounter.last)
            .execution_options(synchronize_session=False)
        )
        value = (await self.session.execute(bump)).scalar_one_or_none()
        if value is not None:
            return int(value)
        try:
            async with self.session.begin_nested():
                self.session.add(TicketCounter(day=day, last=1))
        except IntegrityError:
            return await self._next_sequence(day)
        return 1

    async def get(self, ticket_id: int) -> Ticket | None:
        row = (await self.session.execute(_ticket_query().where(TicketRow.id == ticket_id))).first()
        return _ticket(row) if row else None

    async def get_for_owner(self, ticket_id: int, owner_id: int) -> Ticket | None:
        """The ticket only if its unit is one the owner is bound to; a forged id gets None."""
        query = (
            _ticket_query()
            .join(OwnerUnit, OwnerUnit.unit_id == TicketRow.unit_id)
            .where(TicketRow.id == ticket_id, OwnerUnit.owner_id == owner_id)
        )
        row = (await self.session.execute(query)).first()
        return _ticket(row) if row else None

    async def list_for_owner(self, owner_id: int, limit: int) -> list[Ticket]:
        query = (
            _ticket_query()
            .join(OwnerUnit, OwnerUnit.unit_id == TicketRow.unit_id)
            .where(OwnerUnit.owner_id == owner_id)
            .order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
            .limit(limit)
        )
        return [_ticket(row) for row in (await self.session.execute(query)).all()]

    async def open_similar(self, unit_id: int, category: str, since: datetime) -> Ticket | None:
        """The newest open ticket of the same home and category reported since `since`."""
        query = (
            _ticket_query()
            .where(
                TicketRow.unit_id == unit_id,
                TicketRow.category == category,
                TicketRow.created_at >= since,
                TicketRow.status.in_([s.value for s in OPEN_STATUSES]),
            )
            .order_by(TicketRow.created_at.desc())
            .limit(1)
        )
        row = (await self.session.execute(query)).first()
        return _ticket(row) if row else None

    async def count_resolved(self, unit_id: int, category: str, since: datetime) -> int:
        query = select(func.count(TicketRow.id)).where(
            TicketRow.unit_id == unit_id,
            TicketRow.category == category,
            TicketRow.created_at >= since,
            TicketRow.status.in_([s.value for s in RESOLVED_STATUSES]),
        )
        return int((await self.session.execute(query)).scalar_one())

    async def events(self, ticket_id: int) -> list[TicketEvent]:
        query = select(EventRow).where(EventRow.ticket_id == ticket_id).order_by(EventRow.id)
        return [_event(row) for row in (await self.session.execute(query)).scalars()]

    async def move(
        self,
        ticket_id: int,
        expected: TicketStatus,
        new: TicketStatus,
        actor: Actor,
        now: datetime,
        note: str = "",
        photos: tuple[str, ...] = (),
    ) -> int | None:
        """Change the status only if it still is `expected` (a concurrent change wins, this one
        returns None); records the event and returns its id."""
        result = await self.session.execute(
            update(TicketRow)
            .where(TicketRow.id == ticket_id, TicketRow.status == expected.value)
            .values(status=new.value, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return await self._add_event(
            ticket_id,
            EventKind.STATUS,
            actor,
            now,
            note=note,
            photos=photos,
            from_status=expected,
            to_status=new,
        )

    async def set_dispatch(
        self, ticket_id: int, assignee: str, appointment_at: datetime | None
    ) -> None:
        await self.session.execute(
            update(TicketRow)
            .where(TicketRow.id == ticket_id)
            .values(assignee=assignee, appointment_at=appointment_at)
            .execution_options(synchronize_session=False)
        )

    async def listing(self, status: TicketStatus | None, limit: int) -> list[Ticket]:
        """For staff: every home's tickets, soonest resolution deadline first."""
        query = _ticket_query().order_by(TicketRow.resolve_by, TicketRow.id).limit(limit)
        if status is not None:
            query = query.where(TicketRow.status == status.value)
        return [_ticket(row) for row in (await self.session.execute(query)).all()]

    async def add_comment(
        self, ticket_id: int, actor: Actor, now: datetime, note: str, photos: tuple[str, ...]
    ) -> int:
        await self.session.execute(
            update(TicketRow)
            .where(TicketRow.id == ticket_id)
            .values(updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return await self._add_event(
            ticket_id, EventKind.COMMENT, actor, now, note=note, photos=photos
        )

    async def _add_event(
        self,
        ticket_id: int,
        kind: EventKind,
        actor: Actor,
        now: datetime,
        *,
        note: str = "",
        photos: tuple[str, ...] = (),
        from_status: TicketStatus | None = None,
        to_status: TicketStatus | None = None,
    ) -> int:
        row = EventRow(
            ticket_id=ticket_id,
            kind=kind.value,
            actor=str(actor),
            at=now,
            note=note,
            photos=list(photos),
            from_status=from_status.value if from_status else None,
            to_status=to_status.value if to_status else None,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id
