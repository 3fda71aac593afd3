"""`python -m bot run`: the server with its channels and scheduler (and a chat in the terminal)."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

from bot.cli.common import SubParsers, run_async
from bot.cli.demo import print_demo_banner, refusing_foreign_data

if TYPE_CHECKING:
    from bot.app.bootstrap import Runtime

log = logging.getLogger(__name__)


def add_commands(commands: SubParsers[argparse.ArgumentParser]) -> None:
    run = commands.add_parser("run", help="HTTP server, channels and scheduler in one process")
    run.add_argument(
        "--console", action="store_true", help="also chat in this terminal (as `demo` does)"
    )
    run.add_argument("--demo-data", action="store_true", help="seed the sample roster first")
    run.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from bot.app.serve import serve

    async def work(runtime: Runtime) -> int:
        notice = runtime.settings.check_secrets()  # before anything is written or served
        if notice is not None:
            log.warning(notice)
        if args.demo_data:
            await runtime.upgrade_database()
            await print_demo_banner(runtime)
        await serve(runtime, console_user="console-owner" if args.console else None)
        return 0

    return refusing_foreign_data(lambda: run_async(work, with_console=args.console))
