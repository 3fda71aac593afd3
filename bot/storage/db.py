"""Database engine creation: one place that knows SQLite from PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from bot.storage.uow import SessionFactory


def create_engine(database_url: str) -> AsyncEngine:
    """`hide_parameters`: an error's text must not carry an owner's phone or message."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 15}, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        engine = create_async_engine(
            url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True
        )
    event.listen(engine.sync_engine, "do_connect", _connect_or_operational_error)
    return engine


def _connect_or_operational_error(
    dialect: Dialect, _record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> Any:
    """Open a driver connection; a socket error on the way (refused, reset, timed out) becomes
    the driver's OperationalError, which SQLAlchemy wraps as it wraps every database error.

    asyncpg lets those errors out as bare OSErrors, so without this the layers above could
    only guess: they took every OSError for a database outage, and a flow's own file error
    (a photo, a CSV) left the update waiting for a database that was fine."""
    try:
        return dialect.connect(*cargs, **cparams)
    except OSError as exc:
        raise dialect.loaded_dbapi.OperationalError(
            f"cannot connect to the database: {type(exc).__name__}: {exc}"
        ) from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers work beside one writer; foreign keys are off by default in SQLite.

    synchronous=NORMAL is WAL's recommended setting: a commit is not synced to disk by itself
    but at checkpoints, which makes a commit several times cheaper. A crash of the process
    (kill -9) loses nothing committed; only a power loss or OS crash may roll back the last
    commits, and an update rolled back so was also not acknowledged by then in most cases —
    docs/architecture.md discusses it."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)
