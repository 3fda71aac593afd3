"""Schema migrations (Alembic), run on a connection of our own async engine so they work from
the CLI, from `run` at start-up and from tests alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.models import Base

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


#: Key of the PostgreSQL advisory lock held while migrating (any constant shared by instances).
MIGRATION_LOCK = 7_246_001


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Instances starting together on one PostgreSQL take turns: the first migrates under a
    transaction-scoped advisory lock, the others wait for its commit and find nothing to do.
    (SQLite serialises writers by itself.)"""

    def run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
            )
        await connection.run_sync(run)


async def schema_drift(engine: AsyncEngine) -> list[Any]:
    """Differences between the models and the migrated database (empty when in step)."""

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        return await connection.run_sync(compare)


async def migrations_current(engine: AsyncEngine) -> bool:
    """Whether the database is at the newest migration (an instance serving an older schema
    than its code, during an upgrade, is not ready)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()

    def current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(current) == head


async def autogenerate(engine: AsyncEngine, message: str) -> None:
    """A new numbered revision (0001, 0002 …) from the difference between models and schema."""
    number = len(list((MIGRATIONS / "versions").glob("[0-9]*.py"))) + 1

    def run(connection: Connection) -> None:
        command.revision(
            alembic_config(connection), message=message, autogenerate=True, rev_id=f"{number:04d}"
        )

    async with engine.begin() as connection:
        await connection.run_sync(run)
