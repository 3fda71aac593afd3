"""`python -m bot bench push`: N pushes falling due at once for N Telegram chats.

The real `python -m bot run` delivers them from the outbox to the fake Bot API, which enforces
Telegram's limits the way Telegram does (a strict 30-per-second window bot-wide, about one a
second per chat, 429 with `retry_after` for excess: `bot.testing.fake_telegram.Limits`). We
report the sustained rate of accepted messages against the limit, the 429s, chats that got
nothing (lost) or more than one message (duplicated), the time to drain and the bot's peak
memory; then the same with `kill -9` half-way and a restart.
"""

from __future__ import annotations

import asyncio
import bisect
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from bot.app.bootstrap import build_runtime
from bot.bench.telegram import DatabaseFactory, postgres_database, sqlite_database
from bot.engine.types import Reply
from bot.settings import PROJECT_ROOT, load_settings
from bot.storage.uow import UnitOfWork
from bot.testing.fake_telegram import FakeTelegram

TELEGRAM_LIMIT = 30
FIRST_CHAT = 10_000_000
SEED_BATCH = 1000
#: After the last chat got its message: time for a late duplicate to show up.
SETTLE_SECONDS = 3.0
#: Nothing accepted for this long (beyond a restart's lease): what is missing is lost.
STALL_SECONDS = 30.0


@dataclass(frozen=True)
class Figures:
    name: str
    chats: int
    accepted: int
    refused: int
    lost: int
    duplicated: int
    #: From the bot's start to the last message accepted.
    drain_seconds: float
    #: Accepted messages per second between the first and the last.
    rate: float
    #: The most messages accepted in any one second.
    busiest_second: int
    peak_rss_mb: float
    #: Crash run: from the restart to the first message accepted after it.
    resumed_after: float | None = None

    @property
    def refused_share(self) -> float:
        requests = self.accepted + self.refused
        return self.refused / requests if requests else 0.0


def run(chats: int, crash: bool, backend: str, postgres_dsn: str) -> int:
    results = measure(chats, crash, backend, postgres_dsn)
    print(format_figures(results, backend))
    return 0 if all(f.lost == 0 for f in results) else 1


def measure(chats: int, crash: bool, backend: str, postgres_dsn: str) -> list[Figures]:
    database: DatabaseFactory = (
        postgres_database(postgres_dsn) if backend == "postgres" else sqlite_database
    )
    results = [asyncio.run(_scenario("no crash", chats, database, crash=False))]
    if crash:
        results.append(asyncio.run(_scenario("kill -9 half-way", chats, database, crash=True)))
    return results


async def _scenario(name: str, chats: int, database: DatabaseFactory, *, crash: bool) -> Figures:
    fake = FakeTelegram(enforce_limits=True).start()
    database_url, drop = await database()
    try:
        with tempfile.TemporaryDirectory() as folder:
            await _seed(database_url, Path(folder) / "media", chats)
            env = environment(database_url, Path(folder), fake)
            return await _measure(name, chats, fake, env, Path(folder) / "bot.log", crash)
    finally:
        await drop()
        fake.stop()


async def _seed(database_url: str, media: Path, chats: int) -> None:
    """N accounts, each with one push falling due now."""
    runtime = build_runtime(
        load_settings(database_url=database_url, media_dir=media), with_channels=False
    )
    try:
        await runtime.upgrade_database()
        await queue_pushes(runtime.uow, chats, datetime.now(UTC))
    finally:
        await runtime.close()


async def queue_pushes(uow_factory: Callable[[], UnitOfWork], chats: int, now: datetime) -> None:
    """One Telegram account per chat from FIRST_CHAT on, each with one survey push due `now`
    (the benchmark's load; the two-process delivery test's too)."""
    for start in range(0, chats, SEED_BATCH):
        async with uow_factory() as uow:
            for chat in range(start, min(start + SEED_BATCH, chats)):
                account, _ = await uow.accounts.touch(
                    "telegram", str(FIRST_CHAT + chat), language="zh", now=now
                )
                await uow.outbox.add(
                    account_id=account.id,
                    purpose="survey",
                    idempotency_key=f"bench:{chat}",
                    replies=[Reply(f"请为维修服务评分 #{chat}").to_dict()],
                    due_at=now,
                    now=now,
                )
            await uow.commit()


