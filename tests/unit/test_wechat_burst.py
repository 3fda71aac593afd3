"""The WeChat channel under a burst: callbacks recorded together, and the replies left for
after it taking their turns only when no callback waits for its answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from bot.channels.wechat.channel import FIRST_ESTIMATE_SECONDS, Backlog, GroupRecorder
from bot.engine.ports import EngineUnavailable, Recorded
from bot.engine.types import IncomingMessage, MessageKind


def message(n: int) -> IncomingMessage:
    return IncomingMessage("wechat", f"owner-{n}", f"msg:{n}", MessageKind.TEXT, text="帮助")


class BatchingEngine:
    """`record_batch` as the engine has it, with each call's messages kept; `fail` raises
    from the next call."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.fail: Exception | None = None
        self.seen: set[str] = set()

    async def record_batch(self, msgs: Sequence[IncomingMessage]) -> list[Recorded]:
        await asyncio.sleep(0)  # a transaction: others arrive meanwhile
        if self.fail is not None:
            raise self.fail
        self.batches.append([msg.update_key for msg in msgs])
        recorded = []
        for msg in msgs:  # a repeat within the batch is a duplicate too
            recorded.append(Recorded(duplicate=msg.update_key in self.seen))
            self.seen.add(msg.update_key)
        return recorded


async def test_callbacks_arriving_together_are_recorded_in_one_transaction() -> None:
    engine = BatchingEngine()
    recorder = GroupRecorder(engine)  # type: ignore[arg-type]
    first = recorder.record(message(0))
    await asyncio.sleep(0)  # its transaction has started
    rest = [recorder.record(message(n)) for n in (1, 2, 3, 1)]
    results = await asyncio.gather(first, *rest)
    assert engine.batches == [["msg:0"], ["msg:1", "msg:2", "msg:3", "msg:1"]]
    assert [r.duplicate if r else None for r in results] == [False, False, False, False, True]


async def test_a_database_outage_answers_every_callback_of_the_batch_none() -> None:
    engine = BatchingEngine()
    engine.fail = EngineUnavailable("down")
    recorder = GroupRecorder(engine)  # type: ignore[arg-type]
    results = await asyncio.gather(*(recorder.record(message(n)) for n in range(3)))
    assert results == [None, None, None]
    engine.fail = None
    assert await recorder.record(message(9)) == Recorded(duplicate=False)


async def test_any_other_failure_reaches_every_callback_of_the_batch() -> None:
    engine = BatchingEngine()
    engine.fail = RuntimeError("a bug")
    recorder = GroupRecorder(engine)  # type: ignore[arg-type]
    for recorded in [recorder.record(message(n)) for n in range(2)]:
        with pytest.raises(RuntimeError):
            await recorded


async def test_the_wait_counts_the_other_callbacks_in_flight() -> None:
    backlog = Backlog(slots=4, window=60.0)
    with backlog.callback(), backlog.callback(), backlog.callback():
        assert backlog.expected_wait() == pytest.approx(2 * FIRST_ESTIMATE_SECONDS)


async def test_the_wait_counts_callbacks_arrived_within_the_window_though_answered() -> None:
    """A wave's last callbacks find the others answered, but more are on their way."""
    backlog = Backlog(slots=4, window=60.0)
    for _ in range(5):
        with backlog.callback():
            pass
    with backlog.callback():
        assert backlog.expected_wait() == pytest.approx(5 * FIRST_ESTIMATE_SECONDS)


async def test_deferred_replies_wait_until_no_callback_is_in_flight_then_go_in_order() -> None:
    backlog = Backlog(slots=4, window=60.0)
    far = time.monotonic() + 3600
    handled: list[int] = []

    async def deferred(n: int) -> None:
        async with backlog.deferred_turn(far):
            handled.append(n)

    with backlog.callback():
        tasks = [asyncio.create_task(deferred(n)) for n in range(3)]
        for _ in range(5):
            await asyncio.sleep(0)
        assert handled == []
    await asyncio.gather(*tasks)
    assert handled == [0, 1, 2]
