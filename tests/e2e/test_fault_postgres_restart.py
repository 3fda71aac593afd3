"""PostgreSQL restarted while Telegram updates arrive: nothing is lost, each update is answered
exactly once after the database comes back (the update retried, not dropped or doubled).

A private cluster (initdb, pg_ctl) on a port of its own is stopped and started under a polling
`python -m bot run`; the shared server of the other tests is never touched.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from bot.testing.fake_telegram import FakeTelegram
from tests.e2e.faults import (
    ask_menu,
    bot_process,
    messages_per_menu,
    polling_env,
    replies_per_user,
    wait_for_replies,
)
from tests.fakes.servers import PrivatePostgres

BEFORE = range(7001, 7004)
IN_FLIGHT = range(7101, 7106)
WHILE_DOWN = range(7201, 7211)


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.start()
        asyncio.run(server.create_database("bot"))
        yield server
    finally:
        server.remove()


async def _inbox(server: PrivatePostgres) -> list[tuple[str, str]]:
    connection = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{server.port}/bot")
    try:
        rows = await connection.fetch("SELECT status, channel FROM processed_updates")
        return [(row["status"], row["channel"]) for row in rows]
    finally:
        await connection.close()


def test_updates_arriving_while_postgresql_restarts_are_each_answered_once(
    tmp_path: Path, fake: FakeTelegram, postgres: PrivatePostgres
) -> None:
    env = polling_env(tmp_path, fake, DATABASE_URL=postgres.url("bot"))
    log = tmp_path / "bot.log"
    with bot_process(env, log):
        per_update = messages_per_menu(fake, BEFORE)

        ask_menu(fake, IN_FLIGHT)  # some of these meet the stop half-way
        postgres.stop()
        ask_menu(fake, WHILE_DOWN)
        time.sleep(4)  # the bot meets the outage: recording and delivery fail and wait
        assert not any(replies_per_user(fake, WHILE_DOWN).values())
        postgres.start()

        wait_for_replies(fake, [*IN_FLIGHT, *WHILE_DOWN], per_update, within=120)
        got = replies_per_user(fake, [*IN_FLIGHT, *WHILE_DOWN])
        assert set(got.values()) == {per_update}, got
        inbox = asyncio.run(_inbox(postgres))
        assert len(inbox) == len(BEFORE) + len(IN_FLIGHT) + len(WHILE_DOWN)
        assert {status for status, _ in inbox} == {"done"}
    output = log.read_text()
    assert "database unavailable" in output  # the outage was met, and waited out
    assert "Traceback" not in output, output
    assert "Telegram channel stopped" not in output
