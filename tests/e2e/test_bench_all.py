"""`python -m bot bench all --quick --output PAGE`: every benchmark runs for real (small sizes)
and the page it writes has every table filled with figures, the machine and the date."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.processes import base_env, run_bot

#: Section heading → rows its table must have at least.
TABLES = {
    "## FAQ": 2,
    "## Understanding": 2,
    "### Open loop": 6,
    "### Closed loop": 4,
    "## WeChat": 1,
    "## Pushes": 1,
}
NUMBER = re.compile(r"^\d[\d,]*(\.\d+)?( ?(ms|s|MB|%))?( \(.*\))?$")


def _tables(page: str) -> dict[str, list[list[str]]]:
    """Each section's table: the cells of its right-aligned (numeric) columns, per row."""
    tables: dict[str, list[list[str]]] = {}
    for section in re.split(r"\n(?=#{2,3} )", page):
        heading = section.splitlines()[0]
        lines = [line for line in section.splitlines() if line.startswith("|")]
        if len(lines) < 2:
            continue
        numeric = [cell.endswith(":") for cell in lines[1].strip("|").split("|")]
        tables[heading] = [
            [c.strip() for c, n in zip(row.strip("|").split("|"), numeric, strict=True) if n]
            for row in lines[2:]
        ]
    return tables


def test_bench_all_quick_writes_every_table(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    done = run_bot(
        "bench", "all", "--quick", "--output", str(page), env=base_env(tmp_path), timeout=1500
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = page.read_text(encoding="utf-8")
    assert "Quick run" in text and re.search(r"Measured \d{4}-\d\d-\d\d \d\d:\d\d UTC", text)
    assert re.search(r"\*\*\d+ cores, \d+ GiB\*\*", text)
    assert re.search(r"before: [\d.]+ / [\d.]+ / [\d.]+,\s+after: [\d.]+", text)
    tables = _tables(text)
    for prefix, rows in TABLES.items():
        [heading] = [h for h in tables if h.startswith(prefix)]
        assert len(tables[heading]) >= rows, (heading, tables[heading])
        for row in tables[heading]:
            if heading.startswith("## Pushes"):
                row = row[:-1]  # "first send after restart" is "–" without a crash run
            assert row and all(NUMBER.match(cell) for cell in row), (heading, row)
    assert len(re.findall(r"\s—\s+(met|\*\*not met\*\*)", text)) == 6  # every verdict computed
