"""Dead dependencies are reported in one line each, never with a traceback per tick: a
PostgreSQL that is down at start, a database lost while the outbox runs, an unreachable Redis."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.app.bootstrap import Runtime, build_runtime
from bot.app.outages import OutageLog
from bot.settings import Settings
from bot.testing.fake_wechat_api import APP_ID, APP_SECRET, FakeWeChatApi, png_bytes
from bot.testing.fake_wechat_server import TOKEN
from tests.e2e.processes import base_env, run_bot
from tests.fakes.wechat_harness import make_wechat_channel
from tests.support import Chat, FakeClock

DEAD_POSTGRES = "postgresql+asyncpg://bot:s3cret-pw@127.0.0.1:1/bot"


@pytest.mark.parametrize("command", [["run"], ["db", "upgrade"]])
def test_a_dead_postgresql_at_start_is_one_line_naming_database_url(
    tmp_path: Path, command: list[str]
) -> None:
    result = run_bot(*command, env=base_env(tmp_path, DATABASE_URL=DEAD_POSTGRES), timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if "DATABASE_URL" in line]
    assert len(errors) == 1, result.stderr
    assert "127.0.0.1:1" in errors[0] and "s3cret-pw" not in result.stderr


async def test_a_lost_database_is_one_line_per_outage_in_a_periodic_job(
    runtime: Runtime,
    make_settings: Callable[..., Settings],
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    dead = build_runtime(make_settings(database_url=DEAD_POSTGRES), clock=clock)
    current = [dead]
    outbox = OutageLog("survey invitations", lambda: current[0].surveys.send_due())
    try:
        for _ in range(5):
            await outbox.tick()
        current[0] = runtime
        await outbox.tick()
        current[0] = dead
        await outbox.tick()
    finally:
        await dead.close()
    lines = [r for r in caplog.records if r.name == "bot.app.outages"]
    assert [r.levelname for r in lines] == ["WARNING", "INFO", "WARNING"]
    assert "DATABASE_URL" in lines[0].getMessage() and "s3cret-pw" not in caplog.text
    assert all(r.exc_info is None for r in caplog.records)


async def test_an_unreachable_redis_is_a_warning_at_start_and_photos_still_work(
    runtime: Runtime,
    make_settings: Callable[..., Settings],
    database_url: str,
    wechat_api: FakeWeChatApi,
    demo_codes: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(
        database_url=database_url,
        redis_url="redis://127.0.0.1:1/0",
        wechat_app_id=APP_ID,
        wechat_app_secret=APP_SECRET,
        wechat_token=TOKEN,
        wechat_api_base_url=wechat_api.base_url,
    )
    channel = make_wechat_channel(settings, runtime)
    runtime.services.gateways[channel.name] = channel
    await channel.start()
    try:
        warnings = [r for r in caplog.records if "REDIS_URL" in r.getMessage()]
        assert len(warnings) == 1 and warnings[0].levelname == "WARNING"
        chat = Chat(runtime, user_id="oRedisDown0000000000000001", channel="wechat")
        await chat.say(f"绑定 {demo_codes['李娜']}")
        await chat.say("报修")
        await chat.press(chat.button("给排水管道"))
        await chat.say("卫生间地漏堵了")
        wechat_api.media["MEDIA-R"] = png_bytes()
        await chat.photo("MEDIA-R")
        assert "第 1 张" in chat.text
    finally:
        await channel.stop()
    assert all(r.exc_info is None for r in caplog.records)
