"""SQL helpers both backends share."""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlalchemy import Executable, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


async def insert_unless_exists(
    session: AsyncSession, model: type[DeclarativeBase], values: dict[str, Any]
) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: False when a unique key already had a row.

    One statement instead of a savepoint, an insert and a rollback to the savepoint: the hot
    paths (inbox, first contact, outbox keys) run it for every update.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    result = await session.execute(_insert_ignoring(dialect, model), values)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


@functools.cache
def _insert_ignoring(dialect: str, model: type[DeclarativeBase]) -> Executable:
    """Built once per table: the values come as parameters at execution."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table_of(model)).on_conflict_do_nothing()


def table_of(model: type[DeclarativeBase]) -> Table:
    """The Core table of a model, for hot paths that skip the ORM's bookkeeping."""
    return cast(Table, model.__table__)
