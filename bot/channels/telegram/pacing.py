"""Our own pacing for Telegram sends: about one message a second per chat, 30 a second overall.

PTB 22 has no per-private-chat limit and lets bursts through, and Telegram answers excess with
429, so every message waits here for a slot first. The buckets use GCRA (a token bucket kept as
one "theoretical arrival time"): a caller *reserves* a slot and sleeps until it, so waiting
callers are served in order without polling. With REDIS_URL the overall bucket lives in Redis
and all instances share it; per-chat buckets stay in process (a chat is nearly always served
by the instance that received its message).
"""

from __future__ import annotations

import logging
import time
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
    overall_rate: float = 30.0
    overall_burst: int = 1

    @classmethod
    def unlimited(cls) -> TelegramLimits:
        """For the benchmark against the fake API, which measures our overhead, not Telegram's."""
        return cls(per_chat_rate=1e9, per_chat_burst=10**6, overall_rate=1e9, overall_burst=10**6)


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


class RedisBucket:
    """One GCRA bucket in Redis; falls back to a local bucket while Redis is unreachable, so a
    Redis outage slows nothing down beyond what this instance alone would do."""

    def __init__(self, redis: Redis, key: str, rate: float, burst: int) -> None:
        self._redis = redis
        self._key = key
        self._interval_us = int(1_000_000 / rate)
        self._burst = burst
        self._script: Any = redis.register_script(_RESERVE_SCRIPT)
        self._fallback = LocalBuckets(rate, burst)
        self._warned_at = 0.0

    async def reserve(self) -> float:
        try:
            wait_us = await self._script(keys=[self._key], args=[self._interval_us, self._burst])
        except (RedisError, OSError) as exc:
            self._warn(exc)
            return self._fallback.reserve(self._key)
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
        clock: Clock = time.monotonic,
    ) -> None:
        self._per_chat = LocalBuckets(limits.per_chat_rate, limits.per_chat_burst, clock)
        self._overall_local = LocalBuckets(limits.overall_rate, limits.overall_burst, clock)
        self._overall_shared = overall
        self._sleep = sleep

    async def wait_turn(self, chat_id: int) -> None:
        await self._pause(self._per_chat.reserve(str(chat_id)))
        if self._overall_shared is not None:
            await self._pause(await self._overall_shared.reserve())
        else:
            await self._pause(self._overall_local.reserve("bot"))

    async def _pause(self, seconds: float) -> None:
        if seconds > 0:
            await self._sleep(seconds)


def shared_bucket(redis_url: str, token: str, limits: TelegramLimits) -> RedisBucket:
    """The bot-wide bucket every instance of this bot shares (keyed by the bot's id)."""
    bot_id = token.partition(":")[0]
    redis = Redis.from_url(redis_url)
    return RedisBucket(redis, f"telegram:rate:{bot_id}", limits.overall_rate, limits.overall_burst)
