"""The owner roster imported from the CRM, invite codes, and binding attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.roster import Home
from bot.storage.models import (
    BindingAttempt,
    Building,
    InviteCode,
    Owner,
    OwnerUnit,
    Project,
    Unit,
)


@dataclass(frozen=True)
class RosterRow:
    """One validated line of the CRM export."""

    line: int
    project: str
    building: str
    unit: str
    owner_name: str
    phone: str
    id_last4: str
    handover_date: date | None
    area_m2: Decimal | None


@dataclass(frozen=True)
class ImportCounts:
    owners_created: int = 0
    units_created: int = 0
    units_updated: int = 0
    links_created: int = 0


@dataclass(frozen=True)
class Invite:
    code: str
    owner_id: int
    owner_unit_id: int
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True)
class OwnerHome:
    """An owner-unit pair as printed on an invite sheet."""

    owner_unit_id: int
    project: str
    building: str
    unit: str
    owner_name: str


class RosterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- reading ---------------------------------------------------------------------------
    async def homes_of_owner(self, owner_id: int) -> list[Home]:
        query = (
            select(Unit, Building.name, Project.name)
            .join(OwnerUnit, OwnerUnit.unit_id == Unit.id)
            .join(Building, Building.id == Unit.building_id)
            .join(Project, Project.id == Building.project_id)
            .where(OwnerUnit.owner_id == owner_id)
            .order_by(Project.name, Building.name, Unit.number)
        )
        return [
            Home(
                unit_id=unit.id,
                project=project,
                building=building,
                number=unit.number,
                area_m2=unit.area_m2,
                handover_date=unit.handover_date,
            )
            for unit, building, project in (await self.session.execute(query)).all()
        ]

    async def owner_name(self, owner_id: int) -> str | None:
        owner = await self.session.get(Owner, owner_id)
        return owner.name if owner else None

    async def owner_by_phone_and_id(self, phone: str, id_last4: str) -> int | None:
        query = select(Owner.id).where(Owner.phone == phone, Owner.id_last4 == id_last4.upper())
        return (await self.session.execute(query.limit(1))).scalar_one_or_none()

    # -- invite codes ----------------------------------------------------------------------
    async def invite(self, code: str) -> Invite | None:
        query = (
            select(InviteCode, OwnerUnit.owner_id)
            .join(OwnerUnit, OwnerUnit.id == InviteCode.owner_unit_id)
            .where(InviteCode.code == code)
        )
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        invite, owner_id = row
        return Invite(
            invite.code, owner_id, invite.owner_unit_id, invite.expires_at, invite.used_at
        )

    async def consume_invite(self, code: str, account_id: int, now: datetime) -> bool:
        """Mark the code used; False if another account used it first (one-time, race-safe)."""
        result = await self.session.execute(
            update(InviteCode)
            .where(InviteCode.code == code, InviteCode.used_at.is_(None))
            .values(used_at=now, used_by_account_id=account_id)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def issue_invite(
        self, owner_unit_id: int, code: str, now: datetime, expires_at: datetime
    ) -> None:
        self.session.add(
            InviteCode(
                code=code, owner_unit_id=owner_unit_id, created_at=now, expires_at=expires_at
            )
        )
        await self.session.flush()

    async def owner_homes(self) -> list[OwnerHome]:
        query = (
            select(OwnerUnit.id, Project.name, Building.name, Unit.number, Owner.name)
            .join(Owner, Owner.id == OwnerUnit.owner_id)
            .join(Unit, Unit.id == OwnerUnit.unit_id)
            .join(Building, Building.id == Unit.building_id)
            .join(Project, Project.id == Building.project_id)
            .order_by(Project.name, Building.name, Unit.number, Owner.name)
        )
        return [OwnerHome(*row) for row in (await self.session.execute(query)).all()]

    async def valid_codes_by_owner_unit(self, now: datetime) -> dict[int, str]:
        query = (
            select(InviteCode.owner_unit_id, InviteCode.code)
            .where(InviteCode.used_at.is_(None), InviteCode.expires_at > now)
            .order_by(InviteCode.id)
        )
        return {owner_unit: code for owner_unit, code in (await self.session.execute(query)).all()}

    async def valid_invite_codes(self, now: datetime) -> list[str]:
        query = (
            select(InviteCode.code)
            .where(InviteCode.used_at.is_(None), InviteCode.expires_at > now)
            .order_by(InviteCode.id)
        )
        return list((await self.session.execute(query)).scalars())

    # -- binding attempts ------------------------------------------------------------------
    async def failed_attempts_since(self, account_id: int, since: datetime) -> int:
        query = select(func.count(BindingAttempt.id)).where(
            BindingAttempt.account_id == account_id, BindingAttempt.attempted_at >= since
        )
        return int((await self.session.execute(query)).scalar_one())

    async def failed_attempts_on_target(self, target: str, since: datetime) -> int:
        query = select(func.count(BindingAttempt.id)).where(
            BindingAttempt.target == target, BindingAttempt.attempted_at >= since
        )
        return int((await self.session.execute(query)).scalar_one())

    async def record_failed_attempt(
        self, account_id: int, now: datetime, target: str | None = None
    ) -> None:
        self.session.add(BindingAttempt(account_id=account_id, attempted_at=now, target=target))
        await self.session.flush()

    # -- import ----------------------------------------------------------------------------
    async def import_rows(self, rows: list[RosterRow]) -> ImportCounts:
        """Insert or update every row; the caller commits once, so a failure writes nothing."""
        owners_created = units_created = units_updated = links_created = 0
        for row in rows:
            project = await self._project(row.project)
            building = await self._building(project.id, row.building)
            unit, created = await self._unit(building.id, row)
            units_created += created
            units_updated += not created
            owner, owner_created = await self._owner(row)
            owners_created += owner_created
            links_created += await self._link(owner.id, unit.id)
        return ImportCounts(owners_created, units_created, units_updated, links_created)

    async def _project(self, name: str) -> Project:
        project = (
            await self.session.execute(select(Project).where(Project.name == name))
        ).scalar_one_or_none()
        if project is None:
            project = Project(name=name)
            self.session.add(project)
            await self.session.flush()
        return project

    async def _building(self, project_id: int, name: str) -> Building:
        query = select(Building).where(Building.project_id == project_id, Building.name == name)
        building = (await self.session.execute(query)).scalar_one_or_none()
        if building is None:
            building = Building(project_id=project_id, name=name)
            self.session.add(building)
            await self.session.flush()
        return building

    async def _unit(self, building_id: int, row: RosterRow) -> tuple[Unit, bool]:
        query = select(Unit).where(Unit.building_id == building_id, Unit.number == row.unit)
        unit = (await self.session.execute(query)).scalar_one_or_none()
        created = unit is None
        if unit is None:
            unit = Unit(building_id=building_id, number=row.unit)
            self.session.add(unit)
        unit.handover_date = row.handover_date
        unit.area_m2 = row.area_m2
        await self.session.flush()
        return unit, created

    async def _owner(self, row: RosterRow) -> tuple[Owner, bool]:
        query = select(Owner).where(Owner.phone == row.phone, Owner.name == row.owner_name)
        owner = (await self.session.execute(query)).scalar_one_or_none()
        if owner is not None:
            owner.id_last4 = row.id_last4
            return owner, False
        owner = Owner(name=row.owner_name, phone=row.phone, id_last4=row.id_last4)
        self.session.add(owner)
        await self.session.flush()
        return owner, True

    async def _link(self, owner_id: int, unit_id: int) -> bool:
        query = select(OwnerUnit).where(
            OwnerUnit.owner_id == owner_id, OwnerUnit.unit_id == unit_id
        )
        if (await self.session.execute(query)).scalar_one_or_none() is not None:
            return False
        self.session.add(OwnerUnit(owner_id=owner_id, unit_id=unit_id))
        await self.session.flush()
        return True
