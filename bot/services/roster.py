"""Importing the owner roster the CRM exports (CSV, UTF-8 with or without BOM, or GBK from
Excel), and printing invite codes for it.

All rows are validated first and every problem is reported with its line number; nothing is
written unless the whole file is valid, so a half-imported roster never exists.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from bot.domain.binding import new_code, normalise_id_last4, normalise_phone
from bot.domain.cells import CellError, parse_date
from bot.domain.roster import mask_id_last4, mask_phone
from bot.services.csv_files import CsvProblem, open_table, write_table
from bot.storage.repositories.roster import ImportCounts, RosterRow
from bot.storage.uow import UnitOfWork

COLUMNS = (
    "project",
    "building",
    "unit",
    "owner_name",
    "phone",
    "id_last4",
    "handover_date",
    "area_m2",
)
REQUIRED = ("project", "building", "unit", "owner_name", "phone", "id_last4")
MAX_FIELD = 100


@dataclass
class ParsedRoster:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    encoding: str = "utf-8"


def parse_roster(data: bytes) -> ParsedRoster:
    result = ParsedRoster()
    try:
        table = open_table(data, COLUMNS)
    except CsvProblem as exc:
        result.errors.append(str(exc))
        return result
    reader, result.encoding = table.reader, table.encoding
    seen: dict[tuple[str, str, str, str], int] = {}
    units: dict[tuple[str, str, str], tuple[int, date | None, Decimal | None]] = {}
    try:
        for record in reader:
            line = reader.line_num
            row, problems = _parse_row(line, record)
            result.errors.extend(f"line {line}: {p}" for p in problems)
            if row is not None:
                result.errors.extend(_duplicates(row, seen, units))
                result.rows.append(row)
    except csv.Error as exc:
        result.errors.append(f"line {reader.line_num}: malformed CSV ({exc})")
    if not result.rows and not result.errors:
        result.errors.append("the file has a header but no rows")
    return result


def _parse_row(
    line: int, record: dict[str | None, str | list[str] | None]
) -> tuple[RosterRow | None, list[str]]:
    if None in record:
        return None, ["more values than columns"]
    values = {str(k).strip(): str(v or "").strip() for k, v in record.items()}
    problems = [f"{name} is empty" for name in REQUIRED if not values.get(name)]
    problems += [f"{name} is too long" for name, v in values.items() if len(v) > MAX_FIELD]
    phone = normalise_phone(values.get("phone", ""))
    if values.get("phone") and phone is None:
        problems.append(f"phone {values['phone']!r} is not an 11-digit mobile number")
    id_last4 = normalise_id_last4(values.get("id_last4", ""))
    if values.get("id_last4") and id_last4 is None:
        problems.append(
            f"id_last4 {values['id_last4']!r} must be 4 characters (digits, last may be X)"
        )
    handover, date_problem = _parse_date(values.get("handover_date", ""))
    area, area_problem = _parse_area(values.get("area_m2", ""))
    problems += [p for p in (date_problem, area_problem) if p]
    if problems or phone is None or id_last4 is None:
        return None, problems
    return (
        RosterRow(
            line=line,
            project=values["project"],
            building=values["building"],
            unit=values["unit"],
            owner_name=values["owner_name"],
            phone=phone,
            id_last4=id_last4,
            handover_date=handover,
            area_m2=area,
        ),
        [],
    )


def _parse_date(value: str) -> tuple[date | None, str | None]:
    if not value:
        return None, None
    try:
        parsed = parse_date(value, "handover_date", example="2024-06-30")
    except CellError as exc:
        return None, str(exc)
    if not 1990 <= parsed.year <= 2100:
        return None, f"handover_date {value!r} is out of range"
    return parsed, None


def _parse_area(value: str) -> tuple[Decimal | None, str | None]:
    if not value:
        return None, None
    try:
        area = Decimal(value)
    except InvalidOperation:
        return None, f"area_m2 {value!r} is not a number"
    if not area.is_finite() or not 0 < area < 100_000:
        return None, f"area_m2 {value!r} is out of range"
    return area.quantize(Decimal("0.01")), None


def _duplicates(
    row: RosterRow,
    seen: dict[tuple[str, str, str, str], int],
    units: dict[tuple[str, str, str], tuple[int, date | None, Decimal | None]],
) -> list[str]:
    """Same owner twice on one unit is a copy error; one unit with two owners is fine, but
    then both lines must agree on the unit's handover date and area."""
    problems = []
    key = (row.project, row.building, row.unit, row.phone)
    if key in seen:
        problems.append(f"line {row.line}: duplicate of line {seen[key]} (same unit and owner)")
    seen.setdefault(key, row.line)
    unit_key = key[:3]
    if unit_key in units:
        first_line, handover, area = units[unit_key]
        if (handover, area) != (row.handover_date, row.area_m2):
            problems.append(
                f"line {row.line}: unit {'/'.join(unit_key)} has a different handover_date or "
                f"area_m2 than line {first_line}"
            )
    else:
        units[unit_key] = (row.line, row.handover_date, row.area_m2)
    return problems


