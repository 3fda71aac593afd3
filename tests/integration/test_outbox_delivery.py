"""The delivery worker: per-chat order, quiet hours, outcomes, partial sends and the lease."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app.bootstrap import Runtime, build_runtime
from bot.engine.ports import Delivered, DeliveryError, Push
from bot.engine.types import IncomingMessage, MessageKind, Reply
from bot.scheduler import outbox as outbox_module
from bot.settings import Settings
from bot.storage.models import OutboxMessage
from tests.integration.test_outbox import RecordingGateway
from tests.support import Chat, FakeClock


async def _queue(
    runtime: Runtime, chat: Chat, key: str, clock: FakeClock, purpose: str, *texts: str
) -> None:
    async with runtime.uow() as uow:
        account = await uow.accounts.find(chat.channel, chat.user_id)
        assert account is not None
        await uow.outbox.add(
            account_id=account.id,
            purpose=purpose,
            idempotency_key=key,
            replies=[Reply(text).to_dict() for text in texts],
            due_at=clock(),
            now=clock(),
        )
        await uow.commit()


async def _row(runtime: Runtime, key: str) -> Any:
    """The row's columns as they are now."""
    table = OutboxMessage.__table__
    async with runtime.uow() as uow:
        query = select(table).where(table.c.idempotency_key == key)
        return (await uow.session.execute(query)).one()


async def test_a_later_message_never_overtakes_an_earlier_one_of_the_same_chat(
    runtime: Runtime, bound_chat: Chat, clock: FakeClock
) -> None:
    gateway = RecordingGateway(failures=[DeliveryError("429", retry_after=5)])
    runtime.services.gateways["console"] = gateway
    await _queue(runtime, bound_chat, "first", clock, "reply", "一")
    await _queue(runtime, bound_chat, "second", clock, "reply", "二")
    assert await runtime.outbox.run_once() == 0
    assert (await _row(runtime, "first")).status == "retrying"
    assert gateway.sent == []  # "二" waits for "一"
    clock.advance(seconds=6)
    assert await runtime.outbox.run_once() == 2
    assert [text for _, text, _ in gateway.sent] == ["一", "二"]


