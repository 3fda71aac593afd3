"""`/readyz` tells a load balancer or orchestrator whether this instance can serve: the
database answers and its schema is at the newest migration. `/healthz` stays "alive"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from bot.app.bootstrap import Runtime, build_runtime
from bot.app.http import create_app
from bot.settings import Settings
from tests.support import FakeClock


async def _get(runtime: Runtime, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        return await client.get(path)


async def test_ready_on_a_migrated_database(runtime: Runtime) -> None:
    response = await _get(runtime, "/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "migrations": "current"}


async def test_not_ready_before_migrations(
    make_settings: Callable[..., Settings], clock: FakeClock, tmp_path: Path
) -> None:
    fresh = build_runtime(
        make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"),
        clock=clock,
        with_channels=False,
    )
    try:
        response = await _get(fresh, "/readyz")
        assert response.status_code == 503 and response.json()["migrations"] == "behind"
        await fresh.upgrade_database()
        assert (await _get(fresh, "/readyz")).status_code == 200
    finally:
        await fresh.close()


async def test_not_ready_without_a_database(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> None:
    dead = build_runtime(
        make_settings(database_url="postgresql+asyncpg://bot@127.0.0.1:1/bot"),
        clock=clock,
        with_channels=False,
    )
    try:
        response = await _get(dead, "/readyz")
    finally:
        await dead.close()
    assert response.status_code == 503
    assert response.json()["status"] == "not ready" and response.json()["database"] != "ok"
