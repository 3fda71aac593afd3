"""Pushes: queued once per idempotency key, delivered once, failures handled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from bot.app.bootstrap import Runtime
from bot.engine.ports import DeliveryError, Push
from bot.engine.types import Reply
from tests.support import Chat, FakeClock


@dataclass
class RecordingGateway:
    """A fake of the ChannelGateway port (ours): records sends, fails on demand."""

    name: str = "console"
    sent: list[tuple[str, str, Push | None]] = field(default_factory=list)
    failures: list[DeliveryError] = field(default_factory=list)

    async def send(
        self, user_id: str, replies: Sequence[Reply], *, lang: str, push: Push | None = None
    ) -> list[str]:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.extend((user_id, reply.text, push) for reply in replies)
        return [f"msg-{len(self.sent) - n}" for n in reversed(range(len(replies)))]

    async def fetch_media(self, media_ref: str, max_bytes: int) -> bytes:
        raise NotImplementedError


async def _queue(runtime: Runtime, chat: Chat, key: str, clock: FakeClock) -> bool:
    async with runtime.uow() as uow:
        account = await uow.accounts.find(chat.channel, chat.user_id)
        assert account is not None
        added = await uow.outbox.add(
            account_id=account.id,
            purpose="ticket_update",
            idempotency_key=key,
            replies=[Reply("工单状态更新").to_dict()],
            due_at=clock(),
            now=clock(),
        )
        await uow.commit()
    return added


async def test_a_push_is_queued_once_and_delivered_once(
    runtime: Runtime, bound_chat: Chat, clock: FakeClock
) -> None:
    gateway = RecordingGateway()
    runtime.services.gateways["console"] = gateway
    assert await _queue(runtime, bound_chat, "k1", clock)
    assert not await _queue(runtime, bound_chat, "k1", clock)  # same key: not queued twice
    assert await runtime.outbox.run_once() == 1
    assert await runtime.outbox.run_once() == 0
    ((user, text, push),) = gateway.sent
    assert user == bound_chat.user_id and text == "工单状态更新"
    assert push is not None and push.purpose == "ticket_update"
    assert push.link_url is not None
    assert push.link_url.startswith("http://127.0.0.1:8080/m/") and "?t=" in push.link_url
    assert push.last_inbound_at == clock()


async def test_a_blocked_user_is_marked_inactive_and_not_retried(
    runtime: Runtime, bound_chat: Chat, clock: FakeClock
) -> None:
    gateway = RecordingGateway(failures=[DeliveryError("blocked", permanent=True)])
    runtime.services.gateways["console"] = gateway
    await _queue(runtime, bound_chat, "k2", clock)
    assert await runtime.outbox.run_once() == 0
    async with runtime.uow() as uow:
        account = await uow.accounts.find(bound_chat.channel, bound_chat.user_id)
        assert account is not None and not account.active
        assert await uow.accounts.active_accounts_of_owner(account.owner_id or 0) == []
    clock.advance(hours=1)
    assert await runtime.outbox.run_once() == 0 and gateway.sent == []


async def test_rate_limits_wait_retry_after_then_deliver(
    runtime: Runtime, bound_chat: Chat, clock: FakeClock
) -> None:
    gateway = RecordingGateway(failures=[DeliveryError("429", retry_after=30)])
    runtime.services.gateways["console"] = gateway
    await _queue(runtime, bound_chat, "k3", clock)
    assert await runtime.outbox.run_once() == 0
    clock.advance(seconds=29)
    assert await runtime.outbox.run_once() == 0
    clock.advance(seconds=2)
    assert await runtime.outbox.run_once() == 1 and len(gateway.sent) == 1


async def test_a_worker_that_crashed_after_claiming_leaves_rows_for_the_next(
    runtime: Runtime, bound_chat: Chat, clock: FakeClock
) -> None:
    gateway = RecordingGateway()
    runtime.services.gateways["console"] = gateway
    await _queue(runtime, bound_chat, "k4", clock)
    async with runtime.uow() as uow:  # a worker claims, then dies before sending
        assert len(await uow.outbox.claim_due(clock(), 10, lease=timedelta(minutes=2))) == 1
        await uow.commit()
    assert await runtime.outbox.run_once() == 0  # still leased
    clock.advance(minutes=3)
    assert await runtime.outbox.run_once() == 1
