"""`python -m bot bench wechat`: how long WeChat waits for our callback under load.

The bot runs in a child process (uvicorn, a throwaway SQLite database, safe mode, the real
flows) exactly as in production; this process plays WeChat, posting signed and encrypted text
messages from many owners with N in flight at once, and times each answer. WeChat gives up
after 5 s; the figure that matters is the p99. The child also answers the few API calls a late
reply makes (token, 客服消息) on a stub route, so nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import secrets
import socket
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from bot.testing.fake_wechat_server import AES_KEY, TOKEN, WeChatServer

APP_ID = "wxbench000000000"
#: What owners type: menu words, FAQ questions, small talk (each takes a different path).
TEXTS = ("帮助", "菜单", "装修押金多少", "防水保修几年", "你好", "物业费怎么交")
OWNERS = 200
WARM_UP = 20
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Figures:
    server: str
    latencies: list[float]
    outcomes: Counter[str]

    def quantile(self, percent: int) -> float:
        """Seconds."""
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[percent - 1]

    @property
    def ok(self) -> bool:
        """Within WeChat's 5 s at p99, answered as WeChat expects."""
        return self.quantile(99) < 5.0 and set(self.outcomes) <= {"passive reply", "success"}


def run_bench(requests: int, concurrency: int) -> int:
    """Print p50/p90/p99/max callback latency; exit 1 when the p99 reaches WeChat's 5 s."""
    results = measure(requests, concurrency)
    for figures in results:
        _report(figures, concurrency)
    return 0 if all(figures.ok for figures in results) else 1


def measure(requests: int, concurrency: int) -> list[Figures]:
    aes_key = AES_KEY
    spawn = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as folder:
        ready: multiprocessing.Queue[int] = spawn.Queue()
        server = spawn.Process(target=_serve, args=(folder, aes_key, ready), daemon=True)
        server.start()
        try:
            port = ready.get(timeout=START_TIMEOUT)
            latencies, outcomes = asyncio.run(_load(port, requests, concurrency))
        finally:
            server.terminate()
            server.join(timeout=10)
    return [Figures("ours, SQLite", latencies, outcomes)]


def _report(figures: Figures, concurrency: int) -> None:
    cores = os.cpu_count()
    count = len(figures.latencies)
    print(f"wechat callback: {count} requests, {concurrency} concurrent, {cores} cores")
    cuts = {f"p{p}": figures.quantile(p) for p in (50, 90, 99)} | {"max": max(figures.latencies)}
    print("  " + "  ".join(f"{name} {value * 1000:.0f} ms" for name, value in cuts.items()))
    outcomes = sorted(figures.outcomes.items())
    print("  answers: " + ", ".join(f"{name} {count}" for name, count in outcomes))


async def _load(port: int, requests: int, concurrency: int) -> tuple[list[float], Counter[str]]:
    ids = itertools.count(1)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
    ) as client:
        wechat = WeChatServer(client, lambda: datetime.now(UTC), app_id=APP_ID)
        for n in range(WARM_UP):  # first FAQ use loads dictionaries: not what WeChat sees later
            await _post(wechat, next(ids), TEXTS[n % len(TEXTS)])
        gate = asyncio.Semaphore(concurrency)

        async def one(n: int) -> tuple[float, str]:
            async with gate:
                return await _post(wechat, next(ids), TEXTS[n % len(TEXTS)])

        results = await asyncio.gather(*(one(n) for n in range(requests)))
    return [elapsed for elapsed, _ in results], Counter(outcome for _, outcome in results)


async def _post(wechat: WeChatServer, msg_id: int, text: str) -> tuple[float, str]:
    """One owner's text, signed and encrypted as WeChat sends it, timed until our answer."""
    message = wechat.text(f"bench-owner-{msg_id % OWNERS}", text, msg_id=msg_id)
    started = time.perf_counter()
    answer = await wechat.send(message)
    elapsed = time.perf_counter() - started
    if answer.status != 200:
        return elapsed, f"HTTP {answer.status}"
    return elapsed, "success" if answer.is_success else "passive reply"


def _serve(folder: str, aes_key: str, ready: multiprocessing.Queue[int]) -> None:
    """The child: the bot with its WeChat channel on a loopback port."""
    asyncio.run(_serve_async(Path(folder), aes_key, ready))


async def _serve_async(folder: Path, aes_key: str, ready: multiprocessing.Queue[int]) -> None:
    import uvicorn

    from bot.app.bootstrap import build_runtime
    from bot.app.http import create_app
    from bot.settings import load_settings

    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it Nagle + delayed ACK add 40 ms to every answer.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    port = int(listener.getsockname()[1])
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{folder / 'bench.db'}",
        media_dir=folder / "media",
        redis_url=None,
        telegram_token=None,
        wechat_app_id=APP_ID,
        wechat_app_secret="bench-secret",
        wechat_token=TOKEN,
        wechat_aes_key=aes_key,
        wechat_api_base_url=f"http://127.0.0.1:{port}/stub-api/",
        log_level="WARNING",
    )
    runtime = build_runtime(settings)
    await runtime.upgrade_database()
    app = create_app(runtime)
    _add_stub_api(app)

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            ready.put(port)

    config = uvicorn.Config(app, log_level="warning", access_log=False)
    await AnnouncingServer(config).serve(sockets=[listener])


def _add_stub_api(app: FastAPI) -> None:
    """The WeChat API calls a late reply makes, answered locally."""

    @app.get("/stub-api/cgi-bin/token")
    async def token() -> dict[str, Any]:
        return {"access_token": secrets.token_hex(16), "expires_in": 7200}

    @app.post("/stub-api/cgi-bin/message/custom/send")
    async def custom_send() -> dict[str, Any]:
        return {"errcode": 0, "errmsg": "ok"}
