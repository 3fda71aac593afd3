"""Provisional complaint grades and deadlines (domain §4), with the real rules.yaml."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_rules
from bot.domain.complaints import ComplaintGrade
from bot.domain.service_hours import ServiceHours
from bot.settings import PROJECT_ROOT

RULES_FILE = load_rules(PROJECT_ROOT / "config")
RULES = RULES_FILE.complaint
HOURS = RULES_FILE.service_hours
SH = ZoneInfo("Asia/Shanghai")
G1, G2, G3 = ComplaintGrade.G1, ComplaintGrade.G2, ComplaintGrade.G3


@pytest.mark.parametrize(
    ("text", "households", "topic", "grade", "reason"),
    [
        ("物业保安态度差", 1, "property_service", G3, None),
        ("业主们准备拉条幅", 1, "quality", G1, "keyword:拉条幅"),
        ("明天大家穿统一服装去售楼处", 1, "quality", G1, "keyword:穿统一服装"),
        ("我们要聚众讨说法", 1, "quality", G1, "keyword:聚众讨说法"),
        ("再不解决就上访政府", 1, "quality", G1, "keyword:上访政府"),
        ("业主们准备拉横幅", 1, "quality", G1, "company_keyword:拉横幅"),
        ("we will go to the MEDIA", 1, "other", G1, "company_keyword:media"),
        ("已经报警了", 1, "other", G1, "company_keyword:报警"),
        ("车库渗水", 10, "quality", G1, "people:10"),
        ("车库渗水", 3, "quality", G2, "households:3"),
        ("整栋楼都停水", 1, "quality", G2, "keyword:整栋"),
        ("学校迟迟不开学", 1, "education", G2, "topic:education"),
        ("小区规划和宣传不一致", 1, "other", G2, "keyword:规划"),
    ],
)
def test_provisional_grade(
    text: str, households: int, topic: str, grade: ComplaintGrade, reason: str | None
) -> None:
    proposal = RULES.propose_grade(text, households, topic)
    assert proposal.grade is grade
    if reason is None:
        assert proposal.reasons == ()
    else:
        assert reason in proposal.reasons


@pytest.mark.parametrize(
    ("received", "grade", "order_due", "resolve_due"),
    [
        # within hours: the 督办令 one hour later ("受理投诉后1小时内", 000)
        (
            datetime(2026, 11, 18, 10, 0, tzinfo=SH),
            G3,
            datetime(2026, 11, 18, 11, 0, tzinfo=SH),
            datetime(2026, 11, 23, 10, 0, tzinfo=SH),
        ),
        # at night: the clock starts at 08:00 next morning
        (
            datetime(2026, 11, 18, 22, 30, tzinfo=SH),
            G2,
            datetime(2026, 11, 19, 9, 0, tzinfo=SH),
            datetime(2026, 11, 20, 8, 0, tzinfo=SH),
        ),
        # before opening: the same morning
        (
            datetime(2026, 11, 18, 6, 0, tzinfo=SH),
            G3,
            datetime(2026, 11, 18, 9, 0, tzinfo=SH),
            datetime(2026, 11, 23, 8, 0, tzinfo=SH),
        ),
        # closing time itself is outside hours
        (
            datetime(2026, 11, 18, 18, 0, tzinfo=SH),
            G2,
            datetime(2026, 11, 19, 9, 0, tzinfo=SH),
            datetime(2026, 11, 20, 8, 0, tzinfo=SH),
        ),
        # 一级 at 04:04: at once, no waiting for the office ("一把手必须第一时间亲自安排", 000)
        (
            datetime(2026, 11, 18, 4, 4, tzinfo=SH),
            G1,
            datetime(2026, 11, 18, 5, 4, tzinfo=SH),
            datetime(2026, 11, 18, 5, 4, tzinfo=SH),
        ),
        (
            datetime(2026, 11, 18, 18, 0, tzinfo=SH),
            G1,
            datetime(2026, 11, 18, 19, 0, tzinfo=SH),
            datetime(2026, 11, 18, 19, 0, tzinfo=SH),
        ),
    ],
)
def test_deadlines_start_when_staff_are_at_work(
    received: datetime, grade: ComplaintGrade, order_due: datetime, resolve_due: datetime
) -> None:
    assert RULES.deadlines(grade, received, HOURS) == (order_due, resolve_due)


def test_first_reply_to_a_handoff_counts_from_opening() -> None:
    night = datetime(2026, 11, 18, 23, 0, tzinfo=SH)
    assert RULES.first_reply_due(night, HOURS) == datetime(2026, 11, 19, 8, 30, tzinfo=SH)


def test_service_hours_accept_the_chinese_dash() -> None:
    assert ServiceHours.parse("8:30—16:30") == ServiceHours.parse("08:30-16:30")