def environment(database_url: str, folder: Path, fake: FakeTelegram) -> dict[str, str]:
    """`python -m bot run` delivering to the fake with Telegram pacing on, on a port of its
    own, no WeChat, no quiet hours."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "MEDIA_DIR": str(folder / "media"),
        "BOT_PORT": str(port),
        "TELEGRAM_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_WEBHOOK_URL": "",
        "TELEGRAM_PACING": "on",
        "WECHAT_APP_ID": "",
        "REDIS_URL": "",
        "QUIET_HOURS": "",
        "LOG_LEVEL": "WARNING",
    }


async def _measure(
    name: str, chats: int, fake: FakeTelegram, env: dict[str, str], log: Path, crash: bool
) -> Figures:
    started = time.monotonic()
    resumed_after = None
    with log.open("w") as output:
        bot = _start_bot(env, output)
        peak = 0.0
        try:
            if crash:
                await _until(lambda: len(_counts(fake)) >= chats // 2, fake, bot, log)
                peak = _peak_rss_mb(bot.pid)
                bot.kill()
                bot.wait()
                restarted = time.monotonic()
                accepted_before = len(fake.sent_log)
                bot = _start_bot(env, output)
                await _until(lambda: len(fake.sent_log) > accepted_before, fake, bot, log)
                if len(fake.sent_log) > accepted_before:
                    resumed_after = fake.sent_log[accepted_before][0] - restarted
            await _until(lambda: len(_counts(fake)) >= chats, fake, bot, log)
            await asyncio.sleep(SETTLE_SECONDS)
            peak = max(peak, _peak_rss_mb(bot.pid))
        finally:
            bot.terminate()
            bot.wait()
    return _figures(name, chats, fake, started, peak, resumed_after)


def _start_bot(env: dict[str, str], output: IO[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )


async def _until(
    condition: Callable[[], bool], fake: FakeTelegram, bot: subprocess.Popen[bytes], log: Path
) -> None:
    """Poll until `condition` holds, or nothing more arrives for STALL_SECONDS (the rest is
    lost and reported so); a bot that died ends the run."""
    seen, since = len(fake.sent_log), time.monotonic()
    while not condition():
        if bot.poll() is not None:
            raise RuntimeError(f"the bot exited ({bot.returncode}); its log: {log}")
        if len(fake.sent_log) != seen:
            seen, since = len(fake.sent_log), time.monotonic()
        elif time.monotonic() - since > STALL_SECONDS:
            return
        await asyncio.sleep(0.2)


def _counts(fake: FakeTelegram) -> Counter[int]:
    return Counter(chat for _, chat in list(fake.sent_log))


def _figures(
    name: str,
    chats: int,
    fake: FakeTelegram,
    started: float,
    peak: float,
    resumed_after: float | None,
) -> Figures:
    times = sorted(at for at, _ in fake.sent_log)
    counts = _counts(fake)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    assert fake.limits is not None
    return Figures(
        name=name,
        chats=chats,
        accepted=len(times),
        refused=fake.limits.refused,
        lost=chats - len(counts),
        duplicated=sum(1 for count in counts.values() if count > 1),
        drain_seconds=times[-1] - started if times else 0.0,
        rate=(len(times) - 1) / span if span else 0.0,
        busiest_second=_busiest_second(times),
        peak_rss_mb=peak,
        resumed_after=resumed_after,
    )


def _busiest_second(times: list[float]) -> int:
    """The most accepted messages in any window of one second (Telegram allows 30)."""
    return max(
        (bisect.bisect_left(times, at + 1.0) - index for index, at in enumerate(times)), default=0
    )


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), from /proc on Linux."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def format_figures(results: list[Figures], backend: str) -> str:
    lines = [
        f"Push benchmark: {results[0].chats} pushes due at once, {backend}, fake Bot API "
        f"enforcing Telegram's limits ({TELEGRAM_LIMIT}/s window, 1/s per chat); load average "
        f"{os.getloadavg()[0]:.1f}",
        "",
        "| run | rate /s (limit 30) | busiest second | 429s | lost | duplicated | drain s "
        "| peak MB | resumed after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in results:
        resumed = f"{f.resumed_after:.1f} s" if f.resumed_after is not None else "–"
        lines.append(
            f"| {f.name} | {f.rate:.1f} | {f.busiest_second} | {f.refused} "
            f"({f.refused_share:.2%}) | {f.lost} | {f.duplicated} | {f.drain_seconds:.0f} "
            f"| {f.peak_rss_mb:.0f} | {resumed} |"
        )
    return "\n".join(lines)
