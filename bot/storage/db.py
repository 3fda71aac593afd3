"""Database engine creation: one place that knows SQLite from PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from bot.storage.inline_sqlite import inline_connect
from bot.storage.uow import SessionFactory

#: How long a statement waits for another connection's (or process's) lock on SQLite.
BUSY_TIMEOUT_SECONDS = 15.0
#: Connections one process holds to PostgreSQL at most (it was 10 kept + 10 overflow).
POSTGRES_POOL_SIZE = 20


def create_engine(database_url: str) -> AsyncEngine:
    """`hide_parameters`: an error's text must not carry an owner's phone or message."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            async_creator=inline_connect(url.database or ":memory:", BUSY_TIMEOUT_SECONDS),
            hide_parameters=True,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # Every connection is kept: an "overflow" connection is closed when it is returned, so a
    # burst beyond the pool size opened and closed PostgreSQL connections (a backend process
    # forked each time) for every callback (`bench wechat --backend postgres`, py-spy).
    return create_async_engine(
        url, pool_pre_ping=True, pool_size=POSTGRES_POOL_SIZE, max_overflow=0, hide_parameters=True
    )


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
