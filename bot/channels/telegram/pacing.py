"""Our own pacing for Telegram sends: about one message a second per chat, 30 a second overall.

PTB 22 has no per-private-chat limit and lets bursts through, and Telegram answers excess with
429, so every message waits here for a slot first. The buckets use GCRA (a token bucket kept as
one "theoretical arrival time"): a caller *reserves* a slot and sleeps until it, so waiting
callers are served in order without polling. With REDIS_URL the overall bucket and the per-chat
buckets live in Redis and all instances share them.

Telegram counts a strict window (at most 30 in any second), and evenly spaced sends still
arrive bunched (an event-loop stall wakes several sleepers at once, a busy network delays some
requests more than others). So besides the evenly spacing bucket (29 a second), every request
holds a place in a `SendWindow` from the moment it leaves until a second after its answer:
that bounds what Telegram can count in any second whatever the delays, at the price of
sending a little below 30 a second (30 / (1 s + round trip)). Measured with `bench push`
against the enforcing fake (docs/benchmarks.md). With REDIS_URL that window is shared too
(`RedisWindow`): two instances each keeping their own window of 30 were answered 429 for 3–7 %
of their sends (tests/e2e/test_two_processes.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
#: The longest a send waits for Redis before pacing alone (a reply must not hang on it).
REDIS_TIMEOUT_SECONDS = 1.0
#: While Redis is down, how long the buckets pace alone before asking it again.
REDIS_RETRY_SECONDS = 5.0
#: How often a full `SendWindow` looks again while all its requests are still unanswered.
POLL_OPEN_SECONDS = 0.005

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
    #: Telegram allows 30; even spacing a little below it.
    overall_rate: float = 29.0
    overall_burst: int = 1
    #: At most this many requests in any `window_seconds` as Telegram counts them (`SendWindow`).
    window_limit: int = 30
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


class SendWindow:
    """At most `limit` requests in any `seconds` as Telegram counts them, whatever the delays.

    Telegram counts a request when it arrives, which is some time between our sending it and
    our reading the answer. So a request holds its place here from the moment it leaves until
    `seconds` after its answer came back: any window of `seconds` on Telegram's side then
    holds at most `limit` requests, however a busy network or event loop bunched them (when
    the last request of such a window left, every other one had left and was unanswered or
    answered less than `seconds` before, so all of them held a place). The price: at most
    `limit / (seconds + round trip)` a second.
    """

    def __init__(self, limit: int, seconds: float, clock: Clock = time.monotonic) -> None:
        self._limit = limit
        self._seconds = seconds
        self._clock = clock
        self._open = 0
        self._answered: deque[float] = deque()

    def admit(self) -> bool:
        """Admit a request now (True), or not yet: then `wait()` says how long to wait."""
        now = self._clock()
        while self._answered and self._answered[0] <= now - self._seconds:
            self._answered.popleft()
        if self._open + len(self._answered) < self._limit:
            self._open += 1
            return True
        return False

    def wait(self) -> float:
        if self._answered:
            return max(POLL_OPEN_SECONDS, self._answered[0] + self._seconds - self._clock())
        return POLL_OPEN_SECONDS

    def answered(self) -> None:
        self._open -= 1
        self._answered.append(self._clock())

    async def enter(self, sleep: Sleep) -> None:
        """Wait for a place (the same calls as `RedisWindow`, whose places have ids)."""
        while not self.admit():
            await sleep(self.wait())

    async def leave(self, _place: str | None = None) -> None:
        self.answered()


#: Take a place in the shared send window: places answered more than ARGV[2] ms ago leave it;
#: an open place counts until ARGV[3] ms from now at most (an instance killed mid-send leaves
#: one behind). Returns -1 when admitted, else the milliseconds to wait before asking again.
_WINDOW_ENTER_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[4])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) + window)
  return -1
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
return oldest + window - now
"""
#: The place's request was answered: it leaves the window ARGV[2] ms from now.
_WINDOW_LEAVE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
return 0
"""


class RedisLink:
    """One Redis client for all the buckets of an instance, and whether it is worth asking:
    after a failure the buckets pace alone for REDIS_RETRY_SECONDS before one asks again (a
    hung Redis would otherwise cost every send a timeout), and the pooled connections are
    dropped, so none left over from before an outage fails once more after it. One warning
    when Redis stops answering, one line when it is back."""

    def __init__(self, redis_url: str, clock: Clock = time.monotonic) -> None:
        # Bounded waits: redis-py's default (5 s) made every send wait 10 s while Redis hung.
        self.client = Redis.from_url(
            redis_url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self._clock = clock
        self._down = False
        self._retry_at = 0.0

    def worth_asking(self) -> bool:
        return not self._down or self._clock() >= self._retry_at

    async def failed(self, exc: Exception) -> None:
        if not self._down:
            log.warning(
                "Redis unreachable (REDIS_URL: %s): pacing Telegram sends with this instance's "
                "own buckets until it is back",
                type(exc).__name__,
            )
        self._down = True
        self._retry_at = self._clock() + REDIS_RETRY_SECONDS
        with contextlib.suppress(RedisError, OSError):
            await self.client.connection_pool.disconnect()

    def answered(self) -> None:
        if self._down:
            log.info("Redis reachable again: Telegram pacing is shared through it")
        self._down = False

    async def close(self) -> None:
        await self.client.aclose()


class RedisBucket:
    """GCRA buckets in Redis under one key prefix; falls back to local buckets while Redis is
    unreachable, so a Redis outage slows nothing down beyond what this instance alone would
    do. A hung Redis costs one send REDIS_TIMEOUT_SECONDS, then `RedisLink` keeps the
    buckets local for a while."""

    def __init__(self, link: RedisLink, key: str, rate: float, burst: int) -> None:
        self._link = link
        self._key = key
        self._interval_us = int(1_000_000 / rate)
        self._burst = burst
        self._script: Any = link.client.register_script(_RESERVE_SCRIPT)
        self._fallback = LocalBuckets(rate, burst)

    async def reserve(self, suffix: str = "") -> float:
        """Take the next slot of the bucket `suffix` names (a chat), or of the one bucket."""
        key = f"{self._key}:{suffix}" if suffix else self._key
        if not self._link.worth_asking():
            return self._fallback.reserve(key)
        try:
            wait_us = await self._script(keys=[key], args=[self._interval_us, self._burst])
        except (RedisError, OSError) as exc:
            await self._link.failed(exc)
            return self._fallback.reserve(key)
        self._link.answered()
        return int(wait_us) / 1_000_000


class RedisWindow:
    """The `SendWindow` shared by every instance through Redis, on Redis's clock. Only one
    caller per instance asks Redis at a time (the others queue on a lock), so a full window
    costs one round trip per wait, not one per waiting send. While Redis is unreachable the
    instance keeps a window of its own, as the buckets do."""

    #: The longest an unanswered request holds its place (a killed instance's requests).
    OPEN_PLACE_MS = 30_000
    #: How long to wait before asking again while every place is held by an open request.
    OPEN_RETRY_SECONDS = 0.02

    def __init__(self, link: RedisLink, key: str, limit: int, seconds: float) -> None:
        self._link = link
        self._key = key
        self._limit = limit
        self._window_ms = int(seconds * 1000)
        self._enter: Any = link.client.register_script(_WINDOW_ENTER_SCRIPT)
        self._leave: Any = link.client.register_script(_WINDOW_LEAVE_SCRIPT)
        self._fallback = SendWindow(limit, seconds)
        self._turn = asyncio.Lock()

    async def enter(self, sleep: Sleep) -> str | None:
        """Wait for a place; its id (None: a place in this instance's own window)."""
        async with self._turn:
            while True:
                if not self._link.worth_asking():
                    await self._fallback.enter(sleep)
                    return None
                place = uuid.uuid4().hex
                args = [self._limit, self._window_ms, self.OPEN_PLACE_MS, place]
                try:
                    wait_ms = int(await self._enter(keys=[self._key], args=args))
                except (RedisError, OSError) as exc:
                    await self._link.failed(exc)
                    await self._fallback.enter(sleep)
                    return None
                self._link.answered()
                if wait_ms < 0:
                    return place
                await sleep(min(wait_ms / 1000, self.OPEN_RETRY_SECONDS))

    async def leave(self, place: str | None) -> None:
        if place is None:
            self._fallback.answered()
            return
        try:
            await self._leave(keys=[self._key], args=[place])
        except (RedisError, OSError) as exc:
            await self._link.failed(exc)  # the place leaves by itself after OPEN_PLACE_MS


class Pacer:
    """Waits until a message to a chat may go out under both limits."""

    def __init__(
        self,
        limits: TelegramLimits,
        sleep: Sleep,
        *,
        overall: RedisBucket | None = None,
        per_chat: RedisBucket | None = None,
        window: RedisWindow | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        """`overall`, `per_chat` and `window`: shared through Redis with other instances."""
        self._per_chat = LocalBuckets(limits.per_chat_rate, limits.per_chat_burst, clock)
        self._overall_local = LocalBuckets(limits.overall_rate, limits.overall_burst, clock)
        self._overall_shared = overall
        self._per_chat_shared = per_chat
        self._window: SendWindow | RedisWindow = window or SendWindow(
            limits.window_limit, limits.window_seconds, clock
        )
        self._sleep = sleep

    @asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[None]:
        """Wait until a message to `chat_id` may leave; send it inside the block (its place in
        the send window is held until the answer came back)."""
        if self._per_chat_shared is not None:
            await self._pause(await self._per_chat_shared.reserve(str(chat_id)))
        else:
            await self._pause(self._per_chat.reserve(str(chat_id)))
        if self._overall_shared is not None:
            await self._pause(await self._overall_shared.reserve())
        else:
            await self._pause(self._overall_local.reserve("bot"))
        place = await self._window.enter(self._sleep)
        try:
            yield
        finally:
            await self._window.leave(place)

    async def _pause(self, seconds: float) -> None:
        if seconds > 0:
            await self._sleep(seconds)


def shared_buckets(redis_url: str, token: str, limits: TelegramLimits) -> SharedBuckets:
    """The buckets every instance of this bot shares (keyed by the bot's id): the bot-wide
    one, the per-chat ones (a chat may be answered by one instance and pushed to by another
    at the same moment), and the send window."""
    bot_id = token.partition(":")[0]
    link = RedisLink(redis_url)
    return SharedBuckets(
        link,
        overall=RedisBucket(
            link, f"telegram:rate:{bot_id}", limits.overall_rate, limits.overall_burst
        ),
        per_chat=RedisBucket(
            link, f"telegram:chat:{bot_id}", limits.per_chat_rate, limits.per_chat_burst
        ),
        window=RedisWindow(
            link, f"telegram:window:{bot_id}", limits.window_limit, limits.window_seconds
        ),
    )


@dataclass(frozen=True)
class SharedBuckets:
    link: RedisLink
    overall: RedisBucket
    per_chat: RedisBucket
    window: RedisWindow

    async def close(self) -> None:
        await self.link.close()
