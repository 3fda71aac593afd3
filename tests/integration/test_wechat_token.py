"""The shared access_token in its real stores: a database row (SQLite and PostgreSQL) and
Redis. Each `AccessTokens` below stands for one process; they share only the store.

Redis is required like PostgreSQL: a missing `redis-server` fails these tests, never skips them.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from bot.app.bootstrap import Runtime
from bot.channels.wechat.token import AccessTokens, RedisTokenStore, TokenStore
from bot.domain.access_token import LEASE_SECONDS
from bot.storage.wechat_tokens import DatabaseTokenStore
from tests.support import FakeClock

APP_ID = "wx0123456789abcdef"


class CountingFetch:
    def __init__(self) -> None:
        self.calls = 0
        self._serial = itertools.count(1)

    async def __call__(self) -> tuple[str, int]:
        self.calls += 1
        await asyncio.sleep(0.05)
        return f"T{next(self._serial)}", 7200


@pytest.fixture(scope="module")
def redis_port() -> Iterator[int]:
    """A throwaway redis-server on loopback (nothing persisted)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise
            time.sleep(0.05)
    yield port
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
async def redis(redis_port: int) -> AsyncIterator[Redis]:
    client = Redis(host="127.0.0.1", port=redis_port)
    await client.flushall()
    yield client
    await client.aclose()


async def test_processes_sharing_the_database_fetch_once(
    runtime: Runtime, clock: FakeClock
) -> None:
    fetch = CountingFetch()
    processes = [
        AccessTokens(DatabaseTokenStore(runtime.uow, APP_ID), fetch, clock) for _ in range(5)
    ]
    tokens = await asyncio.gather(*(p.get() for p in processes))
    assert set(tokens) == {"T1"}
    assert fetch.calls == 1
    replaced = await asyncio.gather(*(p.replace("T1") for p in processes))
    assert set(replaced) == {"T2"}
    assert fetch.calls == 2


async def test_the_database_lease_of_a_crashed_refresher_lapses(
    runtime: Runtime, clock: FakeClock
) -> None:
    store = DatabaseTokenStore(runtime.uow, APP_ID)
    assert await store.try_lease("crashed", clock())
    assert not await store.try_lease("other", clock())
    clock.advance(seconds=LEASE_SECONDS + 1)
    assert await store.try_lease("other", clock())


async def test_processes_sharing_redis_fetch_once(redis: Redis, clock: FakeClock) -> None:
    fetch = CountingFetch()
    processes = [AccessTokens(RedisTokenStore(redis, APP_ID), fetch, clock) for _ in range(5)]
    tokens = await asyncio.gather(*(p.get() for p in processes))
    assert set(tokens) == {"T1"}
    assert fetch.calls == 1
    replaced = await asyncio.gather(*(p.replace("T1") for p in processes))
    assert set(replaced) == {"T2"}
    assert fetch.calls == 2


async def test_a_redis_lease_is_released_only_by_its_owner(redis: Redis, clock: FakeClock) -> None:
    store: TokenStore = RedisTokenStore(redis, APP_ID)
    assert await store.try_lease("a", clock())
    await store.release("b")
    assert not await store.try_lease("b", clock())
    await store.release("a")
    assert await store.try_lease("b", clock())


async def test_redis_keeps_the_token_no_longer_than_it_lives(
    redis: Redis, clock: FakeClock
) -> None:
    store = RedisTokenStore(redis, APP_ID)
    tokens = AccessTokens(store, CountingFetch(), clock)
    await tokens.get()
    ttl = await redis.ttl(f"wechat:access_token:{APP_ID}")
    assert timedelta(seconds=ttl) <= timedelta(seconds=7200)
