"""The access_token cache: one fetch however many callers, refreshed early, replaced once."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from bot.channels.wechat.token import AccessTokens
from bot.domain.access_token import StoredToken
from tests.support import FakeClock


class MemoryStore:
    """The shared store as several processes see it (the TokenStore port, in memory)."""

    def __init__(self) -> None:
        self.token: StoredToken | None = None
        self.lease: tuple[str, datetime] | None = None

    async def load(self) -> StoredToken | None:
        await asyncio.sleep(0)
        return self.token

    async def try_lease(self, owner: str, now: datetime) -> bool:
        await asyncio.sleep(0)
        if self.lease is not None and self.lease[1] > now:
            return False
        self.lease = (owner, now + timedelta(seconds=15))
        return True

    async def save(self, owner: str, token: StoredToken, now: datetime) -> None:
        self.token = token
        await self.release(owner)

    async def release(self, owner: str) -> None:
        if self.lease is not None and self.lease[0] == owner:
            self.lease = None


class CountingFetch:
    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail
        self._serial = itertools.count(1)

    async def __call__(self) -> tuple[str, int]:
        self.calls += 1
        await asyncio.sleep(0.01)  # a real fetch takes a while: others must wait, not fetch
        if self.fail:
            raise ConnectionError("WeChat unreachable")
        return f"T{next(self._serial)}", 7200


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))


async def test_many_processes_asking_at_once_cause_one_fetch(clock: FakeClock) -> None:
    store, fetch = MemoryStore(), CountingFetch()
    processes = [AccessTokens(store, fetch, clock) for _ in range(5)]
    tokens = await asyncio.gather(*(p.get() for p in processes for _ in range(10)))
    assert set(tokens) == {"T1"}
    assert fetch.calls == 1


async def test_a_fresh_token_is_served_from_memory_and_refreshed_five_minutes_early(
    clock: FakeClock,
) -> None:
    fetch = CountingFetch()
    tokens = AccessTokens(MemoryStore(), fetch, clock)
    assert await tokens.get() == "T1"
    clock.advance(seconds=7200 - 301)
    assert await tokens.get() == "T1"
    clock.advance(seconds=2)
    assert await tokens.get() == "T2"
    assert fetch.calls == 2


async def test_a_rejected_token_is_replaced_once_for_all_who_saw_it(clock: FakeClock) -> None:
    store, fetch = MemoryStore(), CountingFetch()
    processes = [AccessTokens(store, fetch, clock) for _ in range(5)]
    stale = await processes[0].get()
    replaced = await asyncio.gather(*(p.replace(stale) for p in processes))
    assert set(replaced) == {"T2"}
    assert fetch.calls == 2


async def test_a_failed_fetch_frees_the_lease_for_the_next_caller(clock: FakeClock) -> None:
    store = MemoryStore()
    with pytest.raises(ConnectionError):
        await AccessTokens(store, CountingFetch(fail=True), clock).get()
    assert store.lease is None
    assert await AccessTokens(store, CountingFetch(), clock).get() == "T1"
