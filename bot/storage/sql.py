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
    result = await session.execute(insert_ignoring(dialect_of(session), model), values)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def dialect_of(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


@functools.cache
def insert_ignoring(
    dialect: str, model: type[DeclarativeBase], returning: tuple[str, ...] = ()
) -> Executable:
    """Built once per table: the values come as parameters at execution. With `returning`,
    those columns of the rows inserted come back (given a list of rows, SQLAlchemy sends them
    as one multi-row INSERT)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = table_of(model)
    statement = insert(table).on_conflict_do_nothing()
    return statement.returning(*(table.c[name] for name in returning)) if returning else statement


def table_of(model: type[DeclarativeBase]) -> Table:
    """The Core table of a model, for hot paths that skip the ORM's bookkeeping."""
    return cast(Table, model.__table__)
