"""Several instances start at once on one PostgreSQL (a rolling deploy, `docker compose up
--scale bot=2`): one migrates, under a lock, while the others wait and then find nothing to do."""

from __future__ import annotations

import asyncio

from bot.storage.db import create_engine
from bot.storage.migrate import migrations_current, upgrade


async def test_three_instances_migrating_at_once_all_start(empty_postgres: str) -> None:
    engines = [create_engine(empty_postgres) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(engine) for engine in engines))
        assert all([await migrations_current(engine) for engine in engines])
    finally:
        for engine in engines:
            await engine.dispose()
