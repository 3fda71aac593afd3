"""`faq check` finds what would make the bot answer wrongly, and says where (file:line)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.faq import FaqConfigError, FaqMatcher
from bot.faq.check import check_config
from tests.faq.conftest import CONFIG_DIR, entry_yaml
from tests.support import run_cli as main

MakeConfig = Callable[..., Path]


def issue_texts(config: Path) -> list[str]:
    return [f"{issue.path.name}:{issue.line}: {issue.message}" for issue in check_config(config)]


def test_the_project_knowledge_base_is_clean() -> None:
    assert check_config(CONFIG_DIR) == []


def test_a_well_formed_base_has_no_issues(make_config: MakeConfig) -> None:
    config = make_config({"a.yaml": entry_yaml("one", ["问题一", "问题二", "问题三"])})
    assert check_config(config) == []


def test_duplicate_ids_across_files_name_both_places(make_config: MakeConfig) -> None:
    config = make_config(
        {
            "a.yaml": entry_yaml(
                "same_id", ["保修期多久", "保修几年", "保修多长时间"], ["Warranty?"]
            ),
            "b.yaml": "\n"
            + entry_yaml("same_id", ["物业费多少", "物业费怎么收", "物业费标准"], ["Fee?"]),
        }
    )
    assert issue_texts(config) == [
        f"b.yaml:2: duplicate id 'same_id' (first at {config / 'faq' / 'a.yaml'}:1)"
    ]


def test_the_same_question_under_two_entries_is_caught_after_normalisation(
    make_config: MakeConfig,
) -> None:
    first = entry_yaml("first", ["產權證怎麼辦？", "问题二", "问题三"])
    second = entry_yaml("second", ["产权证 怎么办", "问题四", "问题五"])
    config = make_config({"a.yaml": first + "\n" + second})
    [problem] = issue_texts(config)
    second_question_line = first.count("\n") + 1 + 7  # the blank line, then 7 lines to zh[0]
    assert problem.startswith(
        f"a.yaml:{second_question_line}: question '产权证 怎么办' repeats 'first'"
    )


def test_unknown_placeholder_is_reported_at_the_answer_line(make_config: MakeConfig) -> None:
    config = make_config(
        {"a.yaml": entry_yaml("fax", ["传真多少", "传真号码", "有传真吗"], answer_zh="传真：{fax}")}
    )
    [problem] = issue_texts(config)
    assert problem.startswith("a.yaml:3: answer.zh: unknown placeholder {fax}")


def test_a_company_value_written_literally_must_be_a_placeholder(make_config: MakeConfig) -> None:
    config = make_config(
        {
            "a.yaml": entry_yaml(
                "tel", ["电话多少", "热线号码", "怎么打电话"], answer_en="Call 027-12345678."
            )
        }
    )
    assert issue_texts(config) == ["a.yaml:4: answer.en: write {hotline} instead of '027-12345678'"]


def test_known_placeholders_are_filled_from_the_company_section(make_config: MakeConfig) -> None:
    config = make_config(
        {
            "a.yaml": entry_yaml(
                "tel", ["电话多少", "热线号码", "怎么打电话"], answer_zh="热线：{hotline}"
            )
        }
    )
    matcher = FaqMatcher.from_config(config)
    assert matcher.answer_for("tel", "zh") == "热线：027-12345678"


def test_schema_problems_are_each_reported(make_config: MakeConfig) -> None:
    text = """\
- id: Not-Snake
  answer:
    zh: "答。"
    en: "A."
  questions:
    zh: [只有一个]
    en: [One?]
  tags: [x]
  source: "abc"
  colour: red
- id: no_answer
  questions:
    zh: [一, 二, 三]
    en: [One?]
  tags: [x]
  source: "000"
"""
    problems = issue_texts(make_config({"a.yaml": text}))
    assert problems == [
        "a.yaml:10: unknown field 'colour'",
        "a.yaml:1: id 'Not-Snake' is not snake_case",
        "a.yaml:6: questions.zh needs at least 3",
        "a.yaml:9: source 'abc' is not like \"000,002\"",
        "a.yaml:11: entry lacks 'answer'",
    ]


def test_an_overview_must_cover_other_existing_entries(make_config: MakeConfig) -> None:
    """`covers` makes the matcher prefer an entry over the ones it names: a typo there would
    silently do nothing, and an entry covering itself means nothing."""
    overview = entry_yaml("overview", ["保修期多久", "保修几年", "保修多长时间"]).replace(
        '  source: "000"', '  covers: [pipes, pipe, overview]\n  source: "000"'
    )
    pipes = entry_yaml("pipes", ["水管保修几年", "水管坏了保修多久", "电线保修几年"])
    assert issue_texts(make_config({"a.yaml": overview + pipes})) == [
        "a.yaml:1: 'overview' covers 'pipe', not another entry",
        "a.yaml:1: 'overview' covers 'overview', not another entry",
    ]


def test_a_yaml_syntax_error_reports_its_line(make_config: MakeConfig) -> None:
    text = entry_yaml("one", ["一", "二", "三"]) + "- id: two\n  answer: [unclosed\n"
    [problem] = issue_texts(make_config({"a.yaml": text}))
    assert problem.startswith("a.yaml:15: YAML syntax error")  # the line with the "["
    assert "flow sequence" in problem


def test_the_matcher_refuses_a_broken_base(make_config: MakeConfig) -> None:
    config = make_config(
        {
            "a.yaml": entry_yaml("x", ["一一", "二二", "三三"])
            + entry_yaml("x", ["四四", "五五", "六六"])
        }
    )
    with pytest.raises(FaqConfigError, match="duplicate id 'x'"):
        FaqMatcher.from_config(config)


def test_check_command_prints_problems_and_fails(
    make_config: MakeConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config({"a.yaml": entry_yaml("x", ["一一", "二二"], answer_zh="{nope}")})
    assert main(["faq", "check", "--config-dir", str(config)]) == 1
    captured = capsys.readouterr()
    assert "a.yaml:6: questions.zh needs at least 3" in captured.out
    assert "1 problem(s) found" in captured.err


def test_check_command_passes_on_the_project(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["faq", "check", "--config-dir", str(CONFIG_DIR)]) == 0
    assert capsys.readouterr().out.startswith("OK: ")
