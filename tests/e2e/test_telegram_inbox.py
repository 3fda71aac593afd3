"""Persist before acknowledging: no update is lost to a crash or an outage, none is handled twice.

The webhook runs on our real FastAPI app; polling and the crash run against the fake Bot API.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.app.bootstrap import Runtime
from bot.app.http import create_app
from bot.channels.telegram.channel import TelegramChannel
from bot.engine.engine import Engine
from bot.engine.types import Reply
from bot.handlers import all_flows
from bot.settings import PROJECT_ROOT
from bot.storage.db import create_engine, session_factory
from bot.storage.uow import UnitOfWork
from bot.testing.fake_telegram import FakeTelegram, callback_update, text_update
from tests.fakes.telegram_harness import (
    WEBHOOK_SECRET,
    RecordingSleep,
    account_of,
    eventually,
    inbox_keys,
    make_channel,
    make_webhook_channel,
    running,
)
from tests.support import FakeClock

OWNER = 8001
WEBHOOK = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
async def webhook(runtime: Runtime, fake: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    async with running(make_webhook_channel(runtime, fake), runtime) as channel:
        yield channel


@pytest.fixture
async def client(runtime: Runtime, webhook: TelegramChannel) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        yield client


def update_json(update_id: int, text: str, user_id: int = OWNER) -> dict[str, object]:
    return {"update_id": update_id, **text_update(user_id, text)}


async def post(client: httpx.AsyncClient, body: object, secret: str = WEBHOOK_SECRET) -> int:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await client.post(WEBHOOK, content=content, headers={SECRET_HEADER: secret})
    return response.status_code


async def test_webhook_is_registered_with_its_secret(
    webhook: TelegramChannel, fake: FakeTelegram
) -> None:
    await fake.wait_until(lambda: bool(fake.calls_to("setWebhook")))
    [call] = fake.calls_to("setWebhook")
    assert call.params["url"] == "https://bot.example.com/telegram/webhook"
    assert call.params["secret_token"] == WEBHOOK_SECRET
    assert call.params["allowed_updates"] == ["message", "edited_message", "callback_query"]


async def test_webhook_records_then_answers_and_replies(
    client: httpx.AsyncClient, fake: FakeTelegram, runtime: Runtime
) -> None:
    assert await post(client, update_json(501, "/help")) == 200
    assert (await inbox_keys(runtime)).get("501") is not None
    await fake.wait_until(lambda: bool(fake.sent_to(OWNER)))


async def test_webhook_with_a_wrong_secret_is_refused_and_nothing_recorded(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    assert await post(client, update_json(502, "/help"), secret="guess-guess-guess") == 403
    response = await client.post(WEBHOOK, json=update_json(503, "/help"))
    assert response.status_code == 403
    assert await inbox_keys(runtime) == {}


async def test_malformed_webhook_body_is_a_400(
    client: httpx.AsyncClient, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    assert await post(client, b"{not json") == 400
    assert await post(client, [1, 2]) == 400
    assert await post(client, {"message": {}}) == 400
    assert await inbox_keys(runtime) == {}
    assert all(record.exc_info is None for record in caplog.records)


async def test_a_webhook_retry_is_handled_once(
    client: httpx.AsyncClient, fake: FakeTelegram, runtime: Runtime
) -> None:
    assert await post(client, update_json(504, "/help")) == 200
    assert await post(client, update_json(504, "/help")) == 200

    async def handled() -> bool:
        return await inbox_keys(runtime) == {"504": "done"}

    await eventually(handled)
    await fake.wait_until(lambda: bool(fake.sent_to(OWNER)))
    assert len(fake.sent_to(OWNER)) == 1


async def test_webhook_answers_503_while_the_database_is_down(
    runtime: Runtime, fake: FakeTelegram
) -> None:
    """Telegram keeps an update it got no 2xx for and delivers it again later."""
    unreachable = session_factory(create_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none"))
    engine = Engine(
        lambda: UnitOfWork(unreachable), runtime.services, all_flows(), retry_delay=0.001
    )
    settings = runtime.settings.model_copy(
        update={
            "telegram_token": fake.token,
            "telegram_api_base_url": fake.base_url,
            "telegram_webhook_url": "https://bot.example.com/telegram/webhook",
            "telegram_webhook_secret": WEBHOOK_SECRET,
        }
    )
    channel = TelegramChannel(settings, engine, sleep=RecordingSleep())
    runtime.channels.append(channel)
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        assert await post(client, update_json(505, "/help")) == 503


async def test_an_update_fetched_again_after_a_restart_is_handled_once(
    runtime: Runtime, fake: FakeTelegram
) -> None:
    """Polling overlap: Telegram re-sends what it never saw confirmed."""
    update_id = fake.push_update(text_update(OWNER, "/help"))
    async with running(make_channel(runtime, fake, RecordingSleep()), runtime):
        await fake.wait_until(lambda: bool(fake.sent_to(OWNER)))
    fake.replay(update_id)
    async with running(make_channel(runtime, fake, RecordingSleep()), runtime):
        await fake.wait_until(lambda: fake.acknowledged_below > update_id)
    assert len(fake.sent_to(OWNER)) == 1


async def test_a_blocked_owner_is_marked_inactive(runtime: Runtime, fake: FakeTelegram) -> None:
    fake.blocked.add(OWNER)
    fake.push_update(text_update(OWNER, "/help"))

    async def inactive() -> bool:
        account = await account_of(runtime, OWNER)
        return account is not None and not account.active

    async with running(make_channel(runtime, fake, RecordingSleep()), runtime):
        await eventually(inactive)
    assert len(fake.sent_to(OWNER)) == 1  # a 403 is not retried


async def test_an_outbox_push_to_a_blocked_owner_deactivates_the_account(
    runtime: Runtime, fake: FakeTelegram, clock: FakeClock
) -> None:
    async with runtime.uow() as uow:
        account, _ = await uow.accounts.touch("telegram", str(OWNER), language="zh", now=clock())
        await uow.outbox.add(
            account_id=account.id,
            purpose="ticket_update",
            idempotency_key="ticket-1-done",
            replies=[Reply("您的工单已完成").to_dict()],
            due_at=clock(),
            now=clock(),
        )
        await uow.commit()
    fake.blocked.add(OWNER)
    async with running(make_channel(runtime, fake, RecordingSleep()), runtime):
        assert await runtime.outbox.run_once() == 0
    assert [call.params["text"] for call in fake.sent_to(OWNER)] == ["您的工单已完成"]
    account_after = await account_of(runtime, OWNER)
    assert account_after is not None and not account_after.active


CHILD = """
import asyncio
from bot.app.bootstrap import build_runtime
from bot.channels.telegram.channel import TelegramChannel
from bot.settings import load_settings

