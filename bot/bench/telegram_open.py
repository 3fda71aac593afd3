"""The open-loop half of `python -m bot bench telegram`: a backlog injected at once.

A closed loop (each owner waits for the answer before writing again) under-drives a fast bot:
the load can never exceed what the slowest owner lets through. Here every update of the backlog
is queued on the fake Bot API at the same instant and the bot drains it as fast as it can, which
is what happens after a push to thousands of owners or a restart behind a queue.

Each bot runs as a process of its own, polling the same kind of fake Bot API: ours is
`python -m bot run` itself (SQLite or PostgreSQL, `TELEGRAM_PACING=off`), the baseline the bare
PTB echo bot of `bot/channels/telegram/echo.py`. That keeps the load generator's work out of the
bot's CPU time, read from /proc (so Linux only). Two loads:

- first contact: N updates from N chats the bot has never seen (an account per update);
- known owners: N updates from M chats that have each written once before (M x N/M).

Per update we report the time from the injection until its answer arrived (p50/p99): in an open
loop that is queueing time, so the p99 is close to the time to drain the whole backlog.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import asyncpg

from bot.bench.profile import sampling
from bot.bench.stats import percentile, process_cpu_seconds
from bot.testing.fake_telegram import FakeTelegram, text_update

MESSAGE = "/help"
START_TIMEOUT = 90.0
DRAIN_TIMEOUT = 600.0
#: Chat ids of the loads; far apart so a run never answers another run's chats.
FIRST_CONTACT_BASE, KNOWN_BASE, MEMORY_BASE, PROBE_CHAT = 1_000_000, 2_000_000, 3_000_000, 999
SETTLE_SECONDS = 3.0
SECONDS_PER_OWNER = 0.3


@dataclass(frozen=True)
class Load:
    name: str
    updates: int
    chats: int
    #: Chats write once before the backlog (known owners) or not at all (first contact).
    warm: bool

    def chat_ids(self) -> list[int]:
        base = KNOWN_BASE if self.warm else FIRST_CONTACT_BASE
        return [base + n for n in range(self.chats)]


@dataclass(frozen=True)
class OpenFigures:
    bot: str
    load: str
    updates: int
    seconds: float
    latencies: list[float]
    cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds

    @property
    def cpu_ms_per_update(self) -> float:
        return self.cpu_seconds / self.updates * 1000


@dataclass(frozen=True)
class BotProcess:
    """How to start one bot against a fake at `base_url` with `token`."""

    name: str
    argv: list[str]
    env: dict[str, str]


def loads(updates: int, known_chats: int) -> list[Load]:
    return [
        Load("first contact", updates, updates, warm=False),
        Load(f"known owners ({known_chats} chats)", updates, known_chats, warm=True),
    ]


def echo_bot(fake: FakeTelegram) -> BotProcess:
    """Stock, as PTB's examples write it: with `concurrent_updates` its one-connection request
    pool times out under a backlog of 1,000 and replies are lost, which flatters nobody."""
    code = (
        "from bot.channels.telegram.echo import serve_forever; "
        f"serve_forever({fake.token!r}, {fake.base_url!r}, tuned=False)"
    )
    return BotProcess("PTB echo (stock)", [sys.executable, "-c", code], {})


def our_bot(
    fake: FakeTelegram,
    *,
    name: str,
    database_url: str,
    folder: Path,
) -> BotProcess:
    """`python -m bot run` itself, configured only through its environment."""
    env = {
        "DATABASE_URL": database_url,
        "MEDIA_DIR": str(folder / "media"),
        "TELEGRAM_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_PACING": "off",
        "BOT_PORT": str(_free_port()),
        "LOG_LEVEL": "ERROR",
    }
    return BotProcess(name, [sys.executable, "-m", "bot", "run"], env)


def measure(
    bot: BotProcess, fake: FakeTelegram, load: Load, profile: Path | None = None
) -> OpenFigures:
    """Start the bot, warm it up, inject the backlog, time the drain, stop the bot; with
    `profile`, py-spy samples the bot during the drain into that file."""
    with _running(bot) as pid:
        _wait_polling(fake)
        per_update = _replies_per_update(fake)
        if load.warm:
            _send_and_wait(fake, [(chat, 1) for chat in load.chat_ids()], per_update)
        sent_before = {chat: fake.sent_count(chat) for chat in load.chat_ids()}
        plan = _backlog(load)
        expected = {chat: sent_before[chat] + plan.count(chat) * per_update for chat in sent_before}
        with sampling(pid, profile) if profile else nullcontext():
            cpu_before = process_cpu_seconds(pid)
            started = time.monotonic()
            for chat in plan:
                fake.push_update(text_update(chat, MESSAGE))
            _wait_for(lambda: all(fake.sent_count(c) >= n for c, n in expected.items()))
            seconds = time.monotonic() - started
            cpu = process_cpu_seconds(pid) - cpu_before
    latencies = _latencies(fake, sent_before, per_update, started)
    return OpenFigures(bot.name, load.name, len(plan), seconds, latencies, cpu)


def _backlog(load: Load) -> list[int]:
    """Chats in the order their updates are queued: round robin, as many owners at once."""
    chats = load.chat_ids()
    return [chats[n % len(chats)] for n in range(load.updates)]


def _latencies(
    fake: FakeTelegram, sent_before: dict[int, int], per_update: int, started: float
) -> list[float]:
    """Each update's answer time: a chat's k-th new answer group answers its k-th update."""
    latencies = []
    for chat, before in sent_before.items():
        answers = fake.sent_to(chat)[before:]
        for last in range(per_update - 1, len(answers), per_update):
            latencies.append(answers[last].at - started)
    return latencies


def _replies_per_update(fake: FakeTelegram) -> int:
    """How many messages the bot answers one update with (a probe chat finds out)."""
    fake.push_update(text_update(PROBE_CHAT, MESSAGE))
    _wait_for(lambda: fake.sent_count(PROBE_CHAT) > 0)
    count = 0
    while count != fake.sent_count(PROBE_CHAT):
        count = fake.sent_count(PROBE_CHAT)
        time.sleep(1.0)
    return count


def _send_and_wait(
    fake: FakeTelegram,
    plan: list[tuple[int, int]],
    per_update: int,
    timeout: float = DRAIN_TIMEOUT,
) -> None:
    before = {chat: fake.sent_count(chat) for chat, _ in plan}
    for chat, times in plan:
        for _ in range(times):
            fake.push_update(text_update(chat, MESSAGE))
    _wait_for(
        lambda: all(fake.sent_count(c) >= before[c] + t * per_update for c, t in plan), timeout
    )


def _wait_polling(fake: FakeTelegram) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not fake.calls_to("getUpdates"):
        if time.monotonic() > deadline:
            raise RuntimeError("the bot did not start polling the fake Bot API")
        time.sleep(0.05)


def _wait_for(condition: Callable[[], bool], timeout: float = DRAIN_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("the backlog was not answered in time")
        time.sleep(0.002)


@contextmanager
def _running(bot: BotProcess) -> Iterator[int]:
    """The bot's own output goes to a file, shown only when it fails to start."""
    env = {**os.environ, **bot.env}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            bot.argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        try:
            yield process.pid
        except RuntimeError:
            log.seek(0)
            sys.stderr.write(log.read()[-4000:].decode(errors="replace"))
            raise
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, as an operator stops it (cProfile writes its file then), else kill."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def sqlite_url() -> Iterator[tuple[str, Path]]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite+aiosqlite:///{folder}/bench.db", Path(folder)


