"""Rules for a new repair report: categories, urgency, deadlines, ticket numbers, repeats.

Every number comes from `config/rules.yaml` section `repair`; this module only gives the numbers
their meaning. Times are aware datetimes in the company's time zone (the caller converts).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from bot.domain.errors import ConfigError, whole
from bot.domain.service_hours import ServiceHours
from bot.domain.warranty import AssessmentReason, WarrantyDecision, WarrantyStatus, decide_warranty

DESIGN_LIFE = "design_life"
TICKET_PREFIX = "BX"  # 报修
#: Saturday and Sunday; public holidays are not modelled (DEFAULT, not in source).
WEEKEND = frozenset({5, 6})


class Urgency(enum.StrEnum):
    URGENT = "urgent"
    NORMAL = "normal"


@dataclass(frozen=True)
class DeadlineRule:
    contact_hours: int
    visit_hours: int
    resolve_working_days: int


@dataclass(frozen=True)
class RepairCategory:
    id: str
    #: None: no period in the sources, "以《质量保证书》为准".
    warranty_years: int | None
    urgent_keywords: tuple[str, ...]
    #: This category's own deadlines per urgency, where they differ from the defaults.
    deadlines: Mapping[Urgency, DeadlineRule]
    #: The warranty is the project's design life ("主体结构的保修期限为设计使用年限", 000).
    design_life: bool = False
    #: A complex problem: the owner is promised a plan, not a fix ("复杂问题在X个工作日内给出
    #: 解决方案和处理时间", 000); `resolve_working_days` is then the plan's deadline.
    complex: bool = False


@dataclass(frozen=True)
class Deadlines:
    """Stored on the ticket, so later rule changes do not move promises already made."""

    respond_by: datetime
    visit_by: datetime
    resolve_by: datetime


@dataclass(frozen=True)
class RepairRules:
    categories: tuple[RepairCategory, ...]
    max_photos: int
    same_issue_window: timedelta
    repeat_window: timedelta
    repeat_min_closed: int
    deadlines: Mapping[Urgency, DeadlineRule]
    #: Design life in years by project name, where the company entered one from the project's
    #: 质量保证书; no figure is assumed for the others.
    design_life_years: Mapping[str, int]

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> RepairRules:
        try:
            deadlines = {
                urgency: DeadlineRule(**section["deadlines"][urgency.value]) for urgency in Urgency
            }
            categories = tuple(_category(item, deadlines) for item in section["categories"])
            return cls(
                categories=categories,
                max_photos=whole(section, "max_photos"),
                same_issue_window=timedelta(days=whole(section, "same_issue_window_days")),
                repeat_window=timedelta(days=whole(section, "repeat_window_days")),
                repeat_min_closed=whole(section, "repeat_min_closed"),
                deadlines=deadlines,
                design_life_years={
                    str(project): int(years)
                    for project, years in (section["design_life_years"] or {}).items()
                },
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"repair: {exc!r}") from exc

    def category(self, category_id: str) -> RepairCategory | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def warranty(
        self, category_id: str, handover: date | None, today: date, *, project: str
    ) -> WarrantyDecision:
        """For the structure, the design life the company entered for `project`; without one
        the bot dates nothing and points to the 质量保证书."""
        category = self.category(category_id)
        if category is None or not category.design_life:
            years = category.warranty_years if category else None
            return decide_warranty(handover, years, today, known_category=category is not None)
        design_life = self.design_life_years.get(project)
        if design_life is None:
            return WarrantyDecision(
                WarrantyStatus.NEEDS_ASSESSMENT, None, AssessmentReason.DESIGN_LIFE_UNSET
            )
        return decide_warranty(handover, design_life, today)

    def is_complex(self, category_id: str) -> bool:
        category = self.category(category_id)
        return category is not None and category.complex

    def urgency(self, category_id: str, description: str) -> Urgency:
        """Urgent when the description names one of the category's urgent keywords (a leak,
        no power, no water: domain §4 "根据问题的严重程度和紧急程度")."""
        category = self.category(category_id)
        text = description.casefold()
        if category and any(word.casefold() in text for word in category.urgent_keywords):
            return Urgency.URGENT
        return Urgency.NORMAL

    def deadlines_for(
        self, category_id: str, urgency: Urgency, reported_at: datetime, hours: ServiceHours
    ) -> Deadlines:
        """An emergency counts in clock hours from the report. Any other report counts from the
        next service hour: contact within `contact_hours` of service time, the visit
        `visit_hours` later, the resolution (or a complex problem's plan) in working days.
        `reported_at` must carry the company's time zone so weekends and hours fall right."""
        category = self.category(category_id)
        rule = category.deadlines[urgency] if category else self.deadlines[urgency]
        contact, visit = timedelta(hours=rule.contact_hours), timedelta(hours=rule.visit_hours)
        if urgency is Urgency.URGENT:
            start, respond_by = reported_at, reported_at + contact
        else:
            start, respond_by = (
                hours.next_open(reported_at),
                hours.add_open_time(reported_at, contact),
            )
        return Deadlines(
            respond_by=respond_by,
            visit_by=start + visit,
            resolve_by=add_working_days(start, rule.resolve_working_days),
        )

    def is_repeat(self, recently_closed: int) -> bool:
        return recently_closed >= self.repeat_min_closed


def _category(item: Mapping[str, Any], defaults: Mapping[Urgency, DeadlineRule]) -> RepairCategory:
    years = item.get("warranty_years")
    design_life = years == DESIGN_LIFE
    overrides = item.get("deadlines") or {}
    return RepairCategory(
        id=str(item["id"]),
        warranty_years=None if years is None or design_life else int(years),
        urgent_keywords=tuple(str(word) for word in item.get("urgent_keywords") or ()),
        deadlines={
            urgency: replace(rule, **overrides.get(urgency.value, {}))
            for urgency, rule in defaults.items()
        },
        design_life=design_life,
        complex=bool(item.get("complex", False)),
    )


def add_working_days(start: datetime, days: int) -> datetime:
    """`days` working days later at the same local time; a start on a weekend counts from the
    next Monday's time of day as if reported then."""
    moment = start
    while moment.weekday() in WEEKEND:
        moment += timedelta(days=1)
    for _ in range(days):
        moment += timedelta(days=1)
        while moment.weekday() in WEEKEND:
            moment += timedelta(days=1)
    return moment


def ticket_number(local_day: date, sequence: int) -> str:
    """`BX-20261122-0007`: the local day the report came in and its number that day."""
    return f"{TICKET_PREFIX}-{local_day:%Y%m%d}-{sequence:04d}"
