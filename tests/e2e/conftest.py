"""Fixtures of the end-to-end suites."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright

from bot.app.bootstrap import Runtime
from bot.app.http import create_app
from bot.testing.fake_telegram import FakeTelegram
from bot.testing.fake_wechat_api import FakeWeChatApi
from tests.fakes.servers import PrivateRedis


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a `python -m bot …` process: its own SQLite file, no channels."""
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "MEDIA_DIR": str(tmp_path / "media"),
        "TELEGRAM_TOKEN": "",
        "WECHAT_APP_ID": "",
    }


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    """The fake Bot API on loopback, in its own thread, for one test."""
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture
def wechat_api() -> Iterator[FakeWeChatApi]:
    """The fake WeChat API (token, media, 客服消息) on loopback, for one test."""
    api = FakeWeChatApi().start()
    yield api
    api.stop()


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    """A redis-server of the test's own, which it may kill or freeze."""
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def base_url(runtime: Runtime) -> AsyncIterator[str]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no start event to await
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()
