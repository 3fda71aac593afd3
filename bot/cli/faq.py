"""`python -m bot faq check|ask|eval|misses`.

`--config-dir` overrides the CONFIG_DIR setting, so these commands also work on a copy of the
config (tests, a staging edit).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import SubParsers
from bot.faq.check import check_config
from bot.faq.evaluation import evaluate, format_report, load_cases
from bot.faq.knowledge import FaqConfigError, read_entries
from bot.faq.matcher import FaqMatcher
from bot.faq.misses import DEFAULT_MISS_PATH, MissLog, group_misses
from bot.faq.types import FaqResult

#: The labelled questions `faq eval` scores, beside the knowledge base in CONFIG_DIR.
EVAL_FILE = "faq_eval.yaml"


def add_commands(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    """Add `faq` with its sub-commands to the top-level parser."""
    faq = subparsers.add_parser("faq", help="FAQ knowledge base: check, ask, eval, misses")
    commands = faq.add_subparsers(dest="faq_command", required=True)

    check = commands.add_parser("check", help="validate config/faq/*.yaml (file:line problems)")
    _add_config_dir(check)
    check.set_defaults(func=run_check)

    ask = commands.add_parser("ask", help="answer one question, or one per stdin line")
    ask.add_argument("text", nargs="?", help="the question; omit to read one per line from stdin")
    ask.add_argument("--lang", choices=("zh", "en"), help="answer language (default: detect)")
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")
    _add_config_dir(ask)
    ask.set_defaults(func=run_ask)

    evaluation = commands.add_parser("eval", help=f"accuracy on CONFIG_DIR/{EVAL_FILE}")
    evaluation.add_argument("--file", type=Path, help=f"default: CONFIG_DIR/{EVAL_FILE}")
    evaluation.add_argument("--verbose", "-v", action="store_true", help="list every miss")
    _add_config_dir(evaluation)
    evaluation.set_defaults(func=run_eval)

    misses = commands.add_parser("misses", help="unanswered questions, most frequent first")
    misses.add_argument("--path", type=Path, default=DEFAULT_MISS_PATH)
    misses.add_argument("--limit", type=int, default=50)
    _add_config_dir(misses)
    misses.set_defaults(func=run_misses)


def _add_config_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config-dir", type=Path, default=None, help="default: CONFIG_DIR setting")


def config_dir_of(args: argparse.Namespace) -> Path:
    """--config-dir, else the CONFIG_DIR setting (imported late: settings are slow to import)."""
    if getattr(args, "config_dir", None) is not None:
        return Path(args.config_dir)
    from bot.settings import load_settings

    return load_settings().config_dir


def run_check(args: argparse.Namespace) -> int:
    config_dir = config_dir_of(args)
    issues = check_config(config_dir)
    for issue in issues:
        print(issue)
    if issues:
        print(f"{len(issues)} problem(s) found", file=sys.stderr)
        return 1
    entries, _ = read_entries(config_dir / "faq")
    print(f"OK: {len(entries)} entries in {len({e.path for e in entries})} files")
    return 0


def run_ask(args: argparse.Namespace) -> int:
    matcher = _load_matcher(config_dir_of(args))
    if matcher is None:
        return 2
    questions = [args.text] if args.text is not None else sys.stdin.read().splitlines()
    for question in questions:
        result = matcher.ask(question, args.lang)
        print(result_json(result) if args.json else describe(result))
    return 0


def result_json(result: FaqResult) -> str:
    """The contract scripts rely on: exactly these five keys, UTF-8 text kept readable."""
    payload: dict[str, Any] = {
        "matched": result.matched,
        "entry_id": result.entry_id,
        "score": result.score,
        "answer": result.answer,
        "handoff": result.handoff,
    }
    return json.dumps(payload, ensure_ascii=False)


def describe(result: FaqResult) -> str:
    """Human-readable outcome for a terminal."""
    if result.handoff:
        return "hand-off: the owner asks for a person or is making a complaint"
    if result.matched:
        heading = f"answer [{result.entry_id}] (score {result.score:.1f}, {result.language}):"
        return f"{heading}\n{result.answer}"
    if result.suggestions:
        choices = "\n".join(
            f"  {n}. {s.question} [{s.entry_id}]" for n, s in enumerate(result.suggestions, 1)
        )
        return f"not sure (score {result.score:.1f}); suggestions:\n{choices}"
    return f"no answer (score {result.score:.1f}): say so and offer a person"


def run_eval(args: argparse.Namespace) -> int:
    config_dir = config_dir_of(args)
    matcher = _load_matcher(config_dir)
    if matcher is None:
        return 2
    report = evaluate(matcher, load_cases(args.file or config_dir / EVAL_FILE))
    print(format_report(report, show_failures=args.verbose))
    return 0 if report.meets_targets else 1


def run_misses(args: argparse.Namespace) -> int:
    misses = MissLog(args.path).read()
    if not misses:
        print(f"no misses recorded in {args.path}")
        return 0
    matcher = _load_matcher(config_dir_of(args))
    if matcher is None:
        return 2
    groups = group_misses(misses, matcher.normalise)
    print(f"{len(misses)} misses, {len(groups)} distinct questions ({args.path})")
    print(f"{'count':>5}  {'best':>5}  {'last seen':<25} question")
    for group in groups[: args.limit]:
        print(f"{group.count:>5}  {group.best_score:>5.1f}  {group.last_time:<25} {group.example}")
    return 0


def _load_matcher(config_dir: Path) -> FaqMatcher | None:
    try:
        return FaqMatcher.from_config(config_dir)
    except FaqConfigError as exc:
        print(f"the FAQ configuration has problems (run `faq check`):\n{exc}", file=sys.stderr)
        return None
