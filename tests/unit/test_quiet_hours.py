"""Quiet hours: which messages wait, and until when (bot.domain.delivery)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.domain.delivery import (
    QuietHours,
    QuietHoursError,
    is_urgent,
    parse_quiet_hours,
    quiet_until,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = QuietHours(time(21), time(8))


def test_the_default_window_crosses_midnight() -> None:
    assert parse_quiet_hours("21:00-08:00") == NIGHT
    assert NIGHT.contains(time(23, 30)) and NIGHT.contains(time(7, 59))
    assert not NIGHT.contains(time(8)) and not NIGHT.contains(time(20, 59))


def test_an_empty_value_turns_quiet_hours_off() -> None:
    assert parse_quiet_hours("") is None
    assert quiet_until(datetime(2026, 12, 1, 15, tzinfo=UTC), None, SHANGHAI) is None


@pytest.mark.parametrize("value", ["21-08", "25:00-08:00", "21:00-21:00", "nine to five"])
def test_a_malformed_window_is_refused(value: str) -> None:
    with pytest.raises(QuietHoursError):
        parse_quiet_hours(value)


def test_at_night_pushes_wait_for_the_morning_in_the_company_time_zone() -> None:
    late = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    assert quiet_until(late, NIGHT, SHANGHAI) == datetime(2026, 12, 2, 8, tzinfo=SHANGHAI)
    early = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)  # 06:00 the next day in Shanghai
    assert quiet_until(early, NIGHT, SHANGHAI) == datetime(2026, 12, 2, 8, tzinfo=SHANGHAI)
    day = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 12:00
    assert quiet_until(day, NIGHT, SHANGHAI) is None


def test_replies_staff_replies_and_emergencies_never_wait() -> None:
    assert all(is_urgent(p) for p in ("reply", "escalation_reply", "emergency"))
    assert not any(is_urgent(p) for p in ("survey", "revisit", "campaign", "ticket_update"))
