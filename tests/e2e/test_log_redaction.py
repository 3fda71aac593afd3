"""Phones, ID digits, message texts, tokens and secrets never appear in logs, captured here
from realistic failures: a database error on a write carrying an owner's message, the Telegram
channel starting a webhook at DEBUG, and a WeChat media download that fails over HTTP."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from uvicorn.logging import AccessFormatter

from bot.app import redaction
from bot.app.bootstrap import Runtime
from bot.storage.models import ProcessedUpdate
from bot.testing.fake_telegram import FakeTelegram
from tests.fakes.telegram_harness import WEBHOOK_SECRET, make_webhook_channel, running

PHONE = "13812345678"
ID_DIGITS = "4417"
TEXT = "我家漏水了，请打电话"


@pytest.fixture
def redacting(runtime: Runtime) -> Iterator[None]:
    """Logging as `python -m bot …` sets it up."""
    redaction.install(runtime.settings.secret_values)
    try:
        yield
    finally:
        redaction.uninstall()


async def test_a_database_error_logs_no_parameters(
    runtime: Runtime, redacting: None, caplog: pytest.LogCaptureFixture
) -> None:
    payload = {"text": TEXT, "phone": PHONE, "id_last4": ID_DIGITS}
    row = {
        "channel": "console",
        "update_key": "k-1",
        "payload": payload,
        "status": "pending",
        "received_at": runtime.services.clock(),
    }
    log = logging.getLogger("bot.engine.engine")
    async with runtime.uow() as uow:
        await uow.session.execute(insert(ProcessedUpdate).values(row))
        with pytest.raises(IntegrityError) as failure:
            await uow.session.execute(insert(ProcessedUpdate).values(row))
    log.warning("database unavailable (attempt 1): %s", failure.value)
    try:
        raise RuntimeError("step failed") from failure.value
    except RuntimeError:
        log.exception("flow failed on update k-1")
    assert "IntegrityError" in caplog.text
    for private in (PHONE, ID_DIGITS, TEXT):
        assert private not in caplog.text


async def test_telegram_token_and_webhook_secret_stay_out_of_debug_logs(
    runtime: Runtime, fake: FakeTelegram, redacting: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    channel = make_webhook_channel(runtime, fake)
    redaction.install([*runtime.settings.secret_values, fake.token, WEBHOOK_SECRET])
    async with running(channel, runtime):
        await fake.wait_until(lambda: bool(fake.calls_to("setWebhook")))
    assert "setWebhook" in caplog.text  # PTB did log the call, at DEBUG
    assert fake.token not in caplog.text and fake.token.split(":")[1] not in caplog.text
    assert WEBHOOK_SECRET not in caplog.text


def test_access_tokens_and_phones_in_any_text_are_masked() -> None:
    url = "https://api.weixin.qq.com/cgi-bin/media/get?access_token=ACCESS-XYZ&media_id=M1"
    text = redaction.redact(f"Client error '404' for url '{url}'; owner {PHONE}", ["s3cr3t-value"])
    assert "ACCESS-XYZ" not in text and PHONE not in text and "media_id=M1" in text
    assert (
        redaction.redact("/bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe") == "/bot***/getMe"
    )


def test_the_access_log_shows_no_query_string(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WeChat signs its callbacks in the query (signature, timestamp, nonce) and page links
    carry their token there: the access log keeps the path only."""
    query = "/wechat?signature=5f1c0a9e&timestamp=1795399200&nonce=884411&openid=oOwner"
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    logger = logging.getLogger("uvicorn.access")
    # uvicorn's own config gives the logger a handler of its own; here caplog's at the root.
    monkeypatch.setattr(logger, "propagate", True)
    redaction.install([])
    try:
        logger.info('%s - "%s %s HTTP/%s" %d', "10.0.0.9:5311", "POST", query, "1.1", 200)
    finally:
        redaction.uninstall()
    record = next(r for r in caplog.records if r.args and r.args[0] == "10.0.0.9:5311")
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s').format(record)
    assert line == '10.0.0.9:5311 - "POST /wechat HTTP/1.1" 200 OK'
