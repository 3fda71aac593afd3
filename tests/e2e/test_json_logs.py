"""`LOG_FORMAT=json`: `python -m bot run` with Telegram (polling the fake Bot API) and WeChat
(callbacks over real HTTP) writes nothing on stderr but JSON objects, one a line, and each line
logged while an update or an HTTP request is handled names it: `update_id` (Telegram's id,
WeChat's MsgId key) and `request_id` (the caller's X-Request-ID, or a new one, returned in the
response)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import log_context
from bot.app import redaction
from bot.app.bootstrap import Runtime
from bot.app.http import create_app
from bot.app.logs import ContextIds, JsonLines
from bot.settings import PROJECT_ROOT
from bot.testing.fake_telegram import TOKEN as TELEGRAM_TOKEN
from bot.testing.fake_telegram import FakeTelegram, text_update
from bot.testing.fake_wechat_api import APP_ID, APP_SECRET, FakeWeChatApi
from bot.testing.fake_wechat_server import AES_KEY, TOKEN, WeChatServer
from tests.e2e.processes import base_env, wait_until_healthy

#: Owners writing at once: their updates are handled concurrently, each line must keep its own.
OWNERS = range(8101, 8113)
WECHAT_MSG_ID = 91000001
SECRET = "s3cret-pw-for-the-json-log-test"


class JsonRun:
    """The process, its base URL, and (after `stop`) its stderr as parsed lines."""

    def __init__(self, env: dict[str, str], stderr: Path) -> None:
        self.base = f"http://127.0.0.1:{env['BOT_PORT']}"
        self._stderr_path = stderr
        self._stderr = stderr.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--demo-data"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            text=True,
        )
        wait_until_healthy(env, self.process)

    def stop(self) -> list[dict[str, Any]]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=30)
        self._stderr.close()
        lines = self._stderr_path.read_text(encoding="utf-8").splitlines()
        assert lines, "nothing logged"
        return [_parsed(number, line) for number, line in enumerate(lines, 1)]


def _parsed(number: int, line: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        pytest.fail(f"stderr line {number} is not JSON: {line!r}")
    assert isinstance(record, dict), line
    assert {"time", "level", "logger", "message"} <= record.keys(), line
    datetime.fromisoformat(record["time"])
    return record


@pytest.fixture
def json_run(tmp_path: Path, fake: FakeTelegram, wechat_api: FakeWeChatApi) -> Iterator[JsonRun]:
    env = base_env(
        tmp_path,
        LOG_FORMAT="json",
        LOG_LEVEL="DEBUG",  # the engine's line per handled update, and every library's lines
        SECRET_KEY=SECRET,
        TELEGRAM_TOKEN=TELEGRAM_TOKEN,
        TELEGRAM_API_BASE_URL=fake.base_url,
        WECHAT_APP_ID=APP_ID,
        WECHAT_APP_SECRET=APP_SECRET,
        WECHAT_TOKEN=TOKEN,
        WECHAT_AES_KEY=AES_KEY,
        WECHAT_API_BASE_URL=wechat_api.base_url,
    )
    run = JsonRun(env, tmp_path / "stderr.log")
    try:
        yield run
    finally:
        run.stop()


async def test_every_line_is_json_and_names_its_update_or_request(
    json_run: JsonRun, fake: FakeTelegram
) -> None:
    update_ids = {fake.push_update(text_update(owner, "你好")) for owner in OWNERS}
    await fake.wait_until(lambda: all(fake.sent_to(owner) for owner in OWNERS), within=60)
    headers = {"X-Request-ID": "wechat-req-7"}
    async with httpx.AsyncClient(base_url=json_run.base, headers=headers, timeout=10) as client:
        server = WeChatServer(client, lambda: datetime.now(UTC), app_id=APP_ID)
        answer = await server.send(server.text("openid-json-1", "你好", msg_id=WECHAT_MSG_ID))
        assert answer.status == 200
        probe = await client.get("/healthz", headers={"X-Request-ID": "probe-42"})
        assert probe.headers["X-Request-ID"] == "probe-42"
    await asyncio.sleep(0.5)  # the access log line of the last request

    records = json_run.stop()

    handled = {
        r["update_id"]: r
        for r in records
        if r["logger"] == "bot.engine.engine" and "handled" in r["message"]
    }
    assert {str(u) for u in update_ids} <= handled.keys()
    for update_id, record in handled.items():  # concurrent updates kept their own ids
        assert f" {update_id} " in record["message"]
        assert "request_id" not in record or update_id.startswith("msg:")
    wechat = handled[f"msg:{WECHAT_MSG_ID}"]
    assert wechat["request_id"] == "wechat-req-7"
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert any(r.get("request_id") == "probe-42" and "/healthz" in r["message"] for r in access)
    assert all(r.get("request_id") for r in access)
    assert not any(SECRET in json.dumps(r) for r in records)


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """A handler as `configure` sets it up for LOG_FORMAT=json, writing to a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextIds())
    handler.setFormatter(JsonLines())
    logger = logging.getLogger("tests.json_lines")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def _records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_traceback_in_json_is_redacted_too(json_lines: io.StringIO) -> None:
    redaction.install([SECRET])
    try:
        try:
            raise RuntimeError(f"owner 13812345678 rejected with {SECRET}")
        except RuntimeError:
            logging.getLogger("tests.json_lines").exception("send failed for %s", "13912345678")
    finally:
        redaction.uninstall()
    [record] = _records(json_lines)
    assert record["level"] == "ERROR" and "RuntimeError" in record["traceback"]
    text = json.dumps(record, ensure_ascii=False)
    assert "13812345678" not in text and "13912345678" not in text and SECRET not in text


async def test_concurrent_updates_keep_their_own_ids(json_lines: io.StringIO) -> None:
    log = logging.getLogger("tests.json_lines")

    async def handle(update_id: int) -> None:
        with log_context.handling_update(update_id):
            for step in range(3):
                log.info("update %d step %d", update_id, step)
                await asyncio.sleep(0)  # the others run in between

    await asyncio.gather(*(handle(update_id) for update_id in range(100, 110)))
    records = _records(json_lines)
    assert len(records) == 30
    assert all(r["message"].startswith(f"update {r['update_id']} ") for r in records)
    log.info("after")
    assert "update_id" not in _records(json_lines)[-1]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("sent", "kept"),
    [("req-7f3a.b:c_d", True), (None, False), ("x" * 129, False), ("two words", False)],
)
async def test_the_request_id_is_returned_and_kept_only_when_sane(
    runtime: Runtime, sent: str | None, kept: bool
) -> None:
    headers = {} if sent is None else {"X-Request-ID": sent}
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        response = await client.get("/healthz", headers=headers)
        again = await client.get("/healthz", headers=headers)
    returned = response.headers["X-Request-ID"]
    if kept:
        assert returned == sent
    else:
        assert (
            returned != sent and len(returned) == 32 and returned != again.headers["X-Request-ID"]
        )
