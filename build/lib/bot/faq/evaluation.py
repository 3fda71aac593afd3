"""`faq eval`: how often the matcher is right on questions written the way owners write them.

Two numbers per style: top-1 accuracy on questions that have an answer (a confident answer with
the expected entry; suggestions do not count), and hand-off/decline accuracy on questions that
must go to a person or be declined. Confident wrong answers are counted separately, because
they are the failure owners remember.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.faq.matcher import FaqMatcher
from bot.faq.types import FaqResult

TOP1_TARGET = 0.90
HANDOFF_TARGET = 0.85
HANDOFF = "handoff"
DECLINE = "decline"
STYLES = ("colloquial", "terse", "typo", "traditional", "english", "mixed")


@dataclass(frozen=True)
class EvalCase:
    question: str
    expect: str  # an entry id, "handoff" or "decline"
    style: str

    @property
    def wants_answer(self) -> bool:
        return self.expect not in (HANDOFF, DECLINE)


@dataclass
class Tally:
    right: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return self.right / self.total if self.total else 1.0


@dataclass
class EvalReport:
    top1: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    handoff: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    confident_wrong: list[tuple[EvalCase, FaqResult]] = field(default_factory=list)
    failures: list[tuple[EvalCase, FaqResult]] = field(default_factory=list)

    @property
    def top1_total(self) -> Tally:
        return _sum(self.top1.values())

    @property
    def handoff_total(self) -> Tally:
        return _sum(self.handoff.values())

    @property
    def meets_targets(self) -> bool:
        return self.top1_total.rate >= TOP1_TARGET and self.handoff_total.rate >= HANDOFF_TARGET


def _sum(tallies: Iterable[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        total.right += tally.right
        total.total += tally.total
    return total


def load_cases(path: Path) -> list[EvalCase]:
    """Read the eval file: a list of {q, expect, style}."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of cases")
    return [EvalCase(str(item["q"]), str(item["expect"]), str(item["style"])) for item in data]


def is_correct(case: EvalCase, result: FaqResult) -> bool:
    if case.expect == HANDOFF:
        return result.handoff
    if case.expect == DECLINE:
        return not result.matched and not result.handoff
    return result.matched and result.entry_id == case.expect


def evaluate(matcher: FaqMatcher, cases: Sequence[EvalCase]) -> EvalReport:
    report = EvalReport()
    for case in cases:
        result = matcher.ask(case.question)
        tally = (report.top1 if case.wants_answer else report.handoff)[case.style]
        tally.total += 1
        if is_correct(case, result):
            tally.right += 1
            continue
        report.failures.append((case, result))
        if result.matched:
            report.confident_wrong.append((case, result))
    return report


def format_report(report: EvalReport, show_failures: bool = False) -> str:
    """A plain-text table, one row per style, plus totals and (optionally) every miss."""
    lines = [f"{'style':<12} {'top-1':>14} {'hand-off/decline':>18}"]
    styles = [s for s in STYLES if s in report.top1 or s in report.handoff]
    styles += sorted((set(report.top1) | set(report.handoff)) - set(styles))
    for style in [*styles, "total"]:
        top1 = report.top1_total if style == "total" else report.top1.get(style, Tally())
        handoff = report.handoff_total if style == "total" else report.handoff.get(style, Tally())
        lines.append(f"{style:<12} {_cell(top1):>14} {_cell(handoff):>18}")
    lines.append(
        f"targets: top-1 >= {TOP1_TARGET:.0%}, hand-off/decline >= {HANDOFF_TARGET:.0%}; "
        f"confident wrong answers: {len(report.confident_wrong)}"
    )
    lines.append("PASS" if report.meets_targets else "FAIL: below target")
    if show_failures:
        for case, result in report.failures:
            got = "handoff" if result.handoff else (result.entry_id or "no answer")
            offered = ",".join(s.entry_id for s in result.suggestions)
            lines.append(
                f"  [{case.style}] {case.question!r}: expected {case.expect}, got {got} "
                f"({result.score:.1f}){' suggested ' + offered if offered else ''}"
            )
    return "\n".join(lines)


def _cell(tally: Tally) -> str:
    if not tally.total:
        return "-"
    return f"{tally.right}/{tally.total} {tally.rate:6.1%}"
