"""`python -m bot bench understand`: the per-message cost of understanding (and of the FAQ
after it, for questions), against the issue's bound: p50 < 5 ms, p99 < 30 ms."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.bench.stats import percentile
from bot.faq.matcher import FaqMatcher
from bot.understanding.understand import Intent, Understander

MEDIAN_TARGET_MS = 5.0
P99_TARGET_MS = 30.0


@dataclass(frozen=True)
class UnderstandFigures:
    name: str
    median_ms: float
    p99_ms: float

    @property
    def meets_targets(self) -> bool:
        return self.median_ms < MEDIAN_TARGET_MS and self.p99_ms < P99_TARGET_MS


def measure(
    understander: Understander, faq: FaqMatcher, messages: Sequence[str], rounds: int
) -> list[UnderstandFigures]:
    """Understanding alone, and with the FAQ after it."""

    def with_faq(message: str) -> None:
        """What the router pays per typed message: understanding, then the FAQ for questions
        (or to answer a question between two steps)."""
        if understander.understand(message).intent in (Intent.FAQ, Intent.UNKNOWN):
            faq.ask(message)

    figures = []
    for name, work in (("understand", understander.understand), ("understand+faq", with_faq)):
        timings = time_messages(work, messages, rounds)
        median, p99 = statistics.median(timings), percentile(timings, 0.99)
        figures.append(UnderstandFigures(name, median, p99))
    return figures


def run_bench(
    understander: Understander, faq: FaqMatcher, messages: Sequence[str], rounds: int
) -> bool:
    """Prints the figures; True when both targets are met."""
    print(f"understanding: {len(messages)} messages x {rounds} rounds")
    figures = measure(understander, faq, messages, rounds)
    for f in figures:
        print(f"  {f.name:<15} p50 {f.median_ms:.3f} ms   p99 {f.p99_ms:.3f} ms")
    met = all(f.meets_targets for f in figures)
    verdict = "met" if met else "MISSED"
    print(f"targets: p50 < {MEDIAN_TARGET_MS} ms, p99 < {P99_TARGET_MS} ms: {verdict}")
    return met


def time_messages(
    work: Callable[[str], object], messages: Sequence[str], rounds: int
) -> list[float]:
    """Wall milliseconds per message, after one warm-up pass."""
    for message in messages:
        work(message)
    timings = []
    for _ in range(rounds):
        for message in messages:
            start = time.perf_counter()
            work(message)
            timings.append((time.perf_counter() - start) * 1000)
    return timings
