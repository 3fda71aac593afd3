"""Staff update certificate cases: in bulk from a CSV (`python -m bot certificates import FILE`),
or one or several cases to a stage from the console and the API (`change_stages`).

Columns (header required, any order): project, building, unit, stage, and optionally
stage_date, mortgage, eta, outstanding_items, note. A blank optional cell keeps what the case
has (a new case: today's local date, no mortgage, no ETA, the whole checklist outstanding,
no note); "-" clears eta, note or outstanding_items. outstanding_items are checklist ids from
rules.yaml separated by ";" — e.g. "invoice;deed_tax_receipt". The note is shown to the owner.

Every row is checked first and every problem reported with its line number; nothing is
written unless the whole file is valid. A stage change queues a push to the unit's owners.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.domain.cells import CellError, parse_date, parse_yes_no
from bot.domain.certificates import (
    KEEP,
    CaseRow,
    CaseValues,
    CertificateCase,
    CertificateError,
    CertificateRules,
    Keep,
    merge,
    stage_error,
)
from bot.domain.roster import Home
from bot.domain.staff import StaffUser
from bot.i18n import Texts
from bot.services.csv_files import CsvProblem, open_table
from bot.services.notify import notify_owners
from bot.storage.uow import UnitOfWork

REQUIRED = ("project", "building", "unit", "stage")
OPTIONAL = ("stage_date", "mortgage", "eta", "outstanding_items", "note")
CLEAR = "-"
MAX_NOTE = 500


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    stage_changes: int = 0
    notified: int = 0
    dry_run: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_cases(data: bytes, rules: CertificateRules) -> tuple[list[CaseRow], list[str]]:
    """Rows and "line N: problem" messages; the file is usable only without problems."""
    try:
        reader = open_table(data, REQUIRED, OPTIONAL).reader
    except CsvProblem as exc:
        return [], [str(exc)]
    rows, errors = [], []
    try:
        for record in reader:
            row, problems = _parse_row(reader.line_num, record, rules)
            errors += [f"line {reader.line_num}: {problem}" for problem in problems]
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        errors.append(f"line {reader.line_num}: malformed CSV ({exc})")
    if not rows and not errors:
        errors.append("the file has a header but no rows")
    return rows, errors


def _parse_row(
    line: int, record: dict[str | None, str | list[str] | None], rules: CertificateRules
) -> tuple[CaseRow | None, list[str]]:
    if None in record:
        return None, ["more values than columns"]
    cells = {str(k).strip(): str(v or "").strip() for k, v in record.items()}
    problems = [f"{name} is empty" for name in REQUIRED if not cells.get(name)]
    if cells.get("stage") and cells["stage"] not in rules.all_stage_ids():
        problems.append(f"stage {cells['stage']!r} is not one of {sorted(rules.all_stage_ids())}")
    stage_date = _date(cells.get("stage_date", ""), "stage_date", problems)
    eta = None if cells.get("eta") == CLEAR else _date(cells.get("eta", ""), "eta", problems)
    mortgage = _mortgage(cells.get("mortgage", ""), problems)
    outstanding = _items(cells.get("outstanding_items", ""), rules, problems)
    note = cells.get("note", "")
    if len(note) > MAX_NOTE:
        problems.append(f"note is longer than {MAX_NOTE} characters")
    if problems:
        return None, problems
    return CaseRow(
        line=line,
        project=cells["project"],
        building=cells["building"],
        unit=cells["unit"],
        stage=cells["stage"],
        stage_date=stage_date,
        mortgage=mortgage,
        eta=eta,
        outstanding=outstanding,
        note=KEEP if not note else "" if note == CLEAR else note,
    ), []


def _date(value: str, name: str, problems: list[str]) -> date | Keep:
    if not value:
        return KEEP
    try:
        return parse_date(value, name)
    except CellError as exc:
        problems.append(str(exc))
        return KEEP


def _mortgage(value: str, problems: list[str]) -> bool | Keep:
    if not value:
        return KEEP
    try:
        return parse_yes_no(value, "mortgage")
    except CellError as exc:
        problems.append(str(exc))
        return KEEP


def _items(value: str, rules: CertificateRules, problems: list[str]) -> tuple[str, ...] | Keep:
    if not value:
        return KEEP
    if value == CLEAR:
        return ()
    items = tuple(item.strip() for item in value.replace("|", ";").split(";") if item.strip())
    unknown = [item for item in items if item not in rules.all_items()]
    if unknown:
        problems.append(f"outstanding_items {unknown} are not in {sorted(rules.all_items())}")
    return items


@dataclass(frozen=True)
class _Planned:
    row: CaseRow
    unit_id: int
    values: CaseValues
    existing: CertificateCase | None

    @property
    def stage_changed(self) -> bool:
        return self.existing is None or (self.existing.stage, self.existing.stage_date) != (
            self.values.stage,
            self.values.stage_date,
        )


async def import_certificates(
    uow_factory: Callable[[], UnitOfWork],
    data: bytes,
    *,
    rules: CertificateRules,
    texts: Texts,
    tz: ZoneInfo,
    now: datetime,
    dry_run: bool = False,
) -> ImportReport:
    """Validate the whole file, then apply it in one transaction (or, dry, roll it back).
    Takes the file's bytes so the staff console can pass an upload as the CLI passes a file."""
    report = ImportReport(dry_run=dry_run)
    rows, report.errors = parse_cases(data, rules)
    report.rows = len(rows)
    if report.errors:
        return report
    async with uow_factory() as uow:
        planned = await _plan(uow, rows, rules, now.astimezone(tz).date(), report)
        if report.errors:
            return report
        for change in planned:
            await _apply(uow, texts, change, now, report)
        if not dry_run:
            await uow.commit()
    return report


