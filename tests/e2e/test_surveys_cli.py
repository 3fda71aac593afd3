"""`python -m bot surveys campaign|report` as staff run them: real processes on a SQLite file
that a survey was answered in (through the real engine) beforehand."""

from __future__ import annotations

import asyncio
import csv
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app.bootstrap import Runtime, build_runtime
from bot.app.demo_data import seed_demo_roster
from bot.settings import PROJECT_ROOT, load_settings
from tests.e2e.test_cli import _free_port, _wait_for_health, bot
from tests.integration.test_surveys import answer_in_chat, completed_ticket, set_handover
from tests.support import Chat, FakeClock


def seeded(
    env: dict[str, str], work: Callable[[Runtime, Chat, FakeClock], Awaitable[None]]
) -> None:
    """The database of `env` migrated, the sample roster in, 张伟 bound in the console; then
    `work` on it, through the real engine."""

    async def seed() -> None:
        clock = FakeClock()
        settings = load_settings(
            database_url=env["DATABASE_URL"],
            media_dir=env["MEDIA_DIR"],
            config_dir=PROJECT_ROOT / "config",
            telegram_token=None,
            wechat_app_id=None,
        )
        runtime = build_runtime(settings, clock=clock, with_channels=False, with_console=True)
        try:
            await runtime.upgrade_database()
            codes = await seed_demo_roster(runtime, clock())
            chat = Chat(runtime)
            code = next(code for code, label in codes if label.startswith("张伟"))
            await chat.say(f"绑定 {code}")
            await work(runtime, chat, clock)
        finally:
            await runtime.close()

    asyncio.run(seed())


def answered_repair_survey(env: dict[str, str]) -> None:
    """张伟 reports a leak, staff complete it, he confirms and scores 5, 2, 4 (on 2026-11-23)."""

    async def work(runtime: Runtime, chat: Chat, clock: FakeClock) -> None:
        ticket_id = await completed_ticket(chat, runtime, clock)
        await chat.press(f"tickets:fixed:{ticket_id}")
        await answer_in_chat(chat, 5, 2, 4, comment="慢")

    seeded(env, work)


def bound_owner(env: dict[str, str], handover: date) -> None:
    """张伟 bound, his first home handed over on `handover`."""

    async def work(runtime: Runtime, chat: Chat, clock: FakeClock) -> None:
        await set_handover(runtime, "1-0101", handover)

    seeded(env, work)


def survey_outbox(env: dict[str, str]) -> list[str]:
    """Texts of the survey pushes queued in the SQLite file (read while `run` writes it)."""
    path = env["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT replies FROM outbox WHERE purpose = 'survey'").fetchall()
    return [json.loads(replies)[0]["text"] for (replies,) in rows]


def test_the_report_gives_csat_and_response_rate_per_project_and_category(
    env: dict[str, str], tmp_path: Path
) -> None:
    answered_repair_survey(env)
    out = tmp_path / "csat.csv"
    result = bot("surveys", "report", "--since", "2026-11-01", "--csv", str(out), env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "project",
        "category",
        "invited",
        "answered",
        "response_rate",
        "mean_score",
        "csat",
    ]
    assert lines[1].split() == ["翠湖花园", "plumbing", "1", "1", "100%", "3.67", "67%"]
    assert lines[2].split() == ["*", "*", "1", "1", "100%", "3.67", "67%"]
    with out.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[1] == ["翠湖花园", "plumbing", "1", "1", "100%", "3.67", "67%"]
    later = bot("surveys", "report", "--since", "2026-11-24", env=env)
    assert later.stdout.splitlines()[1].split() == ["*", "*", "0", "0", "-", "-", "-"]
    wrong = bot("surveys", "report", "--since", "last week", env=env)
    assert wrong.returncode == 2 and "'last week' is not a date" in wrong.stderr


def test_a_campaign_invites_the_buildings_and_refuses_what_it_cannot_do(
    env: dict[str, str],
) -> None:
    assert bot("owners", "import", "config/sample_roster.csv", env=env).returncode == 0
    args = ["surveys", "campaign", "--project", "翠湖花园", "--kind", "weather"]
    for extra, message in [
        (["--buildings", "1栋", "9栋"], "project '翠湖花园' has no building 9栋"),
        (["--buildings", "1栋", "--kind", "storm"], "unknown survey kind 'storm'"),
        (["--buildings", "1栋", "--due", "soon"], "'soon' is not a date"),
    ]:
        refused = bot(*args, *extra, env=env)
        assert refused.returncode == 2 and message in refused.stderr
        assert "nothing was created" in refused.stderr
    done = bot(*args, "--buildings", "1栋,3栋", "--due", "2026-12-02 10:00", env=env)
    assert done.returncode == 0, done.stderr
    assert "campaign 1: 3 owner-unit(s) invited, due 2026-12-02 10:00" in done.stdout


def test_run_sends_a_revisit_that_fell_due_while_it_was_down(env: dict[str, str]) -> None:
    """The daily scan runs at start: an owner whose home was handed over 30 days ago (today,
    in the company's time zone) gets the one-month revisit queued without waiting a day."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    bound_owner(env, handover=today - timedelta(days=30))
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=PROJECT_ROOT,
        env={**env, "BOT_PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_health(port)
        deadline = time.monotonic() + 30
        while not (queued := survey_outbox(env)) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=30)[0]
    assert queued and "收房一个月回访" in queued[0], output
    assert "surveys: 1 revisit(s) created" in output and "Traceback" not in output
