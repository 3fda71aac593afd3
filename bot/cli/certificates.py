"""`python -m bot certificates import FILE.csv [--dry-run]`: staff update cases in bulk."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import SubParsers, run_async

if TYPE_CHECKING:
    from bot.app.bootstrap import Runtime
    from bot.services.certificates import ImportReport


def add_commands(commands: SubParsers[argparse.ArgumentParser]) -> None:
    certificates = commands.add_parser("certificates", help="property-certificate cases")
    actions = certificates.add_subparsers(title="certificates commands", metavar="ACTION")
    importer = actions.add_parser("import", help="update cases from a staff CSV")
    importer.add_argument("file", type=Path)
    importer.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    importer.set_defaults(func=_import)


def _import(args: argparse.Namespace) -> int:
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}")
        return 1

    async def work(runtime: Runtime) -> int:
        from bot.app.demo_data import import_certificates_into

        report = await import_certificates_into(runtime, data, dry_run=args.dry_run)
        print(describe(report))
        return 0 if report.ok else 1

    return run_async(work, with_channels=False)


def describe(report: ImportReport) -> str:
    if report.errors:
        return "\n".join([f"{len(report.errors)} problem(s), nothing written:", *report.errors])
    verb = "would be" if report.dry_run else "were"
    return (
        f"{report.rows} rows: {report.created} cases created, {report.updated} updated, "
        f"{report.stage_changes} stage changes; {report.notified} owner notifications {verb} queued"
    )
