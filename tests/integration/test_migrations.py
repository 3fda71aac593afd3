"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from bot.app.bootstrap import Runtime
from bot.storage.migrate import schema_drift


async def test_models_and_migrations_do_not_drift(runtime: Runtime) -> None:
    assert await schema_drift(runtime.db) == []