async def test_quiet_hours_hold_pushes_but_not_replies(
    runtime: Runtime, bound_chat: Chat, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    gateway = RecordingGateway()
    runtime.services.gateways["console"] = gateway
    await _queue(runtime, bound_chat, "survey", clock, "survey", "请评价")
    await _queue(runtime, bound_chat, "answer", clock, "reply", "收到")
    assert await runtime.outbox.run_once() == 1
    assert [text for _, text, _ in gateway.sent] == ["收到"]
    assert (await _row(runtime, "survey")).due_at == datetime(2026, 12, 2, 0, tzinfo=UTC)
    clock.now = datetime(2026, 12, 2, 0, 1, tzinfo=UTC)  # 08:01
    assert await runtime.outbox.run_once() == 1
    assert [text for _, text, _ in gateway.sent] == ["收到", "请评价"]


async def test_outcomes_keep_the_platform_ids_and_a_retry_sends_only_the_rest(
    runtime: Runtime, bound_chat: Chat, clock: FakeClock
) -> None:
    partial = DeliveryError("flood", retry_after=3, delivered=Delivered(1, ["tg-1"]))
    gateway = RecordingGateway(failures=[partial])
    runtime.services.gateways["console"] = gateway
    await _queue(runtime, bound_chat, "two", clock, "reply", "第一条", "第二条")
    assert await runtime.outbox.run_once() == 0
    clock.advance(seconds=4)
    assert await runtime.outbox.run_once() == 1
    assert [text for _, text, _ in gateway.sent] == ["第二条"]
    row = await _row(runtime, "two")
    assert row.status == "sent" and row.message_ids == ["tg-1", "msg-1"]


async def test_a_message_that_keeps_failing_is_dead_with_its_reason_for_staff(
    runtime: Runtime, bound_chat: Chat, clock: FakeClock
) -> None:
    gateway = RecordingGateway(failures=[DeliveryError("telegram: bad gateway")] * 6)
    runtime.services.gateways["console"] = gateway
    await _queue(runtime, bound_chat, "doomed", clock, "ticket_update", "更新")
    for _ in range(6):
        assert await runtime.outbox.run_once() == 0
        clock.advance(hours=2)
    row = await _row(runtime, "doomed")
    assert row.status == "dead" and row.last_error == "telegram: bad gateway"
    async with runtime.uow() as uow:
        [dead] = await uow.outbox.given_up()
        counts = await uow.outbox.status_counts(clock())
    assert (dead.status, dead.reason, dead.purpose) == (
        "dead",
        "telegram: bad gateway",
        "ticket_update",
    )
    assert [(c.channel, c.purpose, c.state, c.count) for c in counts] == [
        ("console", "ticket_update", "dead", 1)
    ]


async def test_an_owner_who_blocked_the_bot_is_dropped(
    runtime: Runtime, bound_chat: Chat, clock: FakeClock
) -> None:
    gateway = RecordingGateway(failures=[DeliveryError("forbidden", permanent=True)])
    runtime.services.gateways["console"] = gateway
    await _queue(runtime, bound_chat, "gone", clock, "survey", "请评价")
    assert await runtime.outbox.run_once() == 0
    assert (await _row(runtime, "gone")).status == "dropped"


class SlowGateway(RecordingGateway):
    """Holds each send until released: a send waiting for the pacer, or a slow platform."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def send(
        self, user_id: str, replies: Sequence[Reply], *, lang: str, push: Push | None = None
    ) -> list[str]:
        self.entered.set()
        await self.release.wait()
        return await super().send(user_id, replies, lang=lang, push=push)


async def test_the_lease_is_renewed_while_a_message_is_being_sent(
    runtime: Runtime, bound_chat: Chat, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_module, "RENEW_EVERY_SECONDS", 0.05)
    gateway = SlowGateway()
    runtime.services.gateways["console"] = gateway
    await _queue(runtime, bound_chat, "slow", clock, "reply", "慢")
    await runtime.outbox.start()
    try:
        runtime.outbox.wake()
        await asyncio.wait_for(gateway.entered.wait(), 5)
        first = (await _row(runtime, "slow")).claimed_until
        assert first == clock() + outbox_module.LEASE
        clock.advance(seconds=8)
        for _ in range(100):
            if (await _row(runtime, "slow")).claimed_until == clock() + outbox_module.LEASE:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("lease not renewed")
        gateway.release.set()
        for _ in range(100):
            if (await _row(runtime, "slow")).status == "sent":
                break
            await asyncio.sleep(0.02)
    finally:
        gateway.release.set()
        await runtime.outbox.stop()
    row = await _row(runtime, "slow")
    assert row.status == "sent" and row.claimed_until is None
    assert row.sent_at is not None and row.sent_at > clock() - timedelta(seconds=1)


def _message(chat: Chat, key: str, text: str) -> IncomingMessage:
    return IncomingMessage(
        channel=chat.channel, user_id=chat.user_id, update_key=key, kind=MessageKind.TEXT, text=text
    )


async def test_a_reply_sent_at_once_is_taken_over_after_its_lease_when_its_sender_dies(
    runtime: Runtime,
    bound_chat: Chat,
    clock: FakeClock,
    database_url: str,
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While the worker runs, a reply's row is claimed for it in the transaction that decides
    the reply and sent at once; a process that dies while sending leaves it leased, and
    another worker sends it once the lease ran out."""
    monkeypatch.setattr(outbox_module, "STOP_GRACE_SECONDS", 0.05)
    stuck = SlowGateway()
    runtime.services.gateways["console"] = stuck
    await runtime.outbox.start()
    try:
        msg = _message(bound_chat, "direct-1", "菜单")
        await runtime.engine.record(msg)
        answer = await runtime.engine.process(msg)
        await asyncio.wait_for(stuck.entered.wait(), 5)
        row = await _row(runtime, "reply:console:direct-1")
        assert row.status == "pending" and row.attempts == 1
        assert row.claimed_by == runtime.outbox.worker_id
        assert row.claimed_until == clock() + outbox_module.LEASE
    finally:
        await runtime.outbox.stop()  # the send never finished: as after a kill -9
    other = build_runtime(make_settings(database_url=database_url), clock=clock)
    gateway = RecordingGateway()
    other.services.gateways["console"] = gateway
    try:
        assert await other.outbox.run_once() == 0  # still leased
        clock.advance(seconds=outbox_module.LEASE.total_seconds() + 1)
        assert await other.outbox.run_once() == 1
    finally:
        await other.close()
    assert [text for _, text, _ in gateway.sent] == [reply.text for reply in answer.replies]
    assert (await _row(runtime, "reply:console:direct-1")).status == "sent"


async def test_a_reply_waits_behind_an_earlier_message_still_open_for_the_owner(
    runtime: Runtime, bound_chat: Chat, clock: FakeClock
) -> None:
    gateway = RecordingGateway(failures=[DeliveryError("429", retry_after=5)])
    runtime.services.gateways["console"] = gateway
    await _queue(runtime, bound_chat, "earlier", clock, "ticket_update", "一")
    assert await runtime.outbox.run_once() == 0  # retrying in 5 s
    await runtime.outbox.start()
    try:
        msg = _message(bound_chat, "behind-1", "菜单")
        await runtime.engine.record(msg)
        answer = await runtime.engine.process(msg)
        row = await _row(runtime, "reply:console:behind-1")
        assert row.claimed_by is None and row.attempts == 0  # not taken past "一"
    finally:
        await runtime.outbox.stop()
    assert gateway.sent == []
    clock.advance(seconds=6)
    assert await runtime.outbox.run_once() == 2
    texts = [text for _, text, _ in gateway.sent]
    assert texts == ["一", *(reply.text for reply in answer.replies)]


async def test_rows_waiting_for_room_go_before_new_replies_sent_at_once(
    runtime: Runtime, bound_chat: Chat, clock: FakeClock
) -> None:
    """A full worker claims queued rows in batches; meanwhile new replies are not claimed for
    it at once (they would take every freed place and keep the queued rows waiting)."""
    stuck = SlowGateway()
    runtime.services.gateways["console"] = stuck
    outbox = runtime.outbox
    outbox._max_in_flight = 8  # a claim then waits for 2 free places
    await outbox.start()
    try:
        for number in range(7):  # each owner's reply is claimed at once and hangs
            msg = _message(Chat(runtime, f"full-{number}"), f"full-{number}", "帮助")
            await runtime.engine.record(msg)
            await runtime.engine.process(msg)
        await _queue(runtime, bound_chat, "queued-push", clock, "ticket_update", "排队")
        outbox.wake()
        for _ in range(100):
            if outbox.lease_now(clock()) is None:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the worker did not put its claim off for room")
        late = _message(Chat(runtime, "late"), "late-1", "帮助")
        await runtime.engine.record(late)
        await runtime.engine.process(late)
        assert (await _row(runtime, "reply:console:late-1")).claimed_by is None
        stuck.release.set()
        for _ in range(250):
            if (await _row(runtime, "queued-push")).status == "sent":
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the queued row was not sent once there was room")
    finally:
        stuck.release.set()
        await outbox.stop()
