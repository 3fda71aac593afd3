"""`python -m bot demo`: chat with the bot in this terminal on demo data."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.app.demo_data import DemoDataRefused, seed_demo
from bot.cli.common import SubParsers, run_migrated

if TYPE_CHECKING:
    from bot.app.bootstrap import Runtime


def add_commands(commands: SubParsers[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser("demo", help="chat with the bot in this terminal on demo data")
    demo.add_argument("--script", type=Path, help="feed owner lines from FILE, print replies")
    demo.add_argument("--lang", choices=["zh", "en"], help="the owner's platform language")
    demo.add_argument("--user", default="demo-owner", help="console user id (default: %(default)s)")
    demo.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from bot.channels.console import chat

    async def work(runtime: Runtime) -> int:
        assert runtime.console is not None, "built with_console"
        if args.script is None:
            await print_demo_banner(runtime)
        else:
            await seed_demo(runtime, datetime.now(UTC))
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

    return refusing_foreign_data(lambda: run_migrated(work, with_channels=False, with_console=True))


def refusing_foreign_data(command: Callable[[], int]) -> int:
    """Run a command that seeds demo data; a database with a real roster stops it (exit 2)."""
    try:
        return command()
    except DemoDataRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


async def print_demo_banner(runtime: Runtime) -> None:
    unused = await seed_demo(runtime, datetime.now(UTC))
    print("Demo data is ready. Bind as a demo owner by typing one of these lines:")
    for code, label in unused[:3]:
        print(f"  绑定 {code}    ({label})")
    print("Then try: 报修 / 进度 / 产权证 / 投诉 / 防水保修几年 / help. Ctrl-D ends.\n")
