"""Two delivery workers on one database deliver each message once (PostgreSQL: SKIP LOCKED)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from bot.app.bootstrap import Runtime, build_runtime
from bot.engine.types import Reply
from bot.settings import Settings
from tests.integration.test_outbox import RecordingGateway
from tests.support import FakeClock


async def _queue_for_many(runtime: Runtime, clock: FakeClock, owners: int) -> None:
    async with runtime.uow() as uow:
        for number in range(owners):
            account, _ = await uow.accounts.touch(
                "console", f"u{number}", language="zh", now=clock()
            )
            await uow.outbox.add(
                account_id=account.id,
                purpose="notice",
                idempotency_key=f"n{number}",
                replies=[Reply(f"消息 {number}").to_dict()],
                due_at=clock(),
                now=clock(),
            )
        await uow.commit()


async def test_concurrent_workers_never_claim_the_same_message(
    runtime: Runtime,
    clock: FakeClock,
    database_url: str,
    make_settings: Callable[..., Settings],
) -> None:
    await _queue_for_many(runtime, clock, 40)
    other = build_runtime(
        make_settings(database_url=database_url), clock=clock, with_channels=False
    )

    async def claim(rt: Runtime) -> list[int]:
        claimed: list[int] = []
        for _ in range(4):
            async with rt.uow() as uow:
                items = await uow.outbox.claim_due(clock(), 5, timedelta(seconds=10))
                await uow.commit()
            claimed += [item.id for item in items]
        return claimed

    try:
        first, second = await asyncio.gather(claim(runtime), claim(other))
    finally:
        await other.close()
    assert len(first) + len(second) == 40
    assert not set(first) & set(second)


async def test_two_workers_deliver_every_message_once(
    runtime: Runtime,
    clock: FakeClock,
    database_url: str,
    make_settings: Callable[..., Settings],
) -> None:
    await _queue_for_many(runtime, clock, 120)
    other = build_runtime(
        make_settings(database_url=database_url), clock=clock, with_channels=False
    )
    gateway = RecordingGateway()
    runtime.services.gateways["console"] = gateway
    other.services.gateways["console"] = gateway
    try:
        # Connected first: opening a connection can take longer than the other worker's whole
        # run (its outcomes are written in groups), and then it alone took part.
        async with other.uow() as uow:
            await uow.outbox.status_counts(clock())
        counts = await asyncio.gather(runtime.outbox.run_once(), other.outbox.run_once())
    finally:
        await other.close()
    assert sum(counts) == 120 and min(counts) > 0  # both took part
    texts = [text for _, text, _ in gateway.sent]
    assert sorted(texts) == sorted(f"消息 {n}" for n in range(120))
