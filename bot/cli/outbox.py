"""`python -m bot outbox status`: due, in flight, sent, retrying, dead and dropped messages per
channel and purpose, and the latest given up with their reasons."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.cli.common import SubParsers, run_migrated

if TYPE_CHECKING:
    from bot.app.bootstrap import Runtime
    from bot.services.delivery import OutboxReport


def add_commands(commands: SubParsers[argparse.ArgumentParser]) -> None:
    outbox = commands.add_parser("outbox", help="messages the bot sends: replies and pushes")
    outbox_commands = outbox.add_subparsers(title="outbox commands", metavar="ACTION")
    status = outbox_commands.add_parser(
        "status", help="due, in flight, sent, retrying, dead per channel and purpose"
    )
    status.add_argument(
        "--dead", type=int, default=20, metavar="N", help="list the latest N given up (default 20)"
    )
    status.set_defaults(func=_status)


def _status(args: argparse.Namespace) -> int:
    if args.dead < 0:
        print("error: --dead must be 0 or more")
        return 2
    from bot.services.delivery import outbox_report

    async def work(runtime: Runtime) -> int:
        report = await outbox_report(runtime.uow, datetime.now(UTC), dead_limit=args.dead)
        print(render(report))
        return 0

    return run_migrated(work, with_channels=False)


def render(report: OutboxReport) -> str:
    from bot.services.delivery import STATES

    if not report.counts:
        return "The outbox is empty."
    header = ["channel", "purpose", *(state.replace("_", " ") for state in STATES)]
    rows = [
        [channel, purpose, *(str(states[state]) for state in STATES)]
        for (channel, purpose), states in sorted(report.counts.items())
    ]
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in [header, *rows]
    ]
    if report.given_up:
        lines += ["", "Given up (latest first):"]
        lines += [
            f"  #{item.id} {item.channel}/{item.purpose} {item.status}: {item.reason}"
            for item in report.given_up
        ]
    return "\n".join(line.rstrip() for line in lines)
