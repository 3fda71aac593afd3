"""Two `python -m bot run` processes in Telegram webhook mode on one PostgreSQL database and one
Redis, as `docker compose up --scale bot=2` behind a load balancer runs them: the updates are
split between them (some delivered to both, as Telegram does after a timeout), pushes fall due
while both poll the outbox, and every update is answered once and every push delivered once.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.engine.types import Reply
from bot.storage.db import create_engine, session_factory
from bot.storage.models import OutboxMessage
from bot.storage.uow import UnitOfWork
from bot.testing.fake_telegram import TOKEN, FakeTelegram, text_update
from tests.e2e.faults import bot_process, replies_per_user, wait_for_replies
from tests.e2e.processes import base_env
from tests.fakes.servers import PrivateRedis

SECRET = "two-instances-secret-0123456789"
OWNERS = range(7401, 7421)
#: Delivered to both instances at once: Telegram resends an update whose answer timed out,
#: and the load balancer may pick the other instance.
TWICE = range(7401, 7405)
_update_ids = itertools.count(900_001)


def _deliver(port: str, update: dict[str, object]) -> int:
    response = httpx.post(
        f"http://127.0.0.1:{port}/telegram/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        timeout=30,
    )
    return response.status_code


async def _queue_pushes(database_url: str, due_at: datetime) -> list[str]:
    """One push to each owner, falling due at `due_at` (as a certificate update would)."""
    engine = create_engine(database_url)
    texts = []
    try:
        async with UnitOfWork(session_factory(engine)) as uow:
            for owner in OWNERS:
                account = await uow.accounts.find("telegram", str(owner))
                assert account is not None
                text = f"push to {owner}"
                await uow.outbox.add(
                    account_id=account.id,
                    purpose="certificate_update",
                    idempotency_key=f"two-instances:{owner}",
                    replies=[Reply(text).to_dict()],
                    due_at=due_at,
                    now=datetime.now(UTC),
                )
                texts.append(text)
            await uow.commit()
    finally:
        await engine.dispose()
    return texts


async def _senders(database_url: str) -> list[str | None]:
    """The worker that sent each outbox row."""
    engine = create_engine(database_url)
    try:
        async with UnitOfWork(session_factory(engine)) as uow:
            rows = await uow.session.execute(select(OutboxMessage.claimed_by, OutboxMessage.status))
            return [worker for worker, status in rows.all() if status == "sent"]
    finally:
        await engine.dispose()


def test_two_webhook_instances_answer_each_update_once_and_deliver_each_push_once(
    tmp_path: Path, fake: FakeTelegram, empty_postgres: str, redis_server: PrivateRedis
) -> None:
    shared = {
        "DATABASE_URL": empty_postgres,
        "REDIS_URL": redis_server.url,
        "TELEGRAM_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.com/telegram/webhook",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "QUIET_HOURS": "",
        "SCHEDULER_TICK_SECONDS": "0.5",
    }
    envs = [base_env(tmp_path, **shared) for _ in range(2)]
    ports = [env["BOT_PORT"] for env in envs]
    with ExitStack() as stack:
        for number, env in enumerate(envs):
            stack.enter_context(bot_process(env, tmp_path / f"bot-{number}.log"))
        assert fake.webhook_url == shared["TELEGRAM_WEBHOOK_URL"]

        deliveries = []
        for index, owner in enumerate(OWNERS):
            update = {"update_id": next(_update_ids), **text_update(owner, "菜单")}
            targets = ports if owner in TWICE else [ports[index % 2]]
            deliveries += [(port, update) for port in targets]
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda job: _deliver(*job), deliveries))
        assert set(statuses) == {200}

        wait_for_replies(fake, OWNERS, 1, within=60)
        answered = replies_per_user(fake, OWNERS)
        assert len(set(answered.values())) == 1, answered  # once each, the twice-sent too

        due_at = datetime.now(UTC) + timedelta(seconds=2)
        texts = asyncio.run(_queue_pushes(empty_postgres, due_at))
        deadline = time.monotonic() + 60
        while not all(_sent_texts(fake).count(text) for text in texts):
            assert time.monotonic() < deadline, "not every push was delivered in time"
            time.sleep(0.1)
        time.sleep(3)  # both workers keep polling: a duplicate would show by now
        sent = _sent_texts(fake)
        assert {text: sent.count(text) for text in texts} == dict.fromkeys(texts, 1)

        senders = asyncio.run(_senders(empty_postgres))
        assert len(senders) == len(OWNERS) * 2
        assert len(set(senders)) == 2  # both instances delivered (their workers' ids)
    for number in range(2):
        assert "Traceback" not in (tmp_path / f"bot-{number}.log").read_text()


def _sent_texts(fake: FakeTelegram) -> list[str]:
    return [str(call.params.get("text")) for call in fake.calls_to("sendMessage")]
