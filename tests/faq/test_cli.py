"""The command-line contract scripts rely on: `python -m bot faq ask … --json` and friends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faq.conftest import CONFIG_DIR, PROJECT_ROOT
from tests.support import run_cli as main

CONTRACT_KEYS = ["matched", "entry_id", "score", "answer", "handoff"]


def run_bot(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m bot …` as a script would call it (the lead's bot/cli.py wires our commands)."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=PROJECT_ROOT,
        env=env,
        timeout=60,
        check=False,
    )


def test_ask_json_prints_exactly_the_contract_keys() -> None:
    done = run_bot("faq", "ask", "屋頂漏水保修嗎", "--json")
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    payload = json.loads(line)
    assert list(payload) == CONTRACT_KEYS
    assert payload["matched"] is True
    assert payload["entry_id"] == "warranty_roof_wall_leak"
    assert isinstance(payload["score"], float) and 0 <= payload["score"] <= 100
    assert payload["handoff"] is False
    assert "5年" in line  # ensure_ascii=False: Chinese is printed as is


def test_ask_reads_one_question_per_stdin_line_and_answers_in_order() -> None:
    done = run_bot(
        "faq", "ask", "--json", stdin="物业费怎么收\n转人工\n\nHow do I report a repair?\n"
    )
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["entry_id"], r["handoff"]) for r in results] == [
        ("property_fee", False),
        (None, True),
        (None, False),
        ("repair_how_to_report", False),
    ]
    assert results[2] == {
        "matched": False,
        "entry_id": None,
        "score": 0.0,
        "answer": "",
        "handoff": False,
    }
    assert results[3]["answer"].startswith("You can report a repair")


def test_lang_option_chooses_the_answer_language(capsys: pytest.CaptureFixture[str]) -> None:
    main(["faq", "ask", "物业费怎么收", "--lang", "en", "--json", "--config-dir", str(CONFIG_DIR)])
    assert json.loads(capsys.readouterr().out)["answer"].startswith("Six months of property fee")


def test_human_readable_ask_shows_suggestions_or_says_it_does_not_know(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["faq", "ask", "在哪报修", "--config-dir", str(CONFIG_DIR)])
    main(["faq", "ask", "帮我写首诗", "--config-dir", str(CONFIG_DIR)])
    out = capsys.readouterr().out
    assert "suggestions:" in out and "[repair_how_to_report]" in out
    assert "no answer" in out and "offer a person" in out


def test_eval_command_prints_the_table_and_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["faq", "eval", "--config-dir", str(CONFIG_DIR)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["style", "top-1", "hand-off/decline"]
    assert "PASS" in out


def test_eval_command_fails_below_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = tmp_path / "eval.yaml"
    wrong.write_text('- {q: "物业费怎么收", expect: deed_tax, style: terse}\n', encoding="utf-8")
    assert main(["faq", "eval", "--file", str(wrong), "--config-dir", str(CONFIG_DIR)]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_bench_prints_median_p99_and_load_time_for_both_bases(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        ["bench", "faq", "--entries", "150", "--rounds", "1", "--config-dir", str(CONFIG_DIR)]
    )
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[1].split() == [
        "base",
        "entries",
        "load",
        "ms",
        "median",
        "ms",
        "p99",
        "ms",
        "cpu",
        "median",
        "cpu",
        "p99",
        "asks",
    ]
    assert out[2].split()[0] == "real"
    assert out[3].split()[:3] == ["150", "entries", "150"]
    assert out[4].startswith("targets (wall clock): median < 1 ms, p99 < 5 ms")
    assert out[5].startswith("load average now: ")
