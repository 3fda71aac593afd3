"""Ticket lifecycle, urgency, deadlines and numbering: the rules, table by table."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_raw_rules
from bot.domain.repair import RepairRules, Urgency, add_working_days, ticket_number
from bot.domain.service_hours import ServiceHours
from bot.domain.tickets import (
    TRANSITIONS,
    Actor,
    ActorKind,
    IllegalTransition,
    TicketStatus,
    can_comment,
    check_transition,
)
from bot.settings import PROJECT_ROOT

RULES_SECTION = load_raw_rules(PROJECT_ROOT / "config")["repair"]
RULES = RepairRules.from_config(RULES_SECTION)
SH = ZoneInfo("Asia/Shanghai")
HOURS = ServiceHours.parse("08:00-18:00")
S = TicketStatus
OWNER = Actor(ActorKind.OWNER, "7")
STAFF = Actor(ActorKind.STAFF, "wang")


@pytest.mark.parametrize(
    ("current", "new", "actor"),
    [
        (S.SUBMITTED, S.ACCEPTED, STAFF),
        (S.ACCEPTED, S.DISPATCHED, STAFF),
        (S.DISPATCHED, S.IN_PROGRESS, STAFF),
        (S.IN_PROGRESS, S.COMPLETED, STAFF),
        (S.COMPLETED, S.CONFIRMED, OWNER),
        (S.COMPLETED, S.REOPENED, OWNER),
        (S.CONFIRMED, S.CLOSED, STAFF),
        (S.REOPENED, S.DISPATCHED, STAFF),
        (S.SUBMITTED, S.CANCELLED, OWNER),
        (S.ACCEPTED, S.CANCELLED, OWNER),
    ],
)
def test_allowed_transitions(current: TicketStatus, new: TicketStatus, actor: Actor) -> None:
    check_transition(current, new, actor)


@pytest.mark.parametrize(
    ("current", "new", "actor"),
    [
        (S.DISPATCHED, S.CANCELLED, OWNER),  # too late to cancel: someone is on the way
        (S.IN_PROGRESS, S.CANCELLED, STAFF),
        (S.SUBMITTED, S.COMPLETED, STAFF),  # no skipping the work
        (S.SUBMITTED, S.ACCEPTED, OWNER),  # owners do not accept their own tickets
        (S.IN_PROGRESS, S.COMPLETED, OWNER),
        (S.CLOSED, S.REOPENED, STAFF),
        (S.CANCELLED, S.SUBMITTED, STAFF),
        (S.CONFIRMED, S.REOPENED, OWNER),  # after confirming, a new report (or the survey)
    ],
)
def test_refused_transitions(current: TicketStatus, new: TicketStatus, actor: Actor) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(current, new, actor)


def test_every_status_has_a_row_and_terminal_ones_lead_nowhere() -> None:
    assert set(TRANSITIONS) == set(TicketStatus)
    assert not TRANSITIONS[S.CLOSED] and not TRANSITIONS[S.CANCELLED]
    assert not can_comment(S.CLOSED) and can_comment(S.COMPLETED)


def test_actor_round_trips_through_its_stored_form() -> None:
    assert Actor.parse(str(STAFF)) == STAFF


@pytest.mark.parametrize(
    ("category", "description", "expected"),
    [
        ("plumbing", "厨房水管爆管了", Urgency.URGENT),
        ("plumbing", "Kitchen pipe BURST", Urgency.URGENT),
        ("electrical", "全屋停电", Urgency.URGENT),
        ("electrical", "插座松了", Urgency.NORMAL),
        ("walls_floors", "漏水", Urgency.NORMAL),  # not an urgent word for this category
        ("unknown", "停电", Urgency.NORMAL),
    ],
)
def test_urgency_from_category_keywords(category: str, description: str, expected: Urgency) -> None:
    assert RULES.urgency(category, description) is expected


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (
            datetime(2026, 11, 18, 10, tzinfo=SH),
            3,
            datetime(2026, 11, 23, 10, tzinfo=SH),
        ),  # Wed→Mon
        (
            datetime(2026, 11, 20, 10, tzinfo=SH),
            1,
            datetime(2026, 11, 23, 10, tzinfo=SH),
        ),  # Fri→Mon
        (
            datetime(2026, 11, 21, 10, tzinfo=SH),
            1,
            datetime(2026, 11, 24, 10, tzinfo=SH),
        ),  # Sat→Tue
        (datetime(2026, 11, 16, 10, tzinfo=SH), 0, datetime(2026, 11, 16, 10, tzinfo=SH)),
    ],
)
def test_working_days_skip_weekends(start: datetime, days: int, expected: datetime) -> None:
    assert add_working_days(start, days) == expected


def test_deadlines_follow_the_configured_priority() -> None:
    reported = datetime(2026, 11, 18, 10, tzinfo=SH)  # a Wednesday
    normal = RULES.deadlines_for("plumbing", Urgency.NORMAL, reported, HOURS)
    urgent = RULES.deadlines_for("plumbing", Urgency.URGENT, reported, HOURS)
    assert normal.respond_by == datetime(2026, 11, 18, 12, tzinfo=SH)
    assert normal.visit_by == datetime(2026, 11, 19, 10, tzinfo=SH)
    assert normal.resolve_by == datetime(2026, 11, 23, 10, tzinfo=SH)
    assert urgent.visit_by == datetime(2026, 11, 18, 14, tzinfo=SH)
    assert urgent.resolve_by == datetime(2026, 11, 19, 10, tzinfo=SH)


def test_a_category_can_override_the_deadlines_of_one_priority() -> None:
    section = {
        **RULES_SECTION,
        "categories": [
            {
                "id": "structure",
                "warranty_years": 50,
                "deadlines": {"normal": {"resolve_working_days": 5}},
            },
            {"id": "plumbing", "warranty_years": 2},
        ],
    }
    rules = RepairRules.from_config(section)
    reported = datetime(2026, 11, 18, 10, tzinfo=SH)  # a Wednesday
    structure = rules.deadlines_for("structure", Urgency.NORMAL, reported, HOURS)
    plumbing = rules.deadlines_for("plumbing", Urgency.NORMAL, reported, HOURS)
    assert structure.resolve_by == datetime(2026, 11, 25, 10, tzinfo=SH)  # 5 working days
    assert plumbing.resolve_by == datetime(2026, 11, 23, 10, tzinfo=SH)  # the default 3
    assert structure.visit_by == plumbing.visit_by  # what is not overridden stays the default
    urgent = rules.deadlines_for("structure", Urgency.URGENT, reported, HOURS)
    assert urgent == rules.deadlines_for("plumbing", Urgency.URGENT, reported, HOURS)


@pytest.mark.parametrize(
    ("reported", "respond_by", "visit_by"),
    [
        # 04:04, before the hotline opens: counted from 08:00, not "06:04"
        (datetime(2026, 11, 18, 4, 4), datetime(2026, 11, 18, 10), datetime(2026, 11, 19, 8)),
        # 17:00: one service hour today, the second from 08:00 tomorrow
        (datetime(2026, 11, 18, 17), datetime(2026, 11, 19, 9), datetime(2026, 11, 19, 17)),
        # 20:00, after closing: from 08:00 tomorrow
        (datetime(2026, 11, 18, 20), datetime(2026, 11, 19, 10), datetime(2026, 11, 20, 8)),
    ],
)
def test_a_report_outside_service_hours_counts_from_the_next_service_hour(
    reported: datetime, respond_by: datetime, visit_by: datetime
) -> None:
    deadlines = RULES.deadlines_for("plumbing", Urgency.NORMAL, reported.replace(tzinfo=SH), HOURS)
    assert deadlines.respond_by == respond_by.replace(tzinfo=SH)
    assert deadlines.visit_by == visit_by.replace(tzinfo=SH)


def test_an_emergency_counts_in_clock_hours_at_any_hour() -> None:
    reported = datetime(2026, 11, 18, 4, 4, tzinfo=SH)
    urgent = RULES.deadlines_for("plumbing", Urgency.URGENT, reported, HOURS)
    assert urgent.respond_by == datetime(2026, 11, 18, 5, 4, tzinfo=SH)
    assert urgent.visit_by == datetime(2026, 11, 18, 8, 4, tzinfo=SH)


def test_structure_is_a_complex_problem_promised_a_plan() -> None:
    assert RULES.is_complex("structure")
    assert not RULES.is_complex("plumbing")


@pytest.mark.parametrize(("closed", "repeat"), [(0, False), (1, False), (2, True), (5, True)])
def test_repeat_repair_from_two_closed_tickets(closed: int, repeat: bool) -> None:
    assert RULES.is_repeat(closed) is repeat


def test_ticket_number_carries_local_day_and_sequence() -> None:
    assert ticket_number(date(2026, 11, 22), 7) == "BX-20261122-0007"
