"""`python -m bot understand --json` and `python -m bot demo --script FILE --json` as real
processes, on a temporary SQLite database (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import bot


def test_understand_prints_one_json_object_per_line(env: dict[str, str]) -> None:
    lines = (
        "厨房水管爆了 水流了一地 急！！！\nKitchen pipe burst, water everywhere\n\n"
        "我要跟你们经理说话\n"
    )
    result = bot("understand", "--json", env=env, stdin=lines)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["intent"] for r in records] == ["emergency", "emergency", "human"]
    assert set(records[0]) >= {"text", "intent", "confidence", "slots"}
    assert records[0]["text"] == "厨房水管爆了 水流了一地 急！！！"
    assert records[0]["slots"]["urgency"] == records[1]["slots"]["urgency"] == "urgent"
    assert records[1]["slots"]["category"] == "plumbing"
    assert 0 < records[2]["confidence"] <= 1


def test_understand_with_a_broken_config_says_so(env: dict[str, str], tmp_path: Path) -> None:
    result = bot("understand", "--json", "--config-dir", str(tmp_path), env=env, stdin="你好\n")
    assert result.returncode == 2
    assert "understanding.yaml" in result.stderr and "Traceback" not in result.stderr


def test_demo_script_json_reaches_a_ticket_in_four_owner_turns(
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    script = tmp_path / "script.txt"
    script.write_text(
        "# 王芳 owns one home\n绑定 DEMC2345\n报修 厨房水管漏水\n"
        "photo: config/demo/ceiling-leak.jpg\n完成\n1\n",
        encoding="utf-8",
    )
    result = bot("demo", "--script", str(script), "--json", env=env)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["in"] for r in records][1:] == [
        "报修 厨房水管漏水",
        "photo: config/demo/ceiling-leak.jpg",
        "完成",
        "1",
    ]
    problem, photo, done, confirm = records[1:]
    assert (problem["intent"], problem["flow"], problem["step"]) == ("repair", "repair", "photos")
    assert photo["intent"] is None and photo["step"] == "photos"
    assert done["step"] == "confirm"
    assert done["replies"][-1]["buttons"][0] == "✅ 提交"  # "1" presses it
    assert confirm["flow"] is None and "工单号：BX-" in confirm["replies"][0]["text"]


def test_demo_json_needs_a_script(env: dict[str, str]) -> None:
    result = bot("demo", "--json", env=env)
    assert result.returncode == 2 and "--script" in result.stderr
