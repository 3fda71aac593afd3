"""Running the real Telegram adapter against the fake Bot API in tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.pacing import TelegramLimits
from bot.domain.roster import Account
from bot.storage.models import ProcessedUpdate
from bot.testing.fake_telegram import FakeTelegram

if TYPE_CHECKING:
    from bot.app.bootstrap import Runtime

WEBHOOK_SECRET = "test-secret-0123456789"


class RecordingSleep:
    """Stands in for asyncio.sleep: remembers every wait and returns at once, so tests assert
    what the adapter waited for (retry_after, pacing) without spending the time."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


def make_channel(
    runtime: Runtime,
    fake: FakeTelegram,
    sleep: RecordingSleep,
    *,
    limits: TelegramLimits | None = None,
    **settings: Any,
) -> TelegramChannel:
    values: dict[str, Any] = {
        "telegram_token": fake.token,
        "telegram_api_base_url": fake.base_url,
        **settings,
    }
    channel = TelegramChannel(
        runtime.settings.model_copy(update=values), runtime.engine, limits=limits, sleep=sleep
    )
    runtime.services.gateways[channel.name] = channel
    return channel


def make_webhook_channel(runtime: Runtime, fake: FakeTelegram) -> TelegramChannel:
    """A channel in webhook mode, added to the runtime so `create_app` serves its route."""
    channel = make_channel(
        runtime,
        fake,
        RecordingSleep(),
        telegram_webhook_url="https://bot.example.com/telegram/webhook",
        telegram_webhook_secret=WEBHOOK_SECRET,
    )
    runtime.channels.append(channel)
    return channel


@asynccontextmanager
async def running(channel: TelegramChannel, runtime: Runtime) -> AsyncIterator[TelegramChannel]:
    """The channel and the runtime's outbox worker, which sends every reply, as `run` has them."""
    await channel.start()
    await runtime.outbox.start()
    try:
        yield channel
    finally:
        await runtime.outbox.stop()
        await channel.stop()


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Wait until an async check (a database query) holds; fails after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def account_of(runtime: Runtime, user_id: int) -> Account | None:
    async with runtime.uow() as uow:
        return await uow.accounts.find("telegram", str(user_id))


async def inbox_keys(runtime: Runtime) -> dict[str, str]:
    """update_key → status of every Telegram update in the inbox."""
    async with runtime.uow() as uow:
        rows = await uow.session.execute(
            select(ProcessedUpdate.update_key, ProcessedUpdate.status).where(
                ProcessedUpdate.channel == "telegram"
            )
        )
        return {key: status for key, status in rows.all()}
