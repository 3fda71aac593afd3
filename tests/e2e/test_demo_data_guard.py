"""Demo data (the sample roster and the public codes DEMA2345 …, valid ten years) only ever goes
into a database that holds nothing else: on a real roster `demo` and `run --demo-data` refuse,
say why, and issue no code."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from tests.e2e.processes import base_env, run_bot

REAL_ROSTER = (
    "project,building,unit,owner_name,phone,id_last4,handover_date,area_m2\n"
    "澜湾府,2栋,2-1203,陈静,13911112222,5678,2024-01-20,101.50\n"
)


def _codes(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "bot.db") as db:
        return [code for (code,) in db.execute("SELECT code FROM invite_codes")]


@pytest.mark.parametrize("command", [["demo", "--script"], ["run", "--demo-data"]])
def test_demo_data_refuses_a_database_with_a_real_roster(
    tmp_path: Path, command: list[str]
) -> None:
    env = base_env(tmp_path)
    roster = tmp_path / "real.csv"
    roster.write_text(REAL_ROSTER, encoding="utf-8")
    assert run_bot("owners", "import", str(roster), env=env).returncode == 0
    if command[0] == "demo":
        script = tmp_path / "script.txt"
        script.write_text("绑定 DEMA2345\n", encoding="utf-8")
        command = [*command, str(script)]
    result = run_bot(*command, env=env, timeout=30)
    assert result.returncode == 2
    assert "demo data" in result.stderr and "real roster" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert _codes(tmp_path) == []


def test_demo_data_goes_into_a_database_holding_only_the_sample(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    sample = str(PROJECT_ROOT / "config" / "sample_roster.csv")
    assert run_bot("owners", "import", sample, env=env).returncode == 0
    script = tmp_path / "script.txt"
    script.write_text("绑定 DEMA2345\n", encoding="utf-8")
    result = run_bot("demo", "--script", str(script), env=env)
    assert result.returncode == 0, result.stderr
    assert "绑定成功" in result.stdout
