"""Two delivery workers on one database claim disjoint messages (PostgreSQL: SKIP LOCKED)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from bot.app.bootstrap import Runtime, build_runtime
from bot.engine.types import Reply
from bot.settings import Settings
from tests.support import Chat, FakeClock


async def test_concurrent_workers_never_claim_the_same_message(
    runtime: Runtime,
    bound_chat: Chat,
    clock: FakeClock,
    database_url: str,
    make_settings: Callable[..., Settings],
) -> None:
    async with runtime.uow() as uow:
        account = await uow.accounts.find(bound_chat.channel, bound_chat.user_id)
        assert account is not None
        for number in range(40):
            await uow.outbox.add(
                account_id=account.id,
                purpose="notice",
                idempotency_key=f"n{number}",
                replies=[Reply(f"消息 {number}").to_dict()],
                due_at=clock(),
                now=clock(),
            )
        await uow.commit()
    other = build_runtime(
        make_settings(database_url=database_url), clock=clock, with_channels=False
    )

    async def claim(rt: Runtime) -> list[int]:
        claimed: list[int] = []
        for _ in range(4):
            async with rt.uow() as uow:
                items = await uow.outbox.claim_due(clock(), 5, timedelta(minutes=2))
                await uow.commit()
            claimed += [item.id for item in items]
        return claimed

    try:
        first, second = await asyncio.gather(claim(runtime), claim(other))
    finally:
        await other.close()
    assert len(first) + len(second) == 40
    assert not set(first) & set(second)