@contextmanager
def postgres_url(dsn: str) -> Iterator[tuple[str, Path]]:
    """A throw-away database on the server of `dsn`, dropped afterwards."""
    name = f"bot_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(dsn, f'CREATE DATABASE "{name}"'))
    base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        with tempfile.TemporaryDirectory() as folder:
            yield f"{base}/{name}", Path(folder)
    finally:
        asyncio.run(_admin(dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def run_open_loop(
    updates: int, known_chats: int, postgres_dsn: str, profile_dir: Path | None = None
) -> list[OpenFigures]:
    """Every bot on every load, each on a fresh fake and a fresh database; with `profile_dir`,
    py-spy's raw stacks of our bot during each drain land there."""
    results = []
    for number, load in enumerate(loads(updates, known_chats)):
        results.append(_on_fresh_fake(load, echo_bot, None))
        databases = [("sqlite", sqlite_url()), ("postgresql", postgres_url(postgres_dsn))]
        for backend, database in databases:
            profile = profile_dir / f"ours-{backend}-{number}.txt" if profile_dir else None
            with database as (url, folder):
                name = "ours, SQLite" if backend == "sqlite" else "ours, PostgreSQL"
                bot = partial(our_bot, name=name, database_url=url, folder=folder)
                results.append(_on_fresh_fake(load, bot, profile))
    return results


def _on_fresh_fake(
    load: Load, bot_for: Callable[[FakeTelegram], BotProcess], profile: Path | None
) -> OpenFigures:
    fake = FakeTelegram().start()
    try:
        return measure(bot_for(fake), fake, load, profile)
    finally:
        fake.stop()


@dataclass(frozen=True)
class MemoryFigures:
    bot: str
    owners: int
    idle_kib: int
    after_kib: int


def run_memory(owners: int, postgres_dsn: str) -> list[MemoryFigures]:
    """Our bot's resident memory once started and idle, and after `owners` new owners have each
    written once and been answered (accounts, conversations, per-chat pacing and locks)."""
    results = []
    for backend, database in (("sqlite", sqlite_url()), ("postgresql", postgres_url(postgres_dsn))):
        with database as (url, folder):
            name = "ours, SQLite" if backend == "sqlite" else "ours, PostgreSQL"
            fake = FakeTelegram().start()
            try:
                bot = our_bot(fake, name=name, database_url=url, folder=folder)
                results.append(_memory(bot, fake, owners))
            finally:
                fake.stop()
    return results


def _memory(bot: BotProcess, fake: FakeTelegram, owners: int) -> MemoryFigures:
    with _running(bot) as pid:
        _wait_polling(fake)
        per_update = _replies_per_update(fake)
        idle = _rss_kib(pid)
        chats = [MEMORY_BASE + n for n in range(owners)]
        # A shared machine may answer only a few owners a second: wait as long as that takes.
        timeout = max(DRAIN_TIMEOUT, owners * SECONDS_PER_OWNER)
        _send_and_wait(fake, [(chat, 1) for chat in chats], per_update, timeout)
        time.sleep(SETTLE_SECONDS)  # outcomes written, buffers released
        return MemoryFigures(bot.name, owners, idle, _rss_kib(pid))


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def print_memory_table(results: list[MemoryFigures]) -> None:
    print("Resident memory (RSS) of `python -m bot run`, polling a fake Bot API")
    print(f"{'bot':<24}{'idle MiB':>10}{'owners':>10}{'after MiB':>11}")
    for figures in results:
        print(
            f"{figures.bot:<24}{figures.idle_kib / 1024:>10.1f}{figures.owners:>10,}"
            f"{figures.after_kib / 1024:>11.1f}"
        )


def print_open_table(results: list[OpenFigures]) -> None:
    print(
        f"Open loop: a backlog of {results[0].updates} updates injected at once on a fake Bot API "
        f"(no rate limits, our pacing off), each bot a process of its own, {os.cpu_count()} CPUs"
    )
    header = f"{'load':<28}{'bot':<24}{'updates/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
    print(header + f"{'CPU ms/upd':>12}{'x echo':>8}")
    echo: dict[str, float] = {}
    for figures in results:
        if figures.bot.startswith("PTB"):
            echo[figures.load] = figures.per_second
        ratio = figures.per_second / echo[figures.load] if figures.load in echo else 0.0
        print(
            f"{figures.load:<28}{figures.bot:<24}{figures.per_second:>10.0f}"
            f"{percentile(figures.latencies, 0.5) * 1000:>9.0f}"
            f"{percentile(figures.latencies, 0.99) * 1000:>9.0f}"
            f"{figures.cpu_ms_per_update:>12.2f}{ratio:>8.2f}"
        )
