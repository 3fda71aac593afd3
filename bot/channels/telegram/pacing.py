"""Our own pacing for Telegram sends: about one message a second per chat, 30 a second overall.

PTB 22 has no per-private-chat limit and lets bursts through, and Telegram answers excess with
429, so every message waits here for a slot first. The buckets use GCRA (a token bucket kept as
one "theoretical arrival time"): a caller *reserves* a slot and sleeps until it, so waiting
callers are served in order without polling. With REDIS_URL the overall bucket and the per-chat
buckets live in Redis and all instances share them.

Telegram counts a strict window (at most 30 in any second), and evenly spaced sends still
arrive bunched (an event-loop stall wakes several sleepers at once), so we pace with a margin:
28 a second, and right before each request a sliding window of the actual send times admits
at most 29 in any second (measured with `bench push` against the enforcing fake).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

#: Reserve a slot in a GCRA bucket atomically, on the Redis server's clock (instances' clocks
#: differ). Returns the wait in microseconds.
_RESERVE_SCRIPT = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
local ttl_ms = math.ceil((next_tat - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', ttl_ms)
local wait = next_tat - burst * interval - now
if wait < 0 then wait = 0 end
return math.floor(wait)
"""


@dataclass(frozen=True)
class TelegramLimits:
    """Sending rates. Defaults follow Telegram's published limits.

    A chat gets a burst of `per_chat_burst` (a reply of two or three messages goes out at once)
    and then one message per `1 / per_chat_rate` seconds; the bot as a whole sends evenly spaced
    at `overall_rate`, never in a burst.
    """

    per_chat_rate: float = 1.0
    per_chat_burst: int = 3
    #: Telegram allows 30; the margin absorbs bunching on the way.
    overall_rate: float = 28.0
    overall_burst: int = 1
    #: At most this many requests leave in any `window_seconds`, counted at the moment they
    #: leave (after the buckets' sleep, which can end late and together).
    window_limit: int = 29
    window_seconds: float = 1.0

    @classmethod
    def unlimited(cls) -> TelegramLimits:
        """For the benchmark against the fake API, which measures our overhead, not Telegram's."""
        return cls(
            per_chat_rate=1e9,
            per_chat_burst=10**6,
            overall_rate=1e9,
            overall_burst=10**6,
            window_limit=10**9,
        )


class LocalBuckets:
    """GCRA buckets in this process, one per key."""

    #: Forget buckets of quiet chats once this many are kept.
    PRUNE_ABOVE = 10_000

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        self._interval = 1.0 / rate
        self._burst = burst
        self._clock = clock
        self._arrival: dict[str, float] = {}

    def reserve(self, key: str) -> float:
        """Take the next slot; returns how long to wait for it (0 when it is free now)."""
        now = self._clock()
        arrival = max(self._arrival.get(key, now), now) + self._interval
        self._arrival[key] = arrival
        if len(self._arrival) > self.PRUNE_ABOVE:
            self._arrival = {k: t for k, t in self._arrival.items() if t > now}
        return max(0.0, arrival - self._burst * self._interval - now)


class SlidingWindow:
    """At most `limit` admissions in any `seconds`, by the times they were admitted."""

    def __init__(self, limit: int, seconds: float, clock: Clock = time.monotonic) -> None:
        self._limit = limit
        self._seconds = seconds
        self._clock = clock
        self._admitted: deque[float] = deque()

    def admit(self) -> float:
        """Admit now and return 0, or return how long to wait before asking again."""
        now = self._clock()
        while self._admitted and self._admitted[0] <= now - self._seconds:
            self._admitted.popleft()
        if len(self._admitted) < self._limit:
            self._admitted.append(now)
            return 0.0
        return self._admitted[0] + self._seconds - now


class RedisBucket:
    """GCRA buckets in Redis under one key prefix; falls back to local buckets while Redis is
    unreachable, so a Redis outage slows nothing down beyond what this instance alone would
    do."""

    def __init__(self, redis: Redis, key: str, rate: float, burst: int) -> None:
        self._redis = redis
        self._key = key
        self._interval_us = int(1_000_000 / rate)
        self._burst = burst
        self._script: Any = redis.register_script(_RESERVE_SCRIPT)
        self._fallback = LocalBuckets(rate, burst)
        self._warned_at = 0.0

    async def reserve(self, suffix: str = "") -> float:
        """Take the next slot of the bucket `suffix` names (a chat), or of the one bucket."""
        key = f"{self._key}:{suffix}" if suffix else self._key
        try:
            wait_us = await self._script(keys=[key], args=[self._interval_us, self._burst])
        except (RedisError, OSError) as exc:
            self._warn(exc)
            return self._fallback.reserve(key)
        return int(wait_us) / 1_000_000

    async def close(self) -> None:
        await self._redis.aclose()

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at > 60:
            log.warning("Redis rate bucket unavailable, pacing this instance alone: %s", exc)
            self._warned_at = now


class Pacer:
    """Waits until a message to a chat may go out under both limits."""

    def __init__(
        self,
        limits: TelegramLimits,
        sleep: Sleep,
        *,
        overall: RedisBucket | None = None,
        per_chat: RedisBucket | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        """`overall` and `per_chat`: buckets shared through Redis with other instances."""
        self._per_chat = LocalBuckets(limits.per_chat_rate, limits.per_chat_burst, clock)
        self._overall_local = LocalBuckets(limits.overall_rate, limits.overall_burst, clock)
        self._overall_shared = overall
        self._per_chat_shared = per_chat
        self._window = SlidingWindow(limits.window_limit, limits.window_seconds, clock)
        self._sleep = sleep

    async def wait_turn(self, chat_id: int) -> None:
        if self._per_chat_shared is not None:
            await self._pause(await self._per_chat_shared.reserve(str(chat_id)))
        else:
            await self._pause(self._per_chat.reserve(str(chat_id)))
        if self._overall_shared is not None:
            await self._pause(await self._overall_shared.reserve())
        else:
            await self._pause(self._overall_local.reserve("bot"))
        while (wait := self._window.admit()) > 0:
            await self._sleep(wait)

    async def _pause(self, seconds: float) -> None:
        if seconds > 0:
            await self._sleep(seconds)


def shared_bucket(redis_url: str, token: str, limits: TelegramLimits) -> RedisBucket:
    """The bot-wide bucket every instance of this bot shares (keyed by the bot's id)."""
    bot_id = token.partition(":")[0]
    redis = Redis.from_url(redis_url)
    return RedisBucket(redis, f"telegram:rate:{bot_id}", limits.overall_rate, limits.overall_burst)


def shared_chat_buckets(redis_url: str, token: str, limits: TelegramLimits) -> RedisBucket:
    """The per-chat buckets every instance shares: a chat may be answered by one instance and
    pushed to by another at the same moment."""
    bot_id = token.partition(":")[0]
    redis = Redis.from_url(redis_url)
    return RedisBucket(
        redis, f"telegram:chat:{bot_id}", limits.per_chat_rate, limits.per_chat_burst
    )
