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
from typing import Any

from bot.config import ConfigError


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
    checklist: tuple[str, ...]
    checklist_mortgage_extra: tuple[str, ...]

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> CertificateRules:
        try:
            return cls(
                stages=tuple(
                    (str(s["id"]), bool(s.get("mortgage_only", False))) for s in section["stages"]
                ),
                checklist=tuple(str(item) for item in section["checklist"]),
                checklist_mortgage_extra=tuple(
                    str(item) for item in section.get("checklist_mortgage_extra") or ()
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"rules.yaml certificate: {exc!r}") from exc

    def stages_for(self, mortgage: bool) -> tuple[str, ...]:
        return tuple(stage for stage, mortgage_only in self.stages if mortgage or not mortgage_only)

    def checklist_for(self, mortgage: bool) -> tuple[str, ...]:
        return self.checklist + (self.checklist_mortgage_extra if mortgage else ())

    def all_stage_ids(self) -> frozenset[str]:
        return frozenset(stage for stage, _ in self.stages)

    def all_items(self) -> frozenset[str]:
        return frozenset(self.checklist + self.checklist_mortgage_extra)


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
    #: (item, still outstanding) in checklist order.
    checklist: tuple[tuple[str, bool], ...]


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
    checklist = tuple((item, item in outstanding) for item in rules.checklist_for(case.mortgage))
    return CaseProgress(states, next_stage, checklist)


def stage_error(stage: str, mortgage: bool, rules: CertificateRules) -> str | None:
    """Why `stage` cannot be a case's stage (a short reason code), or None when it can."""
    if stage not in rules.all_stage_ids():
        return "unknown_stage"
    if stage not in rules.stages_for(mortgage):
        return "mortgage_stage_without_mortgage"
    return None
