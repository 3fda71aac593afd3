"""`python -m bot run` as deployed: one process with Telegram (polling a fake Bot API) and
WeChat (callbacks over real HTTP) configured only through the environment. This checks the
wiring — settings, bootstrap, HTTP app, channel start-up — not just the adapters in isolation.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bot.settings import PROJECT_ROOT
from bot.testing.fake_telegram import TOKEN as TELEGRAM_TOKEN
from bot.testing.fake_telegram import FakeTelegram, text_update
from bot.testing.fake_wechat_api import APP_ID, APP_SECRET, FakeWeChatApi
from bot.testing.fake_wechat_server import AES_KEY, TOKEN, WeChatServer

OWNER = 7001


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def bot_process(tmp_path: Path, fake: FakeTelegram, wechat_api: FakeWeChatApi) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        "MEDIA_DIR": str(tmp_path / "media"),
        "BOT_PORT": str(port),
        "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "WECHAT_APP_ID": APP_ID,
        "WECHAT_APP_SECRET": APP_SECRET,
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_AES_KEY": AES_KEY,
        "WECHAT_API_BASE_URL": wechat_api.base_url,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--demo-data"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: httpx.get(f"{base}/healthz", timeout=2).json()["status"] == "ok")
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=30)[0]
        assert "Traceback" not in output, output


def _wait(ready: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if ready():  # type: ignore[operator]
                return
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def test_health_lists_both_channels(bot_process: str) -> None:
    body = httpx.get(f"{bot_process}/healthz", timeout=5).json()
    assert sorted(body["channels"]) == ["telegram", "wechat"]


def test_a_telegram_owner_binds_with_the_deep_link(bot_process: str, fake: FakeTelegram) -> None:
    fake.push_update(text_update(OWNER, "/start DEMA2345"))

    def answered() -> bool:
        return any("绑定成功" in str(call.params.get("text")) for call in fake.sent_to(OWNER))

    _wait(answered)


async def test_a_wechat_owner_binds_in_the_callback_reply(bot_process: str) -> None:
    async with httpx.AsyncClient(base_url=bot_process, timeout=10) as client:
        server = WeChatServer(client, lambda: datetime.now(UTC), app_id=APP_ID)
        answer = await server.send(server.text("openid-run-1", "绑定 DEMB2345"))
    assert answer.status == 200 and answer.encrypted
    assert "绑定成功" in answer.content and "李娜" in answer.content
