"""The frozen held-out FAQ paraphrases (tests/faq/heldout.yaml, issue 17): written from the
source facts before any tuning and never tuned on. Their figures are a measure, not a target to
fit; the floors below are today's figures, so a change that makes the FAQ generalise worse fails.
The issue's top-1 target (>= 95 %) is not reached yet; decline/hand-off (>= 90 %) and no
confident wrong answer are."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.faq import FaqMatcher
from bot.faq.evaluation import DECLINE, HANDOFF, STYLES, EvalCase, evaluate, load_cases
from bot.faq.normalize import basic_form, compact
from tests.faq.conftest import CONFIG_DIR

HERE = Path(__file__).resolve().parent
TOP1_FLOOR = 0.95
DECLINE_FLOOR = 1.0
MAX_CONFIDENT_WRONG = 0


@pytest.fixture(scope="module")
def held_out() -> list[EvalCase]:
    return load_cases(HERE / "heldout.yaml")


def test_the_held_out_set_is_large_labelled_and_fresh(
    held_out: list[EvalCase], matcher: FaqMatcher
) -> None:
    assert sum(case.wants_answer for case in held_out) >= 150
    assert {case.style for case in held_out} == set(STYLES)
    known = {entry.id for entry in matcher.entries} | {HANDOFF, DECLINE}
    assert [case.question for case in held_out if case.expect not in known] == []
    forms = {compact(matcher.normalise(case.question)) for case in held_out}
    assert len(forms) == len(held_out)
    questions = [q for entry in matcher.entries for qs in entry.questions.values() for q in qs]
    tuned_on = load_cases(CONFIG_DIR / "faq_eval.yaml") + load_cases(HERE / "tuning.yaml")
    questions += [case.question for case in tuned_on]
    # A typo case is fresh when its literal text is new: once its slip is corrected it may
    # well read like a sample (装修手需怎么办 → 装修手续怎么办), which is the point of the style.
    typos = {compact(basic_form(case.question)) for case in held_out if case.style == "typo"}
    others = {
        compact(matcher.normalise(case.question)) for case in held_out if case.style != "typo"
    }
    assert sorted(typos & {compact(basic_form(q)) for q in questions}) == []
    assert sorted(others & {compact(matcher.normalise(q)) for q in questions}) == []


def test_the_issues_examples_are_in_the_held_out_set(held_out: list[EvalCase]) -> None:
    questions = {case.question for case in held_out}
    assert {"物业费可以微信交吗", "过了保修期修要钱吗", "办证要带什么", "物业电话多少"} <= questions


def test_held_out_figures_do_not_fall_below_todays(
    held_out: list[EvalCase], matcher: FaqMatcher
) -> None:
    report = evaluate(matcher, held_out)
    assert report.top1_total.rate >= TOP1_FLOOR
    assert report.handoff_total.rate >= DECLINE_FLOOR
    assert len(report.confident_wrong) <= MAX_CONFIDENT_WRONG