async def import_roster(
    uow_factory: Callable[[], UnitOfWork], rows: list[RosterRow], now: datetime, *, dry_run: bool
) -> ImportCounts:
    async with uow_factory() as uow:
        counts = await uow.roster.import_rows(rows)
        await uow.audit.record(
            actor="cli", action="roster_import", subject="roster", at=now, rows=len(rows)
        )
        if not dry_run:
            await uow.commit()
    return counts


@dataclass(frozen=True)
class PrintedCode:
    project: str
    building: str
    unit: str
    owner_name: str
    code: str
    telegram_link: str


async def issue_invite_codes(
    uow_factory: Callable[[], UnitOfWork],
    *,
    now: datetime,
    valid_until: datetime,
    bot_username: str,
    only_new: bool,
) -> list[PrintedCode]:
    """One code per owner-unit for printing. Re-running reprints the still-valid codes;
    `only_new` lists only the owner-units that needed a new one."""
    printed = []
    async with uow_factory() as uow:
        valid = await uow.roster.valid_codes_by_owner_unit(now)
        for home in await uow.roster.owner_homes():
            code = valid.get(home.owner_unit_id)
            if code is not None and only_new:
                continue
            if code is None:
                code = await _unused_code(uow)
                await uow.roster.issue_invite(home.owner_unit_id, code, now, valid_until)
            link = f"https://t.me/{bot_username}?start={code}"
            printed.append(
                PrintedCode(home.project, home.building, home.unit, home.owner_name, code, link)
            )
        await uow.commit()
    return printed


async def _unused_code(uow: UnitOfWork) -> str:
    while True:
        code = new_code()
        if await uow.roster.invite(code) is None:
            return code


def write_codes_csv(path: Path, codes: list[PrintedCode]) -> None:
    """UTF-8 with BOM, so Excel in a Chinese locale shows the names (not mojibake)."""
    write_table(
        path,
        ["project", "building", "unit", "owner_name", "code", "telegram_link"],
        ([c.project, c.building, c.unit, c.owner_name, c.code, c.telegram_link] for c in codes),
        encoding="utf-8-sig",
    )


async def valid_invite_codes(uow_factory: Callable[[], UnitOfWork], now: datetime) -> list[str]:
    """Codes issued, unused and unexpired: the ones worth printing as QR codes."""
    async with uow_factory() as uow:
        return await uow.roster.valid_invite_codes(now)


@dataclass(frozen=True)
class OwnerCard:
    """An owner as staff screens show them: phone and ID masked, never in full."""

    owner_id: int
    name: str
    phone: str
    id_last4: str
    homes: tuple[str, ...]


async def owner_cards(
    uow: UnitOfWork, owner_ids: Collection[int] | None = None, limit: int = 1000
) -> list[OwnerCard]:
    """Owners (all, or those given) by name, masked for staff eyes."""
    return [
        OwnerCard(c.owner_id, c.name, mask_phone(c.phone), mask_id_last4(c.id_last4), c.homes)
        for c in await uow.roster.owner_contacts(owner_ids, limit)
    ]
