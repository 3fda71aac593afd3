"""SQLite on the event loop's thread (bot/storage/inline_sqlite.py): a lock held by another
process is waited for without stopping the loop, and the write then lands."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest

from bot.app.bootstrap import Runtime
from bot.engine.types import IncomingMessage, MessageKind

HOLD_SECONDS = 0.5


@pytest.mark.parametrize("backend", ["sqlite"])  # PostgreSQL locks rows, not the database
async def test_a_write_waits_for_a_lock_held_elsewhere_while_the_loop_runs_on(
    runtime: Runtime, database_url: str
) -> None:
    holder = sqlite3.connect(database_url.split("///", 1)[1])
    holder.execute("BEGIN IMMEDIATE")
    msg = IncomingMessage("console", "owner-1", "locked-1", MessageKind.TEXT, text="帮助")
    recording = asyncio.create_task(runtime.engine.record(msg))
    ticks, started = 0, time.monotonic()
    while time.monotonic() - started < HOLD_SECONDS:  # the loop is free while the write waits
        await asyncio.sleep(0.01)
        ticks += 1
    assert not recording.done()
    holder.rollback()
    holder.close()
    recorded = await asyncio.wait_for(recording, timeout=5)
    assert not recorded.duplicate
    assert ticks >= HOLD_SECONDS / 0.01 / 2
    assert (await runtime.engine.record(msg)).duplicate  # it was written
