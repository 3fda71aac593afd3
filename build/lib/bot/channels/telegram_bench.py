"""`python -m bot bench telegram`: our Telegram bot against a bare PTB echo bot, end to end.

Both poll the same fake Bot API over loopback HTTP. Simulated owners each send a message, wait
for the bot's answer, and send the next (closed loop); we report updates per second and the
latency from the update being offered by getUpdates until its last reply arrived.

Our bot persists everything (inbox row, account, conversation state) on SQLite and PostgreSQL
and runs the real engine and flows; the pacing limits are lifted, because the benchmark
measures our overhead, not Telegram's rate limits (at those, a bot sends 30 messages/s).

The fake Bot API is the one the tests use (`tests/fakes/telegram_api.py`); the benchmark
imports it from the checkout rather than keeping a second copy that could drift from it, so it
needs the `tests/` directory (present in any checkout; not in an installed wheel).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from bot.channels.telegram import NO_DELAY, TelegramChannel
from bot.channels.telegram_pacing import TelegramLimits
from bot.settings import PROJECT_ROOT, load_settings

if TYPE_CHECKING:
    from tests.fakes.telegram_api import FakeTelegram

MESSAGE = "/help"
DEFAULT_POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
QUIET_SECONDS = 1.0


@dataclass(frozen=True)
class Figures:
    name: str
    updates: int
    seconds: float
    latencies: list[float]
    replies_per_update: int

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[q - 1] * 1000


@dataclass(frozen=True)
class Load:
    users: int
    per_user: int


def add_bench(bench_subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = bench_subparsers.add_parser(
        "telegram", help="our Telegram bot vs a bare PTB echo bot, through a fake Bot API"
    )
    parser.add_argument("--users", type=int, default=50, help="concurrent owners (%(default)s)")
    parser.add_argument("--messages", type=int, default=20, help="per owner (%(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="best of N per bot (%(default)s)")
    parser.add_argument(
        "--postgres-dsn",
        default=os.environ.get("BENCH_POSTGRES_DSN", DEFAULT_POSTGRES_DSN),
        help="server for a throw-away database (default: BENCH_POSTGRES_DSN or %(default)s)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Each bot runs `rounds` times, interleaved with the others, and its best round counts:
    on a shared machine the best round is the one least disturbed by other work."""
    logging.basicConfig(level=logging.WARNING)
    load = Load(args.users, args.messages)
    bots: list[Callable[[], Figures]] = [
        lambda: measure_echo(load, tuned=False),
        lambda: measure_echo(load, tuned=True),
        lambda: asyncio.run(measure_ours(load, "ours, SQLite", sqlite_database)),
        lambda: asyncio.run(
            measure_ours(load, "ours, PostgreSQL", postgres_database(args.postgres_dsn))
        ),
    ]
    rounds = [[bot() for bot in bots] for _ in range(args.rounds)]
    best = [max(runs, key=lambda figures: figures.per_second) for runs in zip(*rounds, strict=True)]
    print_table(load, args.rounds, best)
    return 0


# -- the bots --------------------------------------------------------------------------------


def measure_echo(load: Load, *, tuned: bool) -> Figures:
    """PTB's way: an Application with one MessageHandler, run_polling. Stock, or `tuned` as a
    fair rival: updates handled concurrently and TCP_NODELAY like our adapter."""
    name = "PTB echo, concurrent+nodelay" if tuned else "PTB echo, stock"
    fake = fake_api()
    outcome: list[Figures] = []

    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message is not None and update.effective_message.text:
            await update.effective_message.reply_text(update.effective_message.text)

    async def drive_then_stop(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        outcome.append(await asyncio.wrap_future(fake.run(drive(fake, load, name))))
        app.stop_running()

    async def post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        asyncio.get_running_loop().create_task(drive_then_stop(app))

    builder = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(f"{fake.base_url}/bot")
        .base_file_url(f"{fake.base_url}/file/bot")
        .post_init(post_init)
    )
    if tuned:
        builder = (
            builder.concurrent_updates(True)
            .request(HTTPXRequest(socket_options=NO_DELAY))
            .get_updates_request(HTTPXRequest(socket_options=NO_DELAY))
        )
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    # run_polling closes the loop it ran in; each bot gets a fresh one.
    asyncio.set_event_loop(asyncio.new_event_loop())
    try:
        app.run_polling(stop_signals=None)
    finally:
        fake.stop()
    return outcome[0]


