"""Redis lost and back under a polling `python -m bot run` with REDIS_URL: the bot keeps
answering (pacing falls back to this instance's own buckets, with one log line), and shares
its buckets through Redis again once Redis answers (one line more).

Lost two ways: killed (connections refused at once) and frozen with SIGSTOP (a hung server or
a network partition: connections open, nothing answers). A private redis-server on a port of
its own; the shared one of the other tests is never touched.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from redis.asyncio import Redis

from bot.channels.telegram.pacing import REDIS_RETRY_SECONDS
from bot.testing.fake_telegram import FakeTelegram
from tests.e2e.faults import (
    ask_menu,
    bot_process,
    messages_per_menu,
    polling_env,
    replies_per_user,
    wait_for_replies,
)
from tests.fakes.servers import PrivateRedis

BEFORE = range(7301, 7303)
KILLED = range(7311, 7314)
BACK = range(7321, 7323)
FROZEN = range(7331, 7333)
LOST_LINE = "Redis unreachable"
BACK_LINE = "Redis reachable again"
FROZEN_WITHIN = 9.0
SCRIPT_COMMANDS = ("cmdstat_evalsha", "cmdstat_eval")


async def _script_calls(server: PrivateRedis) -> int:
    """How many times the bot ran its bucket script on this server (the keys themselves
    expire as soon as the bucket is full again, within a second)."""
    client = Redis.from_url(server.url)
    try:
        stats = await client.info("commandstats")
    finally:
        await client.aclose()
    return sum(int(stats.get(name, {}).get("calls", 0)) for name in SCRIPT_COMMANDS)


def _lines(log: Path) -> tuple[int, int]:
    """Warnings that Redis was lost, lines that it is back: one each per outage, never one per
    send (a load spike may add a lost-and-back pair, which keeps the balance)."""
    text = log.read_text()
    return text.count(LOST_LINE), text.count(BACK_LINE)


def test_redis_lost_and_back_the_bot_keeps_answering(
    tmp_path: Path, fake: FakeTelegram, redis_server: PrivateRedis
) -> None:
    env = polling_env(tmp_path, fake, REDIS_URL=redis_server.url)
    log = tmp_path / "bot.log"
    with bot_process(env, log):
        per_update = messages_per_menu(fake, BEFORE)
        assert asyncio.run(_script_calls(redis_server)) > 0  # the buckets live in Redis

        redis_server.stop()
        ask_menu(fake, KILLED)
        wait_for_replies(fake, KILLED, per_update, within=30)
        assert _lines(log) == (1, 0)  # one warning for the outage, however many sends

        redis_server.start()  # empty, on the same port
        time.sleep(REDIS_RETRY_SECONDS + 1)  # the instance paces alone until it asks again
        ask_menu(fake, BACK)
        wait_for_replies(fake, BACK, per_update, within=30)
        assert asyncio.run(_script_calls(redis_server)) > 0  # shared through Redis again
        lost, back = _lines(log)
        assert back >= 1 and lost == back  # said when it came back (more only if it blipped)

        pid = redis_server.pid
        os.kill(pid, signal.SIGSTOP)  # hung: connections stay open, nothing answers
        try:
            ask_menu(fake, FROZEN)
            # One send waits out a short Redis timeout, then pacing is local for a while
            # (redis-py's default 5 s for each of the two buckets made it 10 s a message).
            wait_for_replies(fake, FROZEN, per_update, within=FROZEN_WITHIN)
        finally:
            os.kill(pid, signal.SIGCONT)
        lost, back = _lines(log)
        assert lost == back + 1

        got = replies_per_user(fake, [*BEFORE, *KILLED, *BACK, *FROZEN])
        assert set(got.values()) == {per_update}, got
    output = log.read_text()
    assert "Traceback" not in output, output
