"""The owner roster imported from the CRM, invite codes, and binding attempts."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.roster import Home
from bot.storage.models import (
    Base,
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


@dataclass(frozen=True)
class OwnerContact:
    """An owner with what staff may need to recognise them (the caller masks it)."""

    owner_id: int
    name: str
    phone: str
    id_last4: str
    homes: tuple[str, ...]


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

    async def owner_contacts(
        self, owner_ids: Collection[int] | None = None, limit: int = 1000
    ) -> list[OwnerContact]:
        """Owners (all, or those given) by name, each with the labels of their homes."""
        owners = select(Owner).order_by(Owner.name, Owner.id).limit(limit)
        if owner_ids is not None:
            owners = owners.where(Owner.id.in_(list(owner_ids)))
        found = list((await self.session.execute(owners)).scalars())
        homes: dict[int, list[str]] = {}
        if found:
            query = (
                select(OwnerUnit.owner_id, Project.name, Building.name, Unit.number)
                .join(Unit, Unit.id == OwnerUnit.unit_id)
                .join(Building, Building.id == Unit.building_id)
                .join(Project, Project.id == Building.project_id)
                .where(OwnerUnit.owner_id.in_([o.id for o in found]))
                .order_by(Project.name, Building.name, Unit.number)
            )
            for owner_id, project, building, number in (await self.session.execute(query)).all():
                homes.setdefault(owner_id, []).append(f"{project} {building}-{number}")
        return [
            OwnerContact(o.id, o.name, o.phone, o.id_last4, tuple(homes.get(o.id, ())))
            for o in found
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
        """Insert or update every row; the caller commits once, so a failure writes nothing.

        Table by table: what exists is read in one query, what is new is added and flushed
        in one batch, so 20,000 rows cost a few dozen statements, not eight per row."""
        projects = await self._projects({row.project for row in rows})
        buildings = await self._buildings({(projects[r.project], r.building) for r in rows})
        units, units_created, units_updated = await self._units(rows, projects, buildings)
        owners, owners_created = await self._owners(rows)
        links_created = await self._links(
            {
                (owners[(r.phone, r.owner_name)], units[_unit_key(r, projects, buildings)])
                for r in rows
            }
        )
        return ImportCounts(owners_created, units_created, units_updated, links_created)

    async def _projects(self, names: set[str]) -> dict[str, int]:
        query = select(Project.name, Project.id).where(Project.name.in_(names))
        known: dict[str, int] = dict((await self.session.execute(query)).all())
        new = [Project(name=name) for name in sorted(names - known.keys())]
        self.session.add_all(new)
        await self.session.flush()
        return known | {project.name: project.id for project in new}

    async def _buildings(self, keys: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
        query = select(Building.project_id, Building.name, Building.id).where(
            Building.project_id.in_({project for project, _ in keys})
        )
        known = {(p, n): i for p, n, i in (await self.session.execute(query)).all()}
        new = [Building(project_id=p, name=n) for p, n in sorted(keys - known.keys())]
        self.session.add_all(new)
        await self.session.flush()
        return known | {(b.project_id, b.name): b.id for b in new}

    async def _units(
        self,
        rows: list[RosterRow],
        projects: dict[str, int],
        buildings: dict[tuple[int, str], int],
    ) -> tuple[dict[tuple[int, str], int], int, int]:
        """Units by (building id, number); a unit's later rows update it (co-owners)."""
        in_buildings = Unit.building_id.in_(set(buildings.values()))
        known = {
            (u.building_id, u.number): u
            for u in await self.session.scalars(select(Unit).where(in_buildings))
        }
        new: dict[tuple[int, str], dict[str, object]] = {}
        for row in rows:
            key = _unit_key(row, projects, buildings)
            values = {"handover_date": row.handover_date, "area_m2": row.area_m2}
            if key in known:
                known[key].handover_date, known[key].area_m2 = row.handover_date, row.area_m2
            else:
                new.setdefault(key, {"building_id": key[0], "number": row.unit}).update(values)
        await self._insert_many(Unit, list(new.values()))
        query = select(Unit.building_id, Unit.number, Unit.id).where(in_buildings)
        ids = {(b, n): i for b, n, i in (await self.session.execute(query)).all()}
        return ids, len(new), len(rows) - len(new)

    async def _owners(self, rows: list[RosterRow]) -> tuple[dict[tuple[str, str], int], int]:
        """Owners by (phone, name): the same person on several rows is one owner."""
        with_phones = Owner.phone.in_({row.phone for row in rows})
        known = {
            (o.phone, o.name): o
            for o in await self.session.scalars(select(Owner).where(with_phones))
        }
        new: dict[tuple[str, str], dict[str, object]] = {}
        for row in rows:
            key = (row.phone, row.owner_name)
            if key in known:
                known[key].id_last4 = row.id_last4
            else:
                new[key] = {"name": row.owner_name, "phone": row.phone, "id_last4": row.id_last4}
        await self._insert_many(Owner, list(new.values()))
        query = select(Owner.phone, Owner.name, Owner.id).where(with_phones)
        ids = {(p, n): i for p, n, i in (await self.session.execute(query)).all()}
        return ids, len(new)

    async def _insert_many(self, model: type[Base], values: list[dict[str, object]]) -> None:
        """One executemany without RETURNING: SQLite would otherwise insert row by row; the
        caller reads the new ids back in one query."""
        await self.session.flush()
        if values:
            await self.session.execute(insert(model), values)

    async def _links(self, pairs: set[tuple[int, int]]) -> int:
        query = select(OwnerUnit.owner_id, OwnerUnit.unit_id).where(
            OwnerUnit.owner_id.in_({owner for owner, _ in pairs})
        )
        known = set((await self.session.execute(query)).all())
        new: list[dict[str, object]] = [
            {"owner_id": o, "unit_id": u} for o, u in sorted(pairs - known)
        ]
        await self._insert_many(OwnerUnit, new)
        return len(new)


def _unit_key(
    row: RosterRow, projects: dict[str, int], buildings: dict[tuple[int, str], int]
) -> tuple[int, str]:
    return buildings[(projects[row.project], row.building)], row.unit
