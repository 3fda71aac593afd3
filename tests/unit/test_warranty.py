"""Warranty decisions at their boundaries, with the company's real rules.yaml periods."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_rules
from bot.domain.warranty import (
    AssessmentReason,
    WarrantyDecision,
    WarrantyStatus,
    add_years,
    decide_warranty,
)
from bot.settings import PROJECT_ROOT

RULES = load_rules(PROJECT_ROOT / "config").repair
IN, OUT, ASSESS = (
    WarrantyStatus.IN_WARRANTY,
    WarrantyStatus.OUT_OF_WARRANTY,
    WarrantyStatus.NEEDS_ASSESSMENT,
)


@pytest.mark.parametrize(
    ("start", "years", "expected"),
    [
        (date(2024, 3, 1), 2, date(2026, 3, 1)),
        (date(2024, 2, 29), 2, date(2026, 2, 28)),  # leap day → 28 Feb in a common year
        (date(2024, 2, 29), 4, date(2028, 2, 29)),  # … and stays 29 Feb in a leap year
        (date(2023, 12, 31), 5, date(2028, 12, 31)),
    ],
)
def test_add_years(start: date, years: int, expected: date) -> None:
    assert add_years(start, years) == expected


@pytest.mark.parametrize(
    ("category", "handover", "today", "expected"),
    [
        # plumbing and electrical: 2 years ("电气管线、给排水管道等的保修期限为 2 年")
        ("plumbing", date(2024, 5, 10), date(2026, 5, 10), WarrantyDecision(IN, date(2026, 5, 10))),
        (
            "plumbing",
            date(2024, 5, 10),
            date(2026, 5, 11),
            WarrantyDecision(OUT, date(2026, 5, 10)),
        ),
        (
            "electrical",
            date(2024, 5, 10),
            date(2024, 5, 10),
            WarrantyDecision(IN, date(2026, 5, 10)),
        ),
        # leaks: 5 years
        (
            "roof_waterproofing",
            date(2021, 6, 1),
            date(2026, 6, 1),
            WarrantyDecision(IN, date(2026, 6, 1)),
        ),
        (
            "exterior_wall_leak",
            date(2021, 6, 1),
            date(2026, 6, 2),
            WarrantyDecision(OUT, date(2026, 6, 1)),
        ),
        # structure: the design life, and no project has one entered in rules.yaml
        (
            "structure",
            date(2000, 1, 1),
            date(2049, 12, 31),
            WarrantyDecision(ASSESS, None, AssessmentReason.DESIGN_LIFE_UNSET),
        ),
        # leap-day handover
        ("plumbing", date(2024, 2, 29), date(2026, 2, 28), WarrantyDecision(IN, date(2026, 2, 28))),
        ("plumbing", date(2024, 2, 29), date(2026, 3, 1), WarrantyDecision(OUT, date(2026, 2, 28))),
        # the bot does not guess
        (
            "walls_floors",
            date(2024, 5, 10),
            date(2024, 6, 1),
            WarrantyDecision(ASSESS, None, AssessmentReason.NO_PERIOD),
        ),
        (
            "plumbing",
            None,
            date(2024, 6, 1),
            WarrantyDecision(ASSESS, None, AssessmentReason.UNKNOWN_HANDOVER),
        ),
        (
            "plumbing",
            date(2027, 1, 1),
            date(2026, 6, 1),
            WarrantyDecision(ASSESS, None, AssessmentReason.NOT_HANDED_OVER),
        ),
        (
            "garden_gnome",
            date(2024, 5, 10),
            date(2024, 6, 1),
            WarrantyDecision(ASSESS, None, AssessmentReason.UNKNOWN_CATEGORY),
        ),
    ],
)
def test_warranty_from_configured_periods(
    category: str, handover: date | None, today: date, expected: WarrantyDecision
) -> None:
    assert RULES.warranty(category, handover, today, project="示例花园") == expected


def test_the_structure_is_dated_only_by_a_design_life_entered_for_its_project() -> None:
    rules = dataclasses.replace(RULES, design_life_years={"示例花园": 50})
    handover, today = date(2025, 9, 20), date(2026, 12, 1)
    assert rules.warranty("structure", handover, today, project="示例花园") == WarrantyDecision(
        IN, date(2075, 9, 20)
    )
    assert rules.warranty("structure", handover, today, project="别的项目") == WarrantyDecision(
        ASSESS, None, AssessmentReason.DESIGN_LIFE_UNSET
    )


def test_the_boundary_is_the_local_date_not_utc() -> None:
    """17:00 UTC on the last day is already the next day in Shanghai: out of warranty."""
    moment = datetime(2026, 5, 10, 17, 0, tzinfo=UTC)
    local_day = moment.astimezone(ZoneInfo("Asia/Shanghai")).date()
    assert decide_warranty(date(2024, 5, 10), 2, moment.date()).status is IN
    assert decide_warranty(date(2024, 5, 10), 2, local_day).status is OUT
