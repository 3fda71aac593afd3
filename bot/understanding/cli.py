"""`python -m bot understand [--lang zh|en] --json` and `python -m bot bench understand`.

bot/cli.py builds the parser and calls `add_commands` / `add_bench`; each sub-command sets
`func(args) -> int`. `understand` reads one message per line on standard input and prints what
the bot understood, for tests, staff and tuning.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from bot.config import ConfigError
from bot.faq.cli import config_dir_of
from bot.faq.knowledge import FaqConfigError
from bot.faq.matcher import FaqMatcher
from bot.understanding.understand import Intent, Understander, Understanding

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MESSAGES = (
    PROJECT_ROOT / "tests" / "understanding" / "heldout_intents.yaml",
    PROJECT_ROOT / "tests" / "understanding" / "tuning.yaml",
)
MEDIAN_TARGET_MS = 5.0
P99_TARGET_MS = 30.0

SubParsers = argparse._SubParsersAction


def add_commands(commands: SubParsers[argparse.ArgumentParser]) -> None:
    understand = commands.add_parser(
        "understand", help="intent and slots of each stdin line (what the bot understood)"
    )
    understand.add_argument("--lang", choices=("zh", "en"), help="the owner's language hint")
    understand.add_argument("--json", action="store_true", help="one JSON object per line")
    understand.add_argument("--config-dir", type=Path, default=None)
    understand.set_defaults(func=run_understand)


def add_bench(bench_commands: SubParsers[argparse.ArgumentParser]) -> None:
    bench = bench_commands.add_parser("understand", help="time per message of understanding")
    bench.add_argument("--rounds", type=int, default=20, help="passes over the messages")
    bench.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    bench.add_argument("--config-dir", type=Path, default=None)
    bench.set_defaults(func=run_bench)


def load_understander(args: argparse.Namespace) -> Understander | None:
    try:
        return Understander.from_config(config_dir_of(args))
    except (ConfigError, FaqConfigError) as exc:
        print(f"error: the understanding configuration has problems:\n{exc}", file=sys.stderr)
        return None


def run_understand(args: argparse.Namespace) -> int:
    understander = load_understander(args)
    if understander is None:
        return 2
    for line in sys.stdin:
        text = line.rstrip("\n")
        if not text.strip():
            continue
        understood = understander.understand(text, args.lang)
        print(as_json(text, understood) if args.json else describe(text, understood))
    return 0


def as_json(text: str, understood: Understanding) -> str:
    """The contract: text, intent, confidence, slots (plus alternative when there is one)."""
    payload = {**understood.to_dict(), "text": text}
    if payload["alternative"] is None:
        del payload["alternative"]
    return json.dumps(payload, ensure_ascii=False)


def describe(text: str, understood: Understanding) -> str:
    slots = ", ".join(f"{k}={v}" for k, v in understood.to_dict()["slots"].items())
    return f"{understood.intent.value:<12} {understood.confidence:.2f}  {text}  [{slots}]"


def run_bench(args: argparse.Namespace) -> int:
    understander = load_understander(args)
    if understander is None:
        return 2
    messages = [
        str(case["text"])
        for path in DEFAULT_MESSAGES
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))
    ]
    faq = FaqMatcher.from_config(config_dir_of(args))

    def with_faq(message: str) -> None:
        """What the router pays per typed message: understanding, then the FAQ for questions
        (or to answer a question between two steps)."""
        if understander.understand(message).intent in (Intent.FAQ, Intent.UNKNOWN):
            faq.ask(message)

    print(f"understanding: {len(messages)} messages x {args.rounds} rounds")
    met = True
    for name, work in (("understand", understander.understand), ("understand+faq", with_faq)):
        timings = time_messages(work, messages, args.rounds)
        median, p99 = statistics.median(timings), percentile(timings, 0.99)
        met = met and median < MEDIAN_TARGET_MS and p99 < P99_TARGET_MS
        print(f"  {name:<15} p50 {median:.3f} ms   p99 {p99:.3f} ms")
    verdict = "met" if met else "MISSED"
    print(f"targets: p50 < {MEDIAN_TARGET_MS} ms, p99 < {P99_TARGET_MS} ms: {verdict}")
    return 1 if args.check and not met else 0


def time_messages(work: Callable[[str], object], messages: list[str], rounds: int) -> list[float]:
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


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
