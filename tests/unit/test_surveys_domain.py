"""Survey rules from rules.yaml: which revisit is due, what a score is, what is low."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.config import load_raw_rules, load_rules
from bot.domain.errors import ConfigError
from bot.domain.surveys import SurveyRules, Tally
from bot.settings import PROJECT_ROOT, SettingsError, load_settings

RULES = load_rules(PROJECT_ROOT / "config").survey
HANDOVER = date(2026, 3, 1)


def test_the_survey_section_is_read_with_its_sourced_numbers() -> None:
    assert RULES.scale == 5 and RULES.low_score == 2
    assert RULES.expires_after == timedelta(days=7)
    assert [q.id for q in RULES.questions("post_repair")] == [
        "speed",
        "quality",
        "attitude",
        "comment",
    ]
    assert [r.id for r in RULES.revisits] == [
        "handover_30d",
        "handover_90d",
        "handover_180d",
        "warranty_end",
    ]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (HANDOVER + timedelta(days=2), None),  # handed over 2 days ago: nothing yet
        (HANDOVER + timedelta(days=30), ("handover_30d", HANDOVER + timedelta(days=30))),
        (HANDOVER + timedelta(days=36), ("handover_30d", HANDOVER + timedelta(days=30))),
        (HANDOVER + timedelta(days=37), None),  # the 30-day revisit lapsed after 7 days
        (HANDOVER + timedelta(days=95), ("handover_90d", HANDOVER + timedelta(days=90))),
        (HANDOVER + timedelta(days=200), None),
        (date(2028, 1, 31), ("warranty_end", date(2028, 1, 31))),  # 30 days before 2028-03-01
        (date(2028, 2, 6), ("warranty_end", date(2028, 1, 31))),
        (date(2028, 3, 1), None),
    ],
)
def test_only_the_latest_revisit_within_its_window_is_due(
    today: date, expected: tuple[str, date] | None
) -> None:
    found = RULES.latest_revisit(HANDOVER, today)
    assert (None if found is None else (found[0].id, found[1])) == expected


def test_the_warranty_of_a_leap_day_handover_ends_on_28_february() -> None:
    warranty_end = RULES.revisits[-1]
    assert warranty_end.due_on(date(2028, 2, 29)) == date(2030, 2, 28) - timedelta(days=30)


def test_scores_are_one_to_scale_and_two_or_less_is_low() -> None:
    typed = ["1", " 5 ", "0", "6", "x", "３"]  # a full-width digit is what WeChat often sends
    assert [RULES.parse_score(v) for v in typed] == [1, 5, None, None, None, 3]
    assert RULES.is_low([5, 4, 2]) and not RULES.is_low([3, 3, 5])


def test_csat_and_response_rate() -> None:
    tally = Tally(invited=4, answered=2, scores=(5, 4, 3, 1))
    assert tally.response_rate() == 0.5
    assert tally.csat(RULES.satisfied_from) == 0.5
    assert tally.mean() == 3.25
    assert Tally(0, 0, ()).response_rate() is None and Tally(0, 0, ()).csat(4) is None


def test_a_broken_survey_section_names_itself() -> None:
    raw = dict(load_raw_rules(PROJECT_ROOT / "config")["survey"])
    with pytest.raises(ConfigError, match="survey"):
        SurveyRules.from_config({**raw, "low_score": 5})
    with pytest.raises(ConfigError, match="expire_days"):
        SurveyRules.from_config({k: v for k, v in raw.items() if k != "expire_days"})
    with pytest.raises(ConfigError, match="no score"):
        SurveyRules.from_config(
            {**raw, "kinds": {**raw["kinds"], "weather": {"questions": ["comment"]}}}
        )


def test_survey_delay_is_a_setting_that_must_not_be_negative() -> None:
    assert load_settings().survey_delay == timedelta(days=1)
    assert load_settings(survey_delay="PT2H").survey_delay == timedelta(hours=2)
    with pytest.raises(SettingsError, match="SURVEY_DELAY"):
        load_settings(survey_delay="-PT1H")
