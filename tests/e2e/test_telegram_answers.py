"""Answers to owners survive a kill -9 and a flood (issue 19, defect 1).

Before the outbox carried replies, an update was marked handled when its replies were computed,
and the replies then waited in memory for a pacing slot: a kill -9 lost them, and a reply that
met 429 twice was dropped. Now they are queued with the update's outcome and sent from there.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.app.bootstrap import Runtime
from bot.settings import PROJECT_ROOT
from bot.storage.models import OutboxMessage
from bot.testing.fake_telegram import FakeTelegram, text_update
from tests.fakes.telegram_harness import make_channel, running

OWNERS = range(20_000, 20_300)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(fake: FakeTelegram) -> Counter[int]:
    """Messages sent per chat."""
    return Counter(call.params["chat_id"] for call in fake.calls_to("sendMessage"))


@pytest.fixture
async def limited() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(enforce_limits=True).start()
    yield server
    server.stop()


async def _in_flight(runtime: Runtime) -> int:
    """Rows claimed and not finished: what a crash may leave sent but unrecorded."""
    async with runtime.uow() as uow:
        query = select(func.count()).where(
            OutboxMessage.status.in_(("pending", "retrying")),
            OutboxMessage.claimed_until.is_not(None),
        )
        return int((await uow.session.execute(query)).scalar_one())


async def _bot(runtime: Runtime, fake: FakeTelegram) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DATABASE_URL": runtime.settings.database_url,
        "MEDIA_DIR": str(runtime.settings.media_dir),
        "BOT_PORT": str(_free_port()),
        "TELEGRAM_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_WEBHOOK_URL": "",
        "REDIS_URL": "",
        "QUIET_HOURS": "",
        "LOG_LEVEL": "WARNING",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=PROJECT_ROOT, env=env
    )


async def test_kill_9_after_some_answers_every_owner_gets_exactly_one(
    runtime: Runtime, fake: FakeTelegram
) -> None:
    for owner in OWNERS:
        fake.push_update(text_update(owner, "/help"))
    first = await _bot(runtime, fake)
    try:
        await fake.wait_until(lambda: len(answers(fake)) >= 75, within=90)
    finally:
        first.kill()
        await first.wait()
    answered_before = len(answers(fake))
    in_flight = await _in_flight(runtime)
    assert answered_before < len(OWNERS), "the kill must land while answers are going out"

    second = await _bot(runtime, fake)
    try:
        await fake.wait_until(lambda: set(answers(fake)) >= set(OWNERS), within=90)
        await asyncio.sleep(1.5)  # a late duplicate would show up now
    finally:
        second.kill()
        await second.wait()
    counts = answers(fake)
    per_answer = min(counts.values())
    duplicated = [owner for owner, count in counts.items() if count > per_answer]
    assert set(counts) == set(OWNERS)
    assert len(duplicated) <= in_flight, (duplicated, in_flight)


async def test_a_flood_under_telegrams_limits_loses_no_answer(
    runtime: Runtime, limited: FakeTelegram
) -> None:
    """300 owners at once against a fake that answers 429 as Telegram does: everyone gets
    exactly one answer, however many 429s came back."""
    for owner in OWNERS:
        limited.push_update(text_update(owner, "/help"))
    channel = make_channel(runtime, limited, asyncio.sleep)  # type: ignore[arg-type]
    async with running(channel, runtime):
        await limited.wait_until(lambda: set(answers(limited)) >= set(OWNERS), within=90)
        await asyncio.sleep(1.0)
    counts = answers(limited)
    assert set(counts) == set(OWNERS)
    assert len(set(counts.values())) == 1, "no owner answered twice"
    assert limited.limits is not None
    sent = sum(counts.values())
    assert limited.limits.refused <= 0.01 * sent, (limited.limits.refused, sent)
