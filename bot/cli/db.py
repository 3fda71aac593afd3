"""`python -m bot db upgrade|revision`: the database schema."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import SubParsers, run_migrated

if TYPE_CHECKING:
    from bot.app.bootstrap import Runtime


def add_commands(commands: SubParsers[argparse.ArgumentParser]) -> None:
    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(title="db commands", metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply all migrations").set_defaults(func=_upgrade)
    revision = db_commands.add_parser("revision", help="autogenerate a migration from the models")
    revision.add_argument("-m", "--message", required=True)
    revision.set_defaults(func=_revision)


def _upgrade(args: argparse.Namespace) -> int:
    async def work(runtime: Runtime) -> int:
        print("database is up to date")
        return 0

    return run_migrated(work, with_channels=False)


def _revision(args: argparse.Namespace) -> int:
    async def work(runtime: Runtime) -> int:
        from bot.storage.migrate import autogenerate

        await autogenerate(runtime.db, args.message)
        return 0

    return run_migrated(work, with_channels=False)
