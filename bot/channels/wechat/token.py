"""The WeChat access_token: fetched rarely, shared by every process, refreshed by one at a time.

WeChat allows about 2000 token fetches a day and a new token invalidates the old one within
minutes, so a token fetched per call or per process would lock everyone else out. The token
lives in Redis (when REDIS_URL is set) or in a database row (`bot.storage.wechat_tokens`,
handed in by the composition root); whoever wants a fresh one takes a
short lease, fetches, stores and releases, while the others wait for the stored result.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.domain.access_token import LEASE_SECONDS, StoredToken

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Refresh this long before WeChat's expiry, so no call carries a token that dies in flight.
REFRESH_EARLY = timedelta(minutes=5)
#: How long a caller waits for another process's refresh before giving up (the outbox retries).
WAIT_SECONDS = 20.0
POLL_SECONDS = 0.1


class TokenUnavailable(Exception):
    """No token could be had in time (WeChat unreachable, or a refresh elsewhere hung)."""


class TokenStore(Protocol):
    async def load(self) -> StoredToken | None: ...

    async def try_lease(self, owner: str, now: datetime) -> bool: ...

    async def save(self, owner: str, token: StoredToken, now: datetime) -> None: ...

    async def release(self, owner: str) -> None: ...


class RedisTokenStore:
    """Token and lease as two Redis keys; the lease is `SET NX PX`, released only by its owner."""

    _RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"

    def __init__(self, redis: Redis, app_id: str) -> None:
        self._redis = redis
        self._key = f"wechat:access_token:{app_id}"
        self._lease_key = f"{self._key}:lease"

    async def load(self) -> StoredToken | None:
        raw = await self._redis.get(self._key)
        if raw is None:
            return None
        data = json.loads(raw)
        return StoredToken(data["token"], datetime.fromisoformat(data["expires_at"]))

    async def try_lease(self, owner: str, now: datetime) -> bool:
        lease_ms = int(LEASE_SECONDS * 1000)
        return bool(await self._redis.set(self._lease_key, owner, nx=True, px=lease_ms))

    async def save(self, owner: str, token: StoredToken, now: datetime) -> None:
        value = json.dumps({"token": token.token, "expires_at": token.expires_at.isoformat()})
        ttl = max(int((token.expires_at - now).total_seconds()), 1)
        await self._redis.set(self._key, value, ex=ttl)
        await self.release(owner)

    async def release(self, owner: str) -> None:
        await self._redis.eval(self._RELEASE, 1, self._lease_key, owner)


class FallbackTokenStore:
    """Redis while it answers, the database row while it does not: an unreachable Redis costs
    a warning (once per outage, and at start), never an owner's photo or a push."""

    def __init__(self, redis: Redis, primary: RedisTokenStore, fallback: TokenStore) -> None:
        self._redis = redis
        self._primary = primary
        self._fallback = fallback
        self._down = False

    async def check(self) -> None:
        """At start: say now, not at the first photo, that Redis cannot be reached."""
        await self._first(self._redis.ping, lambda: _nothing())

    async def load(self) -> StoredToken | None:
        return await self._first(self._primary.load, self._fallback.load)

    async def try_lease(self, owner: str, now: datetime) -> bool:
        return await self._first(
            lambda: self._primary.try_lease(owner, now),
            lambda: self._fallback.try_lease(owner, now),
        )

    async def save(self, owner: str, token: StoredToken, now: datetime) -> None:
        await self._first(
            lambda: self._primary.save(owner, token, now),
            lambda: self._fallback.save(owner, token, now),
        )

    async def release(self, owner: str) -> None:
        await self._first(
            lambda: self._primary.release(owner), lambda: self._fallback.release(owner)
        )

    async def _first(
        self, primary: Callable[[], Awaitable[T]], fallback: Callable[[], Awaitable[T]]
    ) -> T:
        try:
            result = await primary()
        except (RedisError, OSError) as exc:
            if not self._down:
                log.warning(
                    "REDIS_URL unreachable (%s): the WeChat access_token is kept in the "
                    "database until Redis is back",
                    type(exc).__name__,
                )
            self._down = True
            return await fallback()
        if self._down:
            log.info("Redis is reachable again: the WeChat access_token is shared through it")
        self._down = False
        return result


async def _nothing() -> None:
    return None


#: Fetches a new token from WeChat: (access_token, expires_in seconds).
TokenFetcher = Callable[[], Awaitable[tuple[str, int]]]


class AccessTokens:
    """The token for API calls: kept in memory while fresh, else read from the shared store,
    else refreshed under the store's lease."""

    def __init__(
        self, store: TokenStore, fetch: TokenFetcher, clock: Callable[[], datetime]
    ) -> None:
        self._store = store
        self._fetch = fetch
        self._clock = clock
        self._current: StoredToken | None = None
        self._lock = asyncio.Lock()
        self._owner = secrets.token_hex(8)

    async def get(self) -> str:
        if self._current is not None and self._fresh(self._current):
            return self._current.token
        return await self._refresh(stale=None)

    async def replace(self, stale: str) -> str:
        """WeChat rejected `stale` (40001/42001): a newer token, refreshed only if nobody has."""
        return await self._refresh(stale=stale)

    async def _refresh(self, stale: str | None) -> str:
        async with self._lock:  # one refresher per process; the lease serialises processes
            deadline = time.monotonic() + WAIT_SECONDS
            while True:
                usable = await self._load_usable(stale)
                if usable is not None:
                    return usable
                if await self._store.try_lease(self._owner, self._clock()):
                    # Someone may have stored a token between our look and our lease.
                    usable = await self._load_usable(stale)
                    if usable is not None:
                        await self._store.release(self._owner)
                        return usable
                    return await self._fetch_and_store()
                if time.monotonic() > deadline:
                    raise TokenUnavailable("another process is refreshing the token")
                await asyncio.sleep(POLL_SECONDS)

    async def _load_usable(self, stale: str | None) -> str | None:
        stored = await self._store.load()
        if stored is None or stored.token == stale or not self._fresh(stored):
            return None
        self._current = stored
        return stored.token

    async def _fetch_and_store(self) -> str:
        try:
            token, expires_in = await self._fetch()
        except BaseException:
            await self._store.release(self._owner)
            raise
        now = self._clock()
        fresh = StoredToken(token, now + timedelta(seconds=expires_in))
        await self._store.save(self._owner, fresh, now)
        self._current = fresh
        return token

    def _fresh(self, token: StoredToken) -> bool:
        return token.expires_at - REFRESH_EARLY > self._clock()
