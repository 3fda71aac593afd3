"""Fixtures: every test gets its own database — a temporary SQLite file, or a fresh schema in
the PostgreSQL server at 127.0.0.1:5432 (dropped afterwards) — migrated with Alembic.

PostgreSQL is required: when it is unreachable the tests that use it fail, they never skip.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from bot.app.bootstrap import Runtime, build_runtime
from bot.app.demo_data import seed_demo_roster
from bot.channels.console import ConsoleChannel
from bot.faq import FaqMatcher
from bot.settings import PROJECT_ROOT, Settings, load_settings
from bot.storage.db import create_engine
from bot.storage.migrate import upgrade
from bot.storage.models import Base
from tests.support import Chat, FakeClock

POSTGRES_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgres"]


def _guard_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """No stray network: only loopback connections are allowed in tests."""
    original = socket.socket.connect

    def connect(self: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and not str(host).startswith(("127.", "::1", "localhost")):
            raise ConnectionRefusedError(f"tests may only connect to loopback, not {host}")
        original(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    _guard_network(monkeypatch)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _async_url(database: str) -> str:
    base = POSTGRES_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{database}"


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Migrate once per test session (per xdist worker): a SQLite file each test copies, and a
    PostgreSQL database of this session's own, dropped at the end."""
    sqlite_file = tmp_path_factory.mktemp("template") / "template.db"
    pg_name = f"bot_template_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        await _migrate(f"sqlite+aiosqlite:///{sqlite_file}")
        admin = await asyncpg.connect(POSTGRES_DSN)
        try:
            await admin.execute(f'CREATE DATABASE "{pg_name}"')
            # Tests need no durability across a power cut; commits then skip the fsync wait.
            await admin.execute(f'ALTER DATABASE "{pg_name}" SET synchronous_commit = off')
        finally:
            await admin.close()
        await _migrate(_async_url(pg_name))

    async def drop() -> None:
        admin = await asyncpg.connect(POSTGRES_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(create())
    try:
        yield {"sqlite": str(sqlite_file), "postgres": pg_name}
    finally:
        asyncio.run(drop())


@pytest.fixture
async def database_url(
    backend: str, tmp_path: Path, migrated_templates: dict[str, str]
) -> AsyncIterator[str]:
    """SQLite: a copy of the migrated file. PostgreSQL: this session's own database, emptied
    before each test (DELETE on these small tables takes milliseconds; CREATE DATABASE or
    TRUNCATE take half a second each). Ids keep counting, so tests never rely on them."""
    if backend == "sqlite":
        target = tmp_path / "bot.db"
        shutil.copyfile(migrated_templates["sqlite"], target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    await empty_database(migrated_templates["postgres"])
    yield _async_url(migrated_templates["postgres"])


async def empty_database(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES_DSN.rsplit("/", 1)[0] + "/" + name)
    try:
        tables = reversed(Base.metadata.sorted_tables)
        await connection.execute("; ".join(f'DELETE FROM "{table.name}"' for table in tables))
    finally:
        await connection.close()


@pytest.fixture
def postgres_url(migrated_templates: dict[str, str]) -> str:
    """This session's PostgreSQL database, emptied, for a server on a loop of its own."""
    asyncio.run(empty_database(migrated_templates["postgres"]))
    return _async_url(migrated_templates["postgres"])


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    """A database of its own on the shared server, empty (not migrated), dropped afterwards:
    for what starts from nothing (instances migrating at once, processes sharing it)."""
    name = f"bot_empty_{uuid.uuid4().hex[:12]}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(POSTGRES_DSN)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    yield _async_url(name)
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def faq_matcher() -> FaqMatcher:
    return FaqMatcher.from_config(PROJECT_ROOT / "config")


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "media_dir": tmp_path / "media",
            "config_dir": PROJECT_ROOT / "config",
            "telegram_token": None,
            "wechat_app_id": None,
            "redis_url": None,
        }
        values.update(overrides)
        return load_settings(**values)

    return make


@pytest.fixture
async def runtime(
    database_url: str,
    make_settings: Callable[..., Settings],
    clock: FakeClock,
    faq_matcher: FaqMatcher,
) -> AsyncIterator[Runtime]:
    runtime = build_runtime(
        make_settings(database_url=database_url), clock=clock, with_channels=False, faq=faq_matcher
    )
    console = ConsoleChannel()
    runtime.services.gateways[console.name] = console
    try:
        yield runtime
    finally:
        await runtime.close()


@pytest.fixture
async def demo_codes(runtime: Runtime, clock: FakeClock) -> dict[str, str]:
    """The sample roster imported; owner name → a demo invite code of one of their homes."""
    codes = await seed_demo_roster(runtime, clock())
    return {label.split(" – ")[0]: code for code, label in reversed(codes)}


@pytest.fixture
def chat(runtime: Runtime) -> Chat:
    return Chat(runtime)


@pytest.fixture
def new_chat(runtime: Runtime) -> Iterator[Callable[..., Chat]]:
    def make(user_id: str, **options: object) -> Chat:
        return Chat(runtime, user_id=user_id, **options)  # type: ignore[arg-type]

    yield make


@pytest.fixture
async def bound_chat(chat: Chat, demo_codes: dict[str, str]) -> Chat:
    """张伟, owner of two homes, bound through his invite code."""
    await chat.say(f"绑定 {demo_codes['张伟']}")
    assert "绑定成功" in chat.text
    return chat
