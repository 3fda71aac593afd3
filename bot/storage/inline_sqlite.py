"""aiosqlite's connection, run on the event loop's own thread instead of a thread of its own.

aiosqlite sends every call (cursor, execute, fetch, close, commit) to a worker thread and back:
about 66 hand-offs for one WeChat callback (13 statements and 3 commits). A statement takes
microseconds; a hand-off costs a GIL switch and, on a busy machine, a wait for the scheduler to
run the other thread, so callbacks spent more time handing off than querying (profiled with
`bench wechat`: ~24 ms of CPU per callback, most of it in the hand-offs).

Run inline, a call must never wait for a lock inside SQLite, or the whole event loop would
wait with it (and the transaction holding the lock, in this same loop, could never finish).
So the connection's busy timeout is 0 and a locked database is retried here, asynchronously,
with SQLite's own back-off, until `busy_timeout` has passed: other tasks run meanwhile.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import time
from collections.abc import Callable, Generator
from typing import Any

import aiosqlite

#: SQLite's own busy handler's delays (sqliteDefaultBusyCallback), in seconds; the last repeats.
BACKOFF = (0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.025, 0.025, 0.05, 0.05, 0.1)
#: Worth waiting for: another connection holds the lock, or is recovering the WAL index.
#: BUSY_SNAPSHOT is not: the transaction itself must start again.
_RETRYABLE = frozenset({sqlite3.SQLITE_BUSY, getattr(sqlite3, "SQLITE_BUSY_RECOVERY", 261)})


class InlineConnection(aiosqlite.Connection):
    """Same API as `aiosqlite.Connection` (what SQLAlchemy's aiosqlite dialect drives)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], busy_timeout: float) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._busy_timeout = busy_timeout

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        """Connect; unlike aiosqlite's, starts no worker thread."""
        return self._connect().__await__()

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = await self._execute(self._connector)
        return self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running:
            raise ValueError("Connection closed")
        deadline: float | None = None
        for attempt in itertools.count():
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorcode", None) not in _RETRYABLE:
                    raise
                now = time.monotonic()
                deadline = deadline if deadline is not None else now + self._busy_timeout
                if now >= deadline:
                    raise
            await asyncio.sleep(BACKOFF[min(attempt, len(BACKOFF) - 1)])
        raise AssertionError("itertools.count() ended")

    def stop(self) -> asyncio.Future[Any] | None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        return None

    async def close(self) -> None:
        self.stop()


def inline_connect(database: str, busy_timeout: float) -> Callable[[], Any]:
    """SQLAlchemy's `async_creator`: a new inline connection to `database`."""

    async def create() -> InlineConnection:
        def connector() -> sqlite3.Connection:
            # timeout=0: SQLite's busy handler would sleep in this very thread.
            return sqlite3.connect(database, timeout=0, check_same_thread=False)

        return await InlineConnection(connector, busy_timeout)

    return create
