"""`python -m bot demo`: chat with the bot in this terminal on demo data."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.app.demo_data import DemoDataRefused, seed_demo
from bot.cli.common import SubParsers, run_migrated

if TYPE_CHECKING:
    from bot.app.bootstrap import Runtime


def add_commands(commands: SubParsers[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser("demo", help="chat with the bot in this terminal on demo data")
    demo.add_argument("--script", type=Path, help="feed owner lines from FILE, print replies")
    demo.add_argument("--lang", choices=["zh", "en"], help="the owner's platform language")
    demo.add_argument("--user", default="demo-owner", help="console user id (default: %(default)s)")
    demo.add_argument(
        "--json", action="store_true", help="with --script: one JSON object per owner line"
    )
    demo.add_argument(
        "--now",
        type=_moment,
        help="start the clock at this moment, e.g. 2026-11-23T10:00+08:00, so a scripted tour "
        "reads the same on any day (warranty answers and deadlines depend on today)",
    )
    demo.set_defaults(func=_demo)


def _moment(text: str) -> datetime:
    """An ISO 8601 moment with its UTC offset: a clock without one would be ambiguous."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a UTC offset, e.g. +08:00")
    return moment


def clock_from(start: datetime) -> Callable[[], datetime]:
    """A clock that starts at `start` and runs at the real pace, so events keep their order."""
    started = time.monotonic()
    return lambda: start.astimezone(UTC) + timedelta(seconds=time.monotonic() - started)


def _demo(args: argparse.Namespace) -> int:
    from bot.channels.console import chat

    if args.json and args.script is None:
        print("error: --json needs --script FILE", file=sys.stderr)
        return 2
    if args.script is not None and not args.script.is_file():
        print(f"error: cannot read {args.script}", file=sys.stderr)
        return 2

    async def work(runtime: Runtime) -> int:
        assert runtime.console is not None, "built with_console"
        if args.json:
            await seed_demo(runtime, runtime.services.clock())
            await _demo_json(runtime, args)
            return 0
        if args.script is None:
            await print_demo_banner(runtime)
        else:
            await seed_demo(runtime, runtime.services.clock())
        lines = args.script.open(encoding="utf-8") if args.script else sys.stdin
        with lines:
            await chat(
                runtime.engine,
                runtime.console,
                lines,
                user_id=args.user,
                language=args.lang,
                echo=args.script is not None,
                after_each=runtime.outbox.run_once,
            )
        return 0

    options: dict[str, Any] = {"clock": clock_from(args.now)} if args.now else {}
    return refusing_foreign_data(
        lambda: run_migrated(work, with_channels=False, with_console=True, **options)
    )


async def _demo_json(runtime: Runtime, args: argparse.Namespace) -> None:
    from bot.channels.console import chat_json

    async def state_of(user_id: str) -> tuple[str | None, str | None]:
        async with runtime.uow() as uow:
            account = await uow.accounts.find("console", user_id)
            if account is None:
                return None, None
            state = await uow.conversations.load(account.id)
        return state.flow, state.step

    def intent_of(line: str) -> str:
        return runtime.services.understanding.understand(line, args.lang).intent.value

    with args.script.open(encoding="utf-8") as lines:
        await chat_json(
            runtime.engine,
            lines,
            sys.stdout,
            user_id=args.user,
            language=args.lang,
            intent_of=intent_of,
            state_of=state_of,
        )


def refusing_foreign_data(command: Callable[[], int]) -> int:
    """Run a command that seeds demo data; a database with a real roster stops it (exit 2)."""
    try:
        return command()
    except DemoDataRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


async def print_demo_banner(runtime: Runtime) -> None:
    unused = await seed_demo(runtime, runtime.services.clock())
    print("Demo data is ready. Bind as a demo owner by typing one of these lines:")
    for code, label in unused[:3]:
        print(f"  绑定 {code}    ({label})")
    print("Then try: 报修 / 进度 / 产权证 / 投诉 / 防水保修几年 / help. Ctrl-D ends.\n")
