"""Database engine creation: one place that knows SQLite from PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from bot.storage.inline_sqlite import inline_connect
from bot.storage.uow import SessionFactory

#: PostgreSQL connections kept open. Every update takes one for its transaction and the outbox
#: some for claims and outcomes; a pool smaller than that opens and closes overflow connections
#: (a server process each) under a burst (`bench wechat --backend postgres`, py-spy).
POOL_SIZE = 20
MAX_OVERFLOW = 10
#: How long a statement waits for another connection's (or process's) lock on SQLite.
BUSY_TIMEOUT_SECONDS = 15.0


def create_engine(database_url: str) -> AsyncEngine:
    """`hide_parameters`: an error's text must not carry an owner's phone or message.

    No `pool_pre_ping`: it costs two round trips (BEGIN, ROLLBACK) on every checkout, a third
    of the statements an update needs. A connection that died while pooled (a database
    restart) fails its first statement instead; SQLAlchemy then discards the whole pool and the
    callers retry (`is_transient`: the engine's and the outbox's database retries)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            async_creator=inline_connect(url.database or ":memory:", BUSY_TIMEOUT_SECONDS),
            hide_parameters=True,
            # Sessions and connections roll back what they leave open when they close; the
            # pool's own rollback on top is one more statement per transaction.
            pool_reset_on_return=None,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        engine = create_async_engine(
            url, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW, hide_parameters=True
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
    cursor.close()


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)
