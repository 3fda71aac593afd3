"""`python -m bot surveys campaign|report`: staff start a revisit for chosen buildings (e.g.
after a storm), and read satisfaction (CSAT) and response rate per project and category."""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.cli.common import SubParsers, run_migrated

if TYPE_CHECKING:
    from bot.app.bootstrap import Runtime
    from bot.services.surveys import ReportLine

DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d")
COLUMNS = ["project", "category", "invited", "answered", "response_rate", "mean_score", "csat"]


def add_commands(commands: SubParsers[argparse.ArgumentParser]) -> None:
    surveys = commands.add_parser("surveys", help="satisfaction surveys and revisits")
    actions = surveys.add_subparsers(title="surveys commands", metavar="ACTION")
    campaign = actions.add_parser(
        "campaign", help="invite every owner of the chosen buildings (e.g. after a storm)"
    )
    campaign.add_argument("--project", required=True, help="project name as in the roster")
    campaign.add_argument(
        "--buildings", required=True, nargs="+", help="building names (space or comma separated)"
    )
    campaign.add_argument("--kind", required=True, help="question set in rules.yaml, e.g. weather")
    campaign.add_argument(
        "--due", help="when to send, 'YYYY-MM-DD HH:MM' or a date, local time (default: now)"
    )
    campaign.add_argument("--by", default="cli", help="who started it, for the record")
    campaign.set_defaults(func=_campaign)
    report = actions.add_parser("report", help="CSAT and response rate per project and category")
    report.add_argument("--since", help="only invitations sent since this date (YYYY-MM-DD)")
    report.add_argument("--csv", type=Path, help="also write the table to this CSV file")
    report.set_defaults(func=_report)


def parse_local(text: str, tz: ZoneInfo) -> datetime:
    """A local date or date and time; ValueError names the accepted forms."""
    for form in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), form).replace(tzinfo=tz)
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date: write YYYY-MM-DD or 'YYYY-MM-DD HH:MM'")


def _campaign(args: argparse.Namespace) -> int:
    from bot.services.surveys import SurveyError, start_campaign

    buildings = [name for item in args.buildings for name in item.split(",") if name.strip()]

    async def work(runtime: Runtime) -> int:
        now = datetime.now(UTC)
        try:
            due = parse_local(args.due, runtime.settings.tz) if args.due else now
            async with runtime.uow() as uow:
                campaign = await start_campaign(
                    uow,
                    runtime.services.rules.survey,
                    kind=args.kind,
                    project=args.project,
                    buildings=[name.strip() for name in buildings],
                    due_at=due,
                    by=args.by,
                    now=now,
                )
                await uow.commit()
        except (SurveyError, ValueError) as exc:
            print(f"error: {exc}; nothing was created", file=sys.stderr)
            return 2
        local = due.astimezone(runtime.settings.tz).strftime("%Y-%m-%d %H:%M")
        print(f"campaign {campaign.id}: {campaign.invited} owner-unit(s) invited, due {local}")
        return 0

    return run_migrated(work, with_channels=False)


def _report(args: argparse.Namespace) -> int:
    from bot.services.surveys import survey_report

    async def work(runtime: Runtime) -> int:
        try:
            since = parse_local(args.since, runtime.settings.tz) if args.since else None
        except ValueError as exc:
            print(f"error: --since {exc}", file=sys.stderr)
            return 2
        async with runtime.uow() as uow:
            lines = await survey_report(uow, since)
        rows = [table_row(line, runtime.services.rules.survey.satisfied_from) for line in lines]
        print_table(rows)
        if args.csv is not None:
            try:
                write_csv(args.csv, rows)
            except OSError as exc:
                print(f"error: cannot write {args.csv}: {exc.strerror}", file=sys.stderr)
                return 1
            print(f"wrote {len(rows)} row(s) to {args.csv}")
        return 0

    return run_migrated(work, with_channels=False)


def table_row(line: ReportLine, satisfied_from: int) -> list[str]:
    tally = line.tally
    return [
        line.project,
        line.category,
        str(tally.invited),
        str(tally.answered),
        _percent(tally.response_rate()),
        "-" if (mean := tally.mean()) is None else f"{mean:.2f}",
        _percent(tally.csat(satisfied_from)),
    ]


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def print_table(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    for row in [COLUMNS, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def write_csv(path: Path, rows: list[list[str]]) -> None:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese names correctly."""
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
