"""Certificate cases: the owner's view (only units they are bound to) and the staff import."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.certificates import CaseValues, CertificateCase
from bot.domain.roster import Home
from bot.storage.models import Building, OwnerUnit, Project, Unit
from bot.storage.models import CertificateCase as CaseRow


def _case(row: CaseRow) -> CertificateCase:
    return CertificateCase(
        id=row.id,
        unit_id=row.unit_id,
        mortgage=row.mortgage,
        stage=row.stage,
        stage_date=row.stage_date,
        eta=row.eta,
        outstanding=tuple(row.outstanding),
        note=row.note,
        updated_at=row.updated_at,
    )


class CertificateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, case_id: int) -> CertificateCase | None:
        row = await self.session.get(CaseRow, case_id, populate_existing=True)
        return _case(row) if row else None

    async def listing(self, stage: str | None, limit: int) -> list[tuple[CertificateCase, str]]:
        """(case, home label) for staff, by home."""
        query = (
            select(CaseRow, Project.name, Building.name, Unit.number)
            .join(Unit, Unit.id == CaseRow.unit_id)
            .join(Building, Building.id == Unit.building_id)
            .join(Project, Project.id == Building.project_id)
            .order_by(Project.name, Building.name, Unit.number)
            .limit(limit)
        )
        if stage is not None:
            query = query.where(CaseRow.stage == stage)
        rows = (await self.session.execute(query)).all()
        return [(_case(row), Home(row.unit_id, p, b, u, None, None).label) for row, p, b, u in rows]

    async def home(self, unit_id: int) -> Home | None:
        query = (
            select(Project.name, Building.name, Unit.number, Unit.area_m2, Unit.handover_date)
            .join(Building, Building.id == Unit.building_id)
            .join(Project, Project.id == Building.project_id)
            .where(Unit.id == unit_id)
        )
        row = (await self.session.execute(query)).first()
        return Home(unit_id, *row) if row else None

    async def for_unit(self, unit_id: int) -> CertificateCase | None:
        query = select(CaseRow).where(CaseRow.unit_id == unit_id)
        row = (await self.session.execute(query)).scalar_one_or_none()
        return _case(row) if row else None

    async def for_owner_unit(self, unit_id: int, owner_id: int) -> CertificateCase | None:
        """The case only if the owner is bound to the unit; a forged unit id gets None."""
        query = (
            select(CaseRow)
            .join(OwnerUnit, OwnerUnit.unit_id == CaseRow.unit_id)
            .where(CaseRow.unit_id == unit_id, OwnerUnit.owner_id == owner_id)
        )
        row = (await self.session.execute(query)).scalar_one_or_none()
        return _case(row) if row else None

    async def find_unit(self, project: str, building: str, number: str) -> int | None:
        query = (
            select(Unit.id)
            .join(Building, Building.id == Unit.building_id)
            .join(Project, Project.id == Building.project_id)
            .where(Project.name == project, Building.name == building, Unit.number == number)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def owners_of_unit(self, unit_id: int) -> list[int]:
        query = select(OwnerUnit.owner_id).where(OwnerUnit.unit_id == unit_id)
        return list((await self.session.execute(query)).scalars())

    async def save(self, unit_id: int, values: CaseValues, now: datetime) -> CertificateCase:
        query = select(CaseRow).where(CaseRow.unit_id == unit_id).with_for_update()
        row = (await self.session.execute(query)).scalar_one_or_none()
        if row is None:
            row = CaseRow(unit_id=unit_id)
            self.session.add(row)
        row.mortgage = values.mortgage
        row.stage = values.stage
        row.stage_date = values.stage_date
        row.eta = values.eta
        row.outstanding = list(values.outstanding)
        row.note = values.note
        row.updated_at = now
        await self.session.flush()
        return _case(row)
