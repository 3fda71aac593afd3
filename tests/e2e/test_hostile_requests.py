"""No public 500s: whatever a stranger sends to our HTTP routes gets a 4xx and one log line,
never a traceback. Run through our real FastAPI app (exceptions inside it fail the test)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.app.bootstrap import Runtime
from bot.app.http import create_app
from bot.testing.fake_telegram import FakeTelegram, callback_update, text_update
from tests.fakes.telegram_harness import (
    WEBHOOK_SECRET,
    RecordingSleep,
    make_channel,
    make_webhook_channel,
    running,
)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
async def client(runtime: Runtime, fake: FakeTelegram) -> AsyncIterator[httpx.AsyncClient]:
    async with running(make_webhook_channel(runtime, fake), runtime):
        transport = httpx.ASGITransport(app=create_app(runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            yield client


def _one_line_no_traceback(caplog: pytest.LogCaptureFixture, logger: str) -> None:
    lines = [r for r in caplog.records if r.name.startswith(logger)]
    assert len(lines) == 1, [r.getMessage() for r in caplog.records]
    assert all(r.exc_info is None for r in caplog.records)


@pytest.mark.parametrize(
    "token", ["99999999999999.x", "².x", "9" * 400 + ".x", "-5.x", "1e9.x", ".", ""]
)
async def test_a_forged_page_link_is_a_404(
    client: httpx.AsyncClient, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.pages")
    response = await client.get("/m/1", params={"t": token})
    assert response.status_code == 404
    _one_line_no_traceback(caplog, "bot.pages")


@pytest.mark.parametrize("path", ["/m/99999999999999999999999", "/m/-1", "/m/²"])
async def test_a_page_id_out_of_range_is_a_4xx(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, params={"t": "1.x"})
    assert 400 <= response.status_code < 500


async def test_a_webhook_body_nested_5000_deep_is_a_400(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    nested = b'{"update_id": 1, "message": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = await client.post(
        "/telegram/webhook", content=nested, headers={SECRET_HEADER: WEBHOOK_SECRET}
    )
    assert response.status_code == 400
    _one_line_no_traceback(caplog, "bot.channels.telegram")


async def test_polling_goes_on_after_hostile_button_data(
    runtime: Runtime, fake: FakeTelegram, demo_codes: dict[str, str]
) -> None:
    owner = 8100
    fake.push_update(text_update(owner, f"/start {demo_codes['张伟']}"))
    for data in ("tickets:show:99999999999999999999", "tickets:show:²"):
        fake.push_update(callback_update(owner, data))
    fake.push_update(text_update(owner, "/help"))
    async with running(make_channel(runtime, fake, RecordingSleep()), runtime):
        await fake.wait_until(lambda: len(fake.sent_to(owner)) >= 4)
    texts = [str(call.params.get("text")) for call in fake.sent_to(owner)]
    assert "绑定成功" in texts[0] and not any("出了点问题" in text for text in texts)
