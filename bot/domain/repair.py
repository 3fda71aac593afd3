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

from bot.domain.errors import ConfigError
from bot.domain.warranty import WarrantyDecision, decide_warranty

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

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> RepairRules:
        try:
            design_life = int(section["design_life_years"])
            deadlines = {
                urgency: DeadlineRule(**section["deadlines"][urgency.value]) for urgency in Urgency
            }
            categories = tuple(
                _category(item, design_life, deadlines) for item in section["categories"]
            )
            return cls(
                categories=categories,
                max_photos=int(section["max_photos"]),
                same_issue_window=timedelta(days=int(section["same_issue_window_days"])),
                repeat_window=timedelta(days=int(section["repeat_window_days"])),
                repeat_min_closed=int(section["repeat_min_closed"]),
                deadlines=deadlines,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"repair: {exc!r}") from exc

    def category(self, category_id: str) -> RepairCategory | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def warranty(self, category_id: str, handover: date | None, today: date) -> WarrantyDecision:
        category = self.category(category_id)
        years = category.warranty_years if category else None
        return decide_warranty(handover, years, today, known_category=category is not None)

    def urgency(self, category_id: str, description: str) -> Urgency:
        """Urgent when the description names one of the category's urgent keywords (a leak,
        no power, no water: domain §4 "根据问题的严重程度和紧急程度")."""
        category = self.category(category_id)
        text = description.casefold()
        if category and any(word.casefold() in text for word in category.urgent_keywords):
            return Urgency.URGENT
        return Urgency.NORMAL

    def deadlines_for(self, category_id: str, urgency: Urgency, reported_at: datetime) -> Deadlines:
        """Contact and visit in clock hours; resolution in working days at the same time of day.
        `reported_at` must carry the company's time zone so weekends fall right."""
        category = self.category(category_id)
        rule = category.deadlines[urgency] if category else self.deadlines[urgency]
        return Deadlines(
            respond_by=reported_at + timedelta(hours=rule.contact_hours),
            visit_by=reported_at + timedelta(hours=rule.visit_hours),
            resolve_by=add_working_days(reported_at, rule.resolve_working_days),
        )

    def is_repeat(self, recently_closed: int) -> bool:
        return recently_closed >= self.repeat_min_closed


def _category(
    item: Mapping[str, Any], design_life_years: int, defaults: Mapping[Urgency, DeadlineRule]
) -> RepairCategory:
    years = item.get("warranty_years")
    if years == DESIGN_LIFE:
        years = design_life_years
    overrides = item.get("deadlines") or {}
    return RepairCategory(
        id=str(item["id"]),
        warranty_years=None if years is None else int(years),
        urgent_keywords=tuple(str(word) for word in item.get("urgent_keywords") or ()),
        deadlines={
            urgency: replace(rule, **overrides.get(urgency.value, {}))
            for urgency, rule in defaults.items()
        },
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