DatabaseFactory = Callable[[], Awaitable[tuple[str, Callable[[], Awaitable[None]]]]]


async def measure_ours(load: Load, name: str, database: DatabaseFactory) -> Figures:
    """The real runtime: engine, flows, inbox and state in the database, our polling loop."""
    from bot.bootstrap import build_runtime
    from bot.storage.migrate import upgrade

    fake = fake_api()
    database_url, drop = await database()
    with tempfile.TemporaryDirectory() as media:
        settings = load_settings(
            database_url=database_url,
            media_dir=Path(media),
            telegram_token=fake.token,
            telegram_api_base_url=fake.base_url,
            telegram_webhook_url=None,
            redis_url=None,
        )
        runtime = build_runtime(settings, with_channels=False)
        try:
            await upgrade(runtime.db)
            channel = TelegramChannel(settings, runtime.engine, limits=TelegramLimits.unlimited())
            runtime.services.gateways[channel.name] = channel
            await channel.start()
            figures = await asyncio.wrap_future(fake.run(drive(fake, load, name)))
            await channel.stop()
        finally:
            await runtime.close()
            await drop()
            fake.stop()
    return figures


async def sqlite_database() -> tuple[str, Callable[[], Awaitable[None]]]:
    folder = tempfile.TemporaryDirectory()

    async def drop() -> None:
        folder.cleanup()

    return f"sqlite+aiosqlite:///{folder.name}/bench.db", drop


def postgres_database(dsn: str) -> DatabaseFactory:
    async def create() -> tuple[str, Callable[[], Awaitable[None]]]:
        name = f"bot_bench_{uuid.uuid4().hex[:10]}"
        admin = await asyncpg.connect(dsn)
        await admin.execute(f'CREATE DATABASE "{name}"')

        async def drop() -> None:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()

        base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        return f"{base}/{name}", drop

    return create


# -- the load --------------------------------------------------------------------------------


def fake_api() -> FakeTelegram:
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    from tests.fakes.telegram_api import FakeTelegram

    return FakeTelegram().start()


async def drive(fake: FakeTelegram, load: Load, name: str) -> Figures:
    """Runs in the fake's own loop: owners chat in a closed loop, each waiting for the answer."""
    from tests.fakes.telegram_api import text_update

    await fake.wait_polled()
    replies = await _replies_per_update(fake, text_update)
    latencies: list[float] = []

    async def owner(chat_id: int) -> None:
        for sent in range(1, load.per_user + 1):
            started = time.perf_counter()
            fake.push_update(text_update(chat_id, MESSAGE))
            await fake.wait_sent(chat_id, sent * replies)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(owner(10_000 + n) for n in range(load.users)))
    elapsed = time.perf_counter() - started
    return Figures(name, load.users * load.per_user, elapsed, latencies, replies)


async def _replies_per_update(fake: FakeTelegram, text_update: Callable[..., Any]) -> int:
    """How many messages the bot answers one update with (a warm-up owner finds out)."""
    warm_up = 1
    fake.push_update(text_update(warm_up, MESSAGE))
    await fake.wait_sent(warm_up, 1)
    count = 0
    while count != fake.sent_count(warm_up):
        count = fake.sent_count(warm_up)
        await asyncio.sleep(QUIET_SECONDS)
    return count


def print_table(load: Load, rounds: int, results: list[Figures]) -> None:
    print(
        f"Telegram end to end, polling a fake Bot API on loopback: {load.users} owners x "
        f"{load.per_user} messages ({MESSAGE!r}), closed loop, best of {rounds} rounds, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'bot':<32}{'updates/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'msgs/update':>13}")
    for figures in results:
        print(
            f"{figures.name:<32}{figures.per_second:>10.0f}{figures.percentile(50):>9.1f}"
            f"{figures.percentile(99):>9.1f}{figures.replies_per_update:>13}"
        )
    stock, tuned = results[0].per_second, results[1].per_second
    for figures in results[2:]:
        print(
            f"{figures.name}: {figures.per_second / tuned:.2f} x tuned echo, "
            f"{figures.per_second / stock:.2f} x stock echo"
        )
