"""`python -m bot bench faq|understand|telegram|wechat|push|all`: benchmarks printing figures;
`all` runs every one and writes docs/benchmarks.md.

Each measures one path against its own limit or baseline; the harnesses live in `bot/bench/`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bot.cli.common import SubParsers
from bot.cli.faq import EVAL_FILE, config_dir_of
from bot.settings import PROJECT_ROOT

DEFAULT_POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def add_commands(commands: SubParsers[argparse.ArgumentParser]) -> None:
    bench = commands.add_parser("bench", help="benchmarks that print figures")
    benches = bench.add_subparsers(title="benchmarks", metavar="BENCH")
    _add_faq(benches)
    _add_understand(benches)
    _add_telegram(benches)
    _add_wechat(benches)
    _add_push(benches)
    _add_all(benches)


def _add_faq(benches: SubParsers[argparse.ArgumentParser]) -> None:
    faq = benches.add_parser("faq", help="FAQ time per question and load time")
    faq.add_argument("--entries", type=int, default=1000, help="size of the synthetic base")
    faq.add_argument("--rounds", type=int, default=5, help="passes over the question set")
    faq.add_argument("--questions", type=Path, help=f"default: CONFIG_DIR/{EVAL_FILE}")
    faq.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    faq.add_argument("--config-dir", type=Path, help="use this config folder")
    faq.set_defaults(func=_faq)


def _faq(args: argparse.Namespace) -> int:
    from bot.bench.faq import format_figures, run_benchmark
    from bot.faq.evaluation import load_cases

    config_dir = config_dir_of(args)
    questions = [case.question for case in load_cases(args.questions or config_dir / EVAL_FILE)]
    figures = run_benchmark(config_dir, questions, args.entries, args.rounds)
    print(f"FAQ benchmark: {len(questions)} questions x {args.rounds} rounds")
    print(format_figures(figures))
    if args.check and not all(f.meets_targets for f in figures):
        return 1
    return 0


def _add_understand(benches: SubParsers[argparse.ArgumentParser]) -> None:
    understand = benches.add_parser("understand", help="time per message of understanding")
    understand.add_argument("--rounds", type=int, default=20, help="passes over the messages")
    understand.add_argument(
        "--messages", type=Path, help=f"owner messages (default: CONFIG_DIR/{EVAL_FILE})"
    )
    understand.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    understand.add_argument("--config-dir", type=Path, help="use this config folder")
    understand.set_defaults(func=_understand)


def _understand(args: argparse.Namespace) -> int:
    from bot.bench.understand import run_bench
    from bot.faq.evaluation import load_cases
    from bot.faq.matcher import FaqMatcher
    from bot.understanding.understand import Understander

    config_dir = config_dir_of(args)
    messages = [case.question for case in load_cases(args.messages or config_dir / EVAL_FILE)]
    understander = Understander.from_config(config_dir)
    met = run_bench(understander, FaqMatcher.from_config(config_dir), messages, args.rounds)
    return 1 if args.check and not met else 0


def _add_telegram(benches: SubParsers[argparse.ArgumentParser]) -> None:
    telegram = benches.add_parser(
        "telegram", help="our Telegram bot vs a bare PTB echo bot, through a fake Bot API"
    )
    telegram.add_argument(
        "--updates", type=int, default=1000, help="open loop: backlog size (%(default)s)"
    )
    telegram.add_argument(
        "--known-chats", type=int, default=100, help="open loop: known owners (%(default)s)"
    )
    telegram.add_argument(
        "--loop",
        choices=("open", "closed", "both"),
        default="both",
        help="open: a backlog injected at once; closed: owners wait for each answer",
    )
    telegram.add_argument(
        "--profile",
        type=Path,
        help="open loop: sample our bot with py-spy during each drain, raw stacks in this folder",
    )
    telegram.add_argument(
        "--rss",
        action="store_true",
        help="instead: our bot's resident memory at idle and after --rss-owners new owners",
    )
    telegram.add_argument(
        "--rss-owners", type=int, default=10_000, help="with --rss: owners (%(default)s)"
    )
    telegram.add_argument(
        "--users", type=int, default=50, help="closed loop: concurrent owners (%(default)s)"
    )
    telegram.add_argument(
        "--messages", type=int, default=20, help="closed loop: per owner (%(default)s)"
    )
    telegram.add_argument(
        "--rounds", type=int, default=3, help="closed loop: best of N per bot (%(default)s)"
    )
    _add_postgres_dsn(telegram)
    telegram.set_defaults(func=_telegram)


def _add_postgres_dsn(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--postgres-dsn",
        default=os.environ.get("BENCH_POSTGRES_DSN", DEFAULT_POSTGRES_DSN),
        help="server for a throw-away database (default: BENCH_POSTGRES_DSN or %(default)s)",
    )


def _telegram(args: argparse.Namespace) -> int:
    from bot.bench.telegram import Load, run
    from bot.bench.telegram_open import (
        print_memory_table,
        print_open_table,
        run_memory,
        run_open_loop,
    )

    if args.rss:
        print_memory_table(run_memory(args.rss_owners, args.postgres_dsn))
        return 0
    if args.loop in ("open", "both"):
        figures = run_open_loop(args.updates, args.known_chats, args.postgres_dsn, args.profile)
        print_open_table(figures)
        if args.profile:
            from bot.bench.profile import hotspots

            for raw in sorted(args.profile.glob("ours-*.txt")):
                print(f"\n{raw.name}\n{hotspots(raw).format()}")
    if args.loop in ("closed", "both"):
        return run(Load(args.users, args.messages), args.rounds, args.postgres_dsn)
    return 0


def _add_wechat(benches: SubParsers[argparse.ArgumentParser]) -> None:
    wechat = benches.add_parser(
        "wechat",
        help="callback latency under a burst: ours vs bare ASGI and plain wechatpy + SQLite",
    )
    wechat.add_argument("--requests", type=_positive, default=500, help="(%(default)s)")
    wechat.add_argument(
        "--concurrency", type=_positive, default=100, help="in flight at once (%(default)s)"
    )
    wechat.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    wechat.add_argument(
        "--profile", type=Path, help="sample our bot with py-spy, raw stacks in this folder"
    )
    _add_postgres_dsn(wechat)
    wechat.set_defaults(func=_wechat)


def _wechat(args: argparse.Namespace) -> int:
    from bot.bench.wechat import run_bench

    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    code = run_bench(args.requests, args.concurrency, args.backend, args.postgres_dsn, args.profile)
    if args.profile:
        _print_hotspots(args.profile)
    return code


def _print_hotspots(folder: Path) -> None:
    from bot.bench.profile import hotspots

    for raw in sorted(folder.glob("ours-*.txt")):
        print(f"\n{raw.name}\n{hotspots(raw).format()}")


def _add_push(benches: SubParsers[argparse.ArgumentParser]) -> None:
    push = benches.add_parser(
        "push", help="pushes due at once, against a fake Bot API enforcing Telegram's limits"
    )
    push.add_argument(
        "--chats", type=_positive, default=10_000, help="pushes, one per chat (%(default)s)"
    )
    push.add_argument("--no-crash", action="store_true", help="skip the kill -9 run")
    push.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    _add_postgres_dsn(push)
    push.set_defaults(func=_push)


def _push(args: argparse.Namespace) -> int:
    from bot.bench.push import run

    return run(args.chats, not args.no_crash, args.backend, args.postgres_dsn)


def _positive(value: str) -> int:
    number = int(value) if value.isdigit() else 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"a whole number of 1 or more, not {value!r}")
    return number


def _add_all(benches: SubParsers[argparse.ArgumentParser]) -> None:
    every = benches.add_parser(
        "all", help="every benchmark in turn, then docs/benchmarks.md rewritten with the figures"
    )
    every.add_argument(
        "--quick", action="store_true", help="small sizes: a smoke test, figures not to quote"
    )
    every.add_argument(
        "--output",
        type=Path,
        default=PROJECT_ROOT / "docs" / "benchmarks.md",
        help="the page to write (default: docs/benchmarks.md)",
    )
    every.add_argument("--config-dir", type=Path, help="use this config folder")
    _add_postgres_dsn(every)
    every.set_defaults(func=_all)


def _all(args: argparse.Namespace) -> int:
    from bot.bench.report import FULL, QUICK, render, run_all
    from bot.faq.evaluation import load_cases

    config_dir = config_dir_of(args)
    questions = [case.question for case in load_cases(config_dir / EVAL_FILE)]
    results = run_all(config_dir, questions, QUICK if args.quick else FULL, args.postgres_dsn)
    args.output.write_text(render(results), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0
