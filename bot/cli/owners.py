"""`python -m bot owners import|invite-codes`: the CRM roster and the printed invite codes."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import SubParsers, run_migrated

if TYPE_CHECKING:
    from bot.app.bootstrap import Runtime


def add_commands(commands: SubParsers[argparse.ArgumentParser]) -> None:
    owners = commands.add_parser("owners", help="the owner roster and invite codes")
    owner_commands = owners.add_subparsers(title="owners commands", metavar="ACTION")
    importer = owner_commands.add_parser("import", help="import the CRM's roster CSV")
    importer.add_argument("file", type=Path)
    importer.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
    importer.set_defaults(func=_import)
    codes = owner_commands.add_parser("invite-codes", help="write one invite code per home")
    codes.add_argument("--out", type=Path, required=True)
    codes.add_argument(
        "--only-new", action="store_true", help="skip homes whose code is issued and still valid"
    )
    codes.set_defaults(func=_invite_codes)


def _import(args: argparse.Namespace) -> int:
    from bot.services.roster import import_roster, parse_roster

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    parsed = parse_roster(data)
    if parsed.errors:
        print(f"{args.file}: {len(parsed.errors)} problem(s), nothing was imported:")
        for error in parsed.errors:
            print(f"  {error}")
        return 1

    async def work(runtime: Runtime) -> int:
        counts = await import_roster(
            runtime.uow, parsed.rows, datetime.now(UTC), dry_run=args.dry_run
        )
        verb = "would import" if args.dry_run else "imported"
        print(
            f"{verb} {len(parsed.rows)} rows ({parsed.encoding}): "
            f"{counts.units_created} new units, {counts.units_updated} updated, "
            f"{counts.owners_created} new owners, {counts.links_created} new owner-unit links"
        )
        return 0

    return run_migrated(work, with_channels=False)


def _invite_codes(args: argparse.Namespace) -> int:
    from bot.services.roster import issue_invite_codes, write_codes_csv

    async def work(runtime: Runtime) -> int:
        settings = runtime.settings
        limits = runtime.services.rules.binding
        now = datetime.now(UTC)
        codes = await issue_invite_codes(
            runtime.uow,
            now=now,
            valid_until=now + limits.code_valid_for,
            bot_username=settings.telegram_bot_username,
            only_new=args.only_new,
        )
        write_codes_csv(args.out, codes)
        print(f"wrote {len(codes)} invite code(s) to {args.out}")
        return 0

    return run_migrated(work, with_channels=False)
