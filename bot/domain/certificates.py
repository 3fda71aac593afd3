"""The property-certificate (产权证) case of one unit: ordered stages, checklist, what comes next.

Stages and their order come from `config/rules.yaml` section `certificate` (domain §6, source
002); mortgage-only stages are skipped for a case paid without a mortgage. The sources state no
durations, so an ETA is shown only when staff entered one.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from bot.domain.errors import ConfigError

T = TypeVar("T")


class CertificateError(Exception):
    """A staff stage change the rules refuse; `reason` is a short code, `case_id` the case."""

    def __init__(self, reason: str, case_id: int | None = None) -> None:
        super().__init__(reason if case_id is None else f"{reason} (case {case_id})")
        self.reason = reason
        self.case_id = case_id


@dataclass(frozen=True)
class CertificateRules:
    #: (stage id, mortgage only) in order.
    stages: tuple[tuple[str, bool], ...]
    #: What the owner brings, signs, hands back or pays.
    checklist: tuple[str, ...]
    checklist_mortgage_extra: tuple[str, ...]
    #: Papers the company obtains for the owner (002: "交至代管银行,并取得交款凭证" …).
    company_obtains: tuple[str, ...]
    company_obtains_mortgage_extra: tuple[str, ...]

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> CertificateRules:
        try:
            return cls(
                stages=tuple(
                    (str(s["id"]), bool(s.get("mortgage_only", False))) for s in section["stages"]
                ),
                checklist=_items(section, "checklist"),
                checklist_mortgage_extra=_items(section, "checklist_mortgage_extra"),
                company_obtains=_items(section, "company_obtains"),
                company_obtains_mortgage_extra=_items(section, "company_obtains_mortgage_extra"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"certificate: {exc!r}") from exc

    def stages_for(self, mortgage: bool) -> tuple[str, ...]:
        return tuple(stage for stage, mortgage_only in self.stages if mortgage or not mortgage_only)

    def owner_items(self, mortgage: bool) -> tuple[str, ...]:
        return self.checklist + (self.checklist_mortgage_extra if mortgage else ())

    def company_items(self, mortgage: bool) -> tuple[str, ...]:
        return self.company_obtains + (self.company_obtains_mortgage_extra if mortgage else ())

    def checklist_for(self, mortgage: bool) -> tuple[str, ...]:
        """Every item of a new case, all still to do: the owner's, then the company's."""
        return self.owner_items(mortgage) + self.company_items(mortgage)

    def all_stage_ids(self) -> frozenset[str]:
        return frozenset(stage for stage, _ in self.stages)

    def all_items(self) -> frozenset[str]:
        return frozenset(self.checklist_for(mortgage=True))


def _items(section: Mapping[str, Any], key: str) -> tuple[str, ...]:
    return tuple(str(item) for item in section.get(key) or ())


@dataclass(frozen=True)
class CertificateCase:
    id: int
    unit_id: int
    mortgage: bool
    stage: str
    stage_date: date
    #: Only when staff entered one; never computed (the sources state no durations).
    eta: date | None
    #: Checklist items the owner still has to bring or pay.
    outstanding: tuple[str, ...]
    note: str
    updated_at: datetime


class StageState(enum.StrEnum):
    DONE = "done"
    CURRENT = "current"
    PENDING = "pending"


@dataclass(frozen=True)
class CaseProgress:
    stages: tuple[tuple[str, StageState], ...]
    next_stage: str | None
    #: (item, still outstanding) in checklist order: what the owner brings or pays.
    checklist: tuple[tuple[str, bool], ...]
    #: (item, still outstanding): what the company is obtaining for the owner.
    company: tuple[tuple[str, bool], ...]


def progress(case: CertificateCase, rules: CertificateRules) -> CaseProgress:
    order = rules.stages_for(case.mortgage)
    current = order.index(case.stage) if case.stage in order else -1
    states = tuple(
        (
            stage,
            StageState.DONE
            if i < current
            else StageState.CURRENT
            if i == current
            else StageState.PENDING,
        )
        for i, stage in enumerate(order)
    )
    next_stage = order[current + 1] if 0 <= current < len(order) - 1 else None
    outstanding = set(case.outstanding)
    checklist = tuple((item, item in outstanding) for item in rules.owner_items(case.mortgage))
    company = tuple((item, item in outstanding) for item in rules.company_items(case.mortgage))
    return CaseProgress(states, next_stage, checklist, company)


def stage_error(stage: str, mortgage: bool, rules: CertificateRules) -> str | None:
    """Why `stage` cannot be a case's stage (a short reason code), or None when it can."""
    if stage not in rules.all_stage_ids():
        return "unknown_stage"
    if stage not in rules.stages_for(mortgage):
        return "mortgage_stage_without_mortgage"
    return None


# -- a staff import row applied to a case ---------------------------------------------------
class Keep(enum.Enum):
    """A blank optional cell: leave the case's value as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class CaseRow:
    line: int
    project: str
    building: str
    unit: str
    stage: str
    stage_date: date | Keep
    mortgage: bool | Keep
    eta: date | Keep | None
    outstanding: tuple[str, ...] | Keep
    note: str | Keep


@dataclass(frozen=True)
class CaseValues:
    """A case as a staff import wants it to be after the row is applied."""

    mortgage: bool
    stage: str
    stage_date: date
    eta: date | None
    outstanding: tuple[str, ...]
    note: str


def merge(
    row: CaseRow, case: CertificateCase | None, rules: CertificateRules, today: date
) -> CaseValues:
    """The case after the row: blank cells keep the case's values (or a new case's defaults);
    a new stage without a date is dated today."""
    mortgage = _kept(row.mortgage, case.mortgage if case else False)
    if not isinstance(row.stage_date, Keep):
        stage_date = row.stage_date
    elif case is not None and case.stage == row.stage:
        stage_date = case.stage_date
    else:
        stage_date = today
    checklist = case.outstanding if case else rules.checklist_for(mortgage)
    return CaseValues(
        mortgage=mortgage,
        stage=row.stage,
        stage_date=stage_date,
        eta=_kept(row.eta, case.eta if case else None),
        outstanding=_kept(row.outstanding, checklist),
        note=_kept(row.note, case.note if case else ""),
    )


def _kept(value: T | Keep, current: T) -> T:
    return current if isinstance(value, Keep) else value