async def main():
    runtime = build_runtime(load_settings(), with_channels=False)
    await TelegramChannel(runtime.settings, runtime.engine).start()
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_kill_9_between_record_and_reply_loses_no_update(
    runtime: Runtime, fake: FakeTelegram
) -> None:
    """A poller killed with recorded-but-unhandled updates; the next start handles them all."""
    # A button press: handling first acknowledges it (answerCallbackQuery), which the fake
    # holds, so handling stays far behind recording (replies go through the outbox, so a slow
    # sendMessage would not hold handling up).
    owner_of = {
        fake.push_update(callback_update(owner, "flow:faq")): owner for owner in range(9000, 9150)
    }
    fake.delays["answerCallbackQuery"] = 2
    env = {
        **os.environ,
        "DATABASE_URL": runtime.settings.database_url,
        "MEDIA_DIR": str(runtime.settings.media_dir),
        "TELEGRAM_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_WEBHOOK_URL": "",
        "REDIS_URL": "",
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, cwd=PROJECT_ROOT, env=env
    )
    try:
        await fake.wait_until(lambda: fake.acknowledged_below > 100, within=60)
    finally:
        child.kill()
        await child.wait()
    pending = {
        owner_of[int(key)]
        for key, status in (await inbox_keys(runtime)).items()
        if status == "pending"
    }
    assert pending, "the kill must land between recording and handling"
    fake.delays.clear()
    sent_before = len(fake.calls_to("sendMessage"))

    def answered_after_restart() -> set[int]:
        return {call.params["chat_id"] for call in fake.calls_to("sendMessage")[sent_before:]}

    async with running(make_channel(runtime, fake, RecordingSleep()), runtime):
        await fake.wait_until(lambda: answered_after_restart() >= pending, within=30)
        await fake.wait_until(lambda: not fake.pending_update_ids(), within=30)

        async def all_done() -> bool:
            statuses = await inbox_keys(runtime)
            return len(statuses) == len(owner_of) and set(statuses.values()) == {"done"}

        await eventually(all_done, within=30)