async def _plan(
    uow: UnitOfWork, rows: list[CaseRow], rules: CertificateRules, today: date, report: ImportReport
) -> list[_Planned]:
    planned: list[_Planned] = []
    seen: dict[int, int] = {}
    for row in rows:
        unit_id = await uow.certificates.find_unit(row.project, row.building, row.unit)
        if unit_id is None:
            report.errors.append(
                f"line {row.line}: no unit {row.project}/{row.building}/{row.unit}"
            )
            continue
        if unit_id in seen:
            report.errors.append(f"line {row.line}: same unit as line {seen[unit_id]}")
            continue
        seen[unit_id] = row.line
        existing = await uow.certificates.for_unit(unit_id)
        values = merge(row, existing, rules, today)
        if stage_error(values.stage, values.mortgage, rules) is not None:
            report.errors.append(f"line {row.line}: stage {values.stage!r} needs mortgage=yes")
            continue
        planned.append(_Planned(row, unit_id, values, existing))
    return planned


async def _apply(
    uow: UnitOfWork, texts: Texts, change: _Planned, now: datetime, report: ImportReport
) -> None:
    case = await uow.certificates.save(change.unit_id, change.values, now)
    report.created += change.existing is None
    report.updated += change.existing is not None
    if not change.stage_changed:
        return
    report.stage_changes += 1
    home = Home(
        change.unit_id, change.row.project, change.row.building, change.row.unit, None, None
    )
    report.notified += await _stage_changed(uow, texts, case, home, "certificates_import", now)


async def _stage_changed(
    uow: UnitOfWork, texts: Texts, case: CertificateCase, home: Home, actor: str, now: datetime
) -> int:
    """Audit a new stage and push it to the unit's owners; returns how many were queued."""
    await uow.audit.record(
        actor=actor,
        action="certificate_stage",
        subject=f"unit:{case.unit_id}",
        at=now,
        stage=case.stage,
        stage_date=case.stage_date.isoformat(),
    )
    return await notify_owners(
        uow,
        texts,
        await uow.certificates.owners_of_unit(case.unit_id),
        "certificate.stage_changed",
        purpose="certificate_update",
        idempotency_key=f"certificate:{case.id}:{case.stage}:{case.stage_date.isoformat()}",
        now=now,
        values={"home": home.label, "date": case.stage_date.isoformat()},
        localized={"stage": f"certificate.stage_{case.stage}"},
        buttons=[("certificate.button_show", f"certificate:home:{case.unit_id}")],
    )


@dataclass(frozen=True)
class StageChange:
    """A stage staff set on one or more cases; the date defaults to today (local), and a
    `note` of None keeps each case's note."""

    stage: str
    stage_date: date | None = None
    note: str | None = None


async def list_cases(
    uow: UnitOfWork, stage: str | None = None, limit: int = 500
) -> list[tuple[CertificateCase, str]]:
    """(case, home label), by home."""
    return await uow.certificates.listing(stage, limit)


async def change_stages(
    uow: UnitOfWork,
    texts: Texts,
    rules: CertificateRules,
    case_ids: Sequence[int],
    change: StageChange,
    staff: StaffUser,
    now: datetime,
    tz: ZoneInfo,
) -> list[tuple[CertificateCase, str]]:
    """Move one case or many to a stage, all or none: every case is checked before any is
    written; returns (case, home label) of each. Each owner whose case moved is told.
    Raises `CertificateError` ("not_found", "unknown_stage", "no_cases", "note_too_long",
    "mortgage_stage_without_mortgage")."""
    if not case_ids:
        raise CertificateError("no_cases")
    if change.note is not None and len(change.note) > MAX_NOTE:
        raise CertificateError("note_too_long")
    stage_date = change.stage_date or now.astimezone(tz).date()
    planned = []
    for case_id in dict.fromkeys(case_ids):
        case = await uow.certificates.get(case_id)
        if case is None:
            raise CertificateError("not_found", case_id)
        problem = stage_error(change.stage, case.mortgage, rules)
        if problem is not None:
            raise CertificateError(problem, case_id)
        planned.append(case)
    return [await _set_stage(uow, texts, case, change, stage_date, staff, now) for case in planned]


async def _set_stage(
    uow: UnitOfWork,
    texts: Texts,
    case: CertificateCase,
    change: StageChange,
    stage_date: date,
    staff: StaffUser,
    now: datetime,
) -> tuple[CertificateCase, str]:
    values = CaseValues(
        mortgage=case.mortgage,
        stage=change.stage,
        stage_date=stage_date,
        eta=case.eta,
        outstanding=case.outstanding,
        note=case.note if change.note is None else change.note.strip(),
    )
    saved = await uow.certificates.save(case.unit_id, values, now)
    home = await uow.certificates.home(case.unit_id)
    if (case.stage, case.stage_date) != (saved.stage, saved.stage_date) and home is not None:
        await _stage_changed(uow, texts, saved, home, staff.actor, now)
    return saved, home.label if home else ""
