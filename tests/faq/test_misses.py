"""Unanswered questions are kept, without anything that identifies the owner."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.faq import FaqMatcher, FaqResult, MissLog
from bot.faq.misses import group_misses, redact
from tests.faq.conftest import CONFIG_DIR
from tests.support import run_cli as main

SHANGHAI = timezone(timedelta(hours=8))
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=SHANGHAI)


def test_a_miss_is_appended_as_one_json_line_without_owner_identity(
    tmp_path: Path, matcher: FaqMatcher
) -> None:
    log = MissLog(tmp_path / "data" / "nested" / "misses.jsonl")
    result = matcher.ask("小区有游泳池吗")
    assert log.record("小区有游泳池吗", result, NOW) is True
    [line] = log.path.read_text(encoding="utf-8").splitlines()
    assert json.loads(line) == {
        "time": "2026-03-01T01:30:00+00:00",
        "text": "小区有游泳池吗",
        "lang": "zh",
        "score": result.score,
    }


@pytest.mark.parametrize("text", ["物业费怎么收", "转人工"])
def test_answered_questions_and_handoffs_are_not_misses(
    tmp_path: Path, matcher: FaqMatcher, text: str
) -> None:
    log = MissLog(tmp_path / "misses.jsonl")
    assert log.record(text, matcher.ask(text), NOW) is False
    assert not log.path.exists()


def test_phone_id_numbers_and_emails_are_masked() -> None:
    text = "我电话13800138000，身份证42010619900101123X，邮箱li.na@example.com"
    assert redact(text) == "我电话[number]，身份证[number]，邮箱[email]"


def test_short_numbers_in_questions_are_kept() -> None:
    assert redact("3栋801漏水，保修5年吗") == "3栋801漏水，保修5年吗"


def test_misses_group_by_normalised_text_most_frequent_first(
    tmp_path: Path, matcher: FaqMatcher
) -> None:
    log = MissLog(tmp_path / "misses.jsonl")
    miss = FaqResult(False, None, 12.0, "", False, (), "zh")
    log.record("小区有游泳池吗", miss, NOW)
    log.record("能养狗吗", miss, NOW)
    log.record("小區有游泳池嗎？", miss, NOW + timedelta(minutes=5))
    groups = group_misses(log.read(), matcher.normalise)
    assert [(g.count, g.example) for g in groups] == [(2, "小區有游泳池嗎？"), (1, "能养狗吗")]
    assert groups[0].last_time == "2026-03-01T01:35:00+00:00"


def test_unreadable_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "misses.jsonl"
    path.write_text('not json\n{"time": "t", "text": "x", "lang": "zh", "score": 1}\n', "utf-8")
    assert [m.text for m in MissLog(path).read()] == ["x"]


def test_naive_times_are_taken_as_utc(tmp_path: Path) -> None:
    log = MissLog(tmp_path / "misses.jsonl")
    log.append("问题", "zh", 0.0, datetime(2026, 1, 2, 3, 4, 5))
    assert log.read()[0].time == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).isoformat()


def test_misses_command_lists_groups_with_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = MissLog(tmp_path / "misses.jsonl")
    for text in ["能养狗吗", "小区有游泳池吗", "能養狗嗎"]:
        log.append(text, "zh", 10.0, NOW)
    code = main(["faq", "misses", "--path", str(log.path), "--config-dir", str(CONFIG_DIR)])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[0].startswith("3 misses, 2 distinct questions")
    assert lines[2].split()[0] == "2" and lines[2].endswith("能養狗嗎")
    assert lines[3].split()[0] == "1" and lines[3].endswith("小区有游泳池吗")


def test_misses_command_without_a_file_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["faq", "misses", "--path", str(tmp_path / "none.jsonl")]) == 0
    assert "no misses recorded" in capsys.readouterr().out
