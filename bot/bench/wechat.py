"""`python -m bot bench wechat`: how long WeChat waits for our callback under a burst.

Each server runs as a process of its own on a loopback port; this process plays WeChat,
posting signed and AES-encrypted text messages from many owners with N in flight at once, and
times each answer (`bot.bench.loadgen`: requests built before the clock, keep-alive
connections, answers decrypted and checked after the clock, so the client costs the shared
CPUs next to nothing). WeChat gives up after 5 s; the figure that matters is the p99. In the same
run, on the same load, two baselines show what the machine allows:

- a bare ASGI app that reads the body and answers `success` (the floor: uvicorn and this load
  generator);
- a plain wechatpy + SQLite handler (`bot/channels/wechat/baseline.py`): signature, AES, one
  insert, an encrypted passive reply.

Ours is `python -m bot run` itself (the real flows, inbox, state and outbox on SQLite or
PostgreSQL, safe mode), pointed at the fake WeChat API for the replies that go as 客服消息:
every callback answered `success` must have its reply delivered that way, and the bench checks
it. CPU time is the server process's, read from /proc (so Linux only).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

from bot.bench.loadgen import Exchange, closed_loop, post
from bot.bench.profile import sampling
from bot.bench.stats import process_cpu_seconds
from bot.bench.telegram_open import postgres_url, sqlite_url
from bot.testing.fake_wechat_api import APP_ID, APP_SECRET, FakeWeChatApi
from bot.testing.fake_wechat_server import (
    ACCOUNT,
    AES_KEY,
    TOKEN,
    WeChatServer,
    encrypt,
    message_xml,
    read_answer,
    signature,
)

#: What owners type: menu words, FAQ questions, small talk (each takes a different path).
TEXTS = ("帮助", "菜单", "装修押金多少", "防水保修几年", "你好", "物业费怎么交")
OWNERS = 200
WARM_UP = 20
START_TIMEOUT = 90.0
#: WeChat's own limit is 5 s; ours is to answer by 4 s.
DEADLINE_SECONDS = 4.0
#: How long replies answered `success` may take to arrive by 客服消息 after the load.
LATE_DELIVERY_SECONDS = 120.0
CUSTOM = "cgi-bin/message/custom/send"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]


@dataclass(frozen=True)
class Figures:
    server: str
    latencies: list[float]
    outcomes: Counter[str]
    seconds: float
    #: The server's, for the load and the replies that went by 客服消息 after it.
    cpu_seconds: float
    #: Warm-up callbacks answered `success` (their replies go by 客服消息 too).
    warm_up_late: int = 0
    #: Replies that went by 客服消息 for callbacks answered `success` (ours only) …
    late_delivered: int | None = None
    #: … and how long after the last answer the last of them went.
    late_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.cpu_seconds / len(self.latencies) * 1000

    def quantile(self, percent: int) -> float:
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[percent - 1]

    @property
    def over_deadline(self) -> int:
        return sum(1 for latency in self.latencies if latency > DEADLINE_SECONDS)

    @property
    def ok(self) -> bool:
        """Answered as WeChat expects, within its 5 s, and nothing answered `success` lost."""
        answered = set(self.outcomes) <= {"passive reply", "success"}
        late = self.outcomes.get("success", 0) + self.warm_up_late
        delivered = self.late_delivered is None or self.late_delivered >= late
        return answered and delivered and self.quantile(99) < 5.0


def run_bench(
    requests: int, concurrency: int, backend: str, postgres_dsn: str, profile: Path | None
) -> int:
    """The two baselines, then ours; exit 1 when ours breaks WeChat's rules (p99 ≥ 5 s, an
    answer other than a passive reply or `success`, a late reply not delivered)."""
    results = measure(requests, concurrency, [backend], postgres_dsn, profile)
    print(format_figures(results, requests, concurrency))
    return 0 if all(figures.ok for figures in ours(results)) else 1


def measure(
    requests: int,
    concurrency: int,
    backends: Sequence[str],
    postgres_dsn: str,
    profile: Path | None,
) -> list[Figures]:
    """The same load on the two baselines and on ours on each backend, one after another;
    ours last (`ours` picks them out)."""
    return [
        _measure(bare_asgi(), requests, concurrency),
        _measure_plain_wechatpy(requests, concurrency),
        *(
            _measure_ours(requests, concurrency, backend, postgres_dsn, profile)
            for backend in backends
        ),
    ]


def ours(results: list[Figures]) -> list[Figures]:
    """The figures of our bot in what `measure` returned (after the two baselines)."""
    return results[2:]


# -- the servers -----------------------------------------------------------------------------


def bare_asgi() -> Server:
    code = "from bot.bench.wechat import serve_bare; serve_bare()"
    return Server("bare ASGI (answers success)", [sys.executable, "-c", code], {})


def _measure_plain_wechatpy(requests: int, concurrency: int) -> Figures:
    with tempfile.TemporaryDirectory() as folder:
        code = (
            "import os; from pathlib import Path; "
            "from bot.channels.wechat.baseline import serve_plain; "
            f"serve_plain({TOKEN!r}, {AES_KEY!r}, {APP_ID!r}, "
            f"Path({folder!r}) / 'plain.db', int(os.environ['BOT_PORT']))"
        )
        server = Server("wechatpy + SQLite", [sys.executable, "-c", code], {})
        return _measure(server, requests, concurrency)


def _measure_ours(
    requests: int, concurrency: int, backend: str, postgres_dsn: str, profile: Path | None
) -> Figures:
    database = postgres_url(postgres_dsn) if backend == "postgres" else sqlite_url()
    with _fake_api() as api, database as (url, folder):
        env = {
            "DATABASE_URL": url,
            "MEDIA_DIR": str(folder / "media"),
            "TELEGRAM_TOKEN": "",
            "REDIS_URL": "",
            "WECHAT_APP_ID": APP_ID,
            "WECHAT_APP_SECRET": APP_SECRET,
            "WECHAT_TOKEN": TOKEN,
            "WECHAT_AES_KEY": AES_KEY,
            "WECHAT_API_BASE_URL": api.base_url,
            "LOG_LEVEL": "WARNING",
        }
        name = "ours, PostgreSQL" if backend == "postgres" else "ours, SQLite"
        server = Server(name, [sys.executable, "-m", "bot", "run"], env)
        raw = profile / f"ours-{backend}.txt" if profile else None
        return _measure(server, requests, concurrency, raw, partial(_late_deliveries, api))


def _late_deliveries(api: ApiProcess, late: int) -> tuple[int, float]:
    """With the bot still running: 客服 sends until there are `late` (one message back for
    each text answered `success`) or time is up, and how long that took."""
    started = time.monotonic()
    while api.custom_sends() < late and time.monotonic() < started + LATE_DELIVERY_SECONDS:
        time.sleep(0.2)
    return api.custom_sends(), time.monotonic() - started


@dataclass(frozen=True)
class ApiProcess:
    """The fake WeChat API in a process of its own: in this one, the load generator would
    hold the GIL while our bot waits for its 客服 sends to be answered."""

    base_url: str
    ask: Connection

    def custom_sends(self) -> int:
        self.ask.send(CUSTOM)
        return int(self.ask.recv())


@contextmanager
def _fake_api() -> Iterator[ApiProcess]:
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=serve_fake_api, args=(theirs,), daemon=True
    )
    process.start()
    try:
        if not ours.poll(START_TIMEOUT):
            raise RuntimeError("the fake WeChat API did not start")
        yield ApiProcess(str(ours.recv()), ours)
    finally:
        ours.send(None)
        process.join(timeout=10)


def serve_fake_api(pipe: Connection) -> None:
    """The child: the fake WeChat API, answering how many calls a path got until told None."""
    api = FakeWeChatApi().start()
    pipe.send(api.base_url)
    try:
        while (path := pipe.recv()) is not None:
            pipe.send(len(api.calls(path)))
    finally:
        api.stop()


# -- one measurement -------------------------------------------------------------------------


def _measure(
    server: Server,
    requests: int,
    concurrency: int,
    profile: Path | None = None,
    late: Callable[[int], tuple[int, float]] | None = None,
) -> Figures:
    """The load on a fresh server. `late(n)` waits (server running) for the replies of `n`
    callbacks answered `success` to go by 客服消息: (how many went, how long that took). The
    server's CPU time and profile cover the load and that wait, so the replies handled after
    the answers count too."""
    with _running(server) as (pid, port):
        warm_up, burst = _requests(port, requests)
        # The first FAQ questions load dictionaries: not what WeChat sees later.
        warm_up_answers = asyncio.run(closed_loop(HOST, port, warm_up, 1))
        sampler: AbstractContextManager[None] = sampling(pid, profile) if profile else nullcontext()
        with sampler:
            cpu_before, started = process_cpu_seconds(pid), time.perf_counter()
            exchanges = asyncio.run(closed_loop(HOST, port, burst, concurrency))
            seconds = time.perf_counter() - started
            outcomes = Counter(_outcome(exchange) for exchange in exchanges)
            warm_up_late = sum(1 for e in warm_up_answers if _outcome(e) == "success")
            figures = Figures(
                server.name,
                [exchange.seconds for exchange in exchanges],
                outcomes,
                seconds,
                0.0,
                warm_up_late,
            )
            if late is not None:
                delivered, late_seconds = late(outcomes.get("success", 0) + warm_up_late)
                figures = replace(figures, late_delivered=delivered, late_seconds=late_seconds)
            return replace(figures, cpu_seconds=process_cpu_seconds(pid) - cpu_before)


def _requests(port: int, requests: int) -> tuple[list[bytes], list[bytes]]:
    """(warm-up, burst): signed, encrypted callbacks built before the clock starts, as bytes
    to write. The load generator's own AES work is not what WeChat's servers make us wait
    for."""
    wechat = WeChatServer(httpx.AsyncClient(), lambda: datetime.now(UTC), app_id=APP_ID)

    def built(msg_ids: range) -> list[bytes]:
        return [
            post(HOST, port, "/wechat", *_sealed(wechat, message_xml(_text(wechat, msg_id))))
            for msg_id in msg_ids
        ]

    return built(range(1, WARM_UP + 1)), built(range(WARM_UP + 1, WARM_UP + 1 + requests))


def _text(wechat: WeChatServer, msg_id: int) -> dict[str, Any]:
    return wechat.text(f"bench-owner-{msg_id % OWNERS}", TEXTS[msg_id % len(TEXTS)], msg_id)


def _sealed(wechat: WeChatServer, plain_xml: str) -> tuple[dict[str, str], bytes]:
    params = wechat.signed_params()
    encrypted = encrypt(plain_xml, APP_ID)
    params |= {
        "encrypt_type": "aes",
        "msg_signature": signature(TOKEN, params["timestamp"], params["nonce"], encrypted),
    }
    return params, message_xml({"ToUserName": ACCOUNT, "Encrypt": encrypted}).encode()


def _outcome(exchange: Exchange) -> str:
    """What WeChat makes of an answer (a passive reply is checked and decrypted: after the
    clock, as WeChat's own work)."""
    if exchange.error:
        return exchange.error
    if exchange.status != 200:
        return f"HTTP {exchange.status}"
    answer = read_answer(exchange.status, exchange.body.decode(), APP_ID)
    return "success" if answer.is_success else "passive reply"


@contextmanager
def _running(server: Server) -> Iterator[tuple[int, int]]:
    """(pid, port) once the server accepts connections; its output goes to a file, shown only
    when it fails."""
    port = _free_port()
    env = {**os.environ, **server.env, "BOT_PORT": str(port)}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            server.argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        try:
            _wait_listening(process, port)
            yield process.pid, port
        except (RuntimeError, OSError):
            log.seek(0)
            sys.stderr.write(log.read()[-4000:].decode(errors="replace"))
            raise
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_listening(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start listening") from None
            time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- the bare baseline -----------------------------------------------------------------------


async def bare_app(scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any) -> None:
    """Reads the whole body and answers `success`: no framework, no work."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"7")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"success"})


def serve_bare() -> None:
    import uvicorn

    port = int(os.environ["BOT_PORT"])
    uvicorn.run(bare_app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- the report ------------------------------------------------------------------------------


def format_figures(results: list[Figures], requests: int, concurrency: int) -> str:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    lines = [
        f"WeChat callbacks: {requests} AES-encrypted texts, {concurrency} concurrent, each "
        f"server a process of its own, {os.cpu_count()} CPUs, load average {load}",
        f"{'server':<30}{'/s':>6}{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}{'max ms':>8}"
        f"{'>4 s':>6}{'CPU ms':>8}  answers",
    ]
    for f in results:
        answers = ", ".join(f"{name} {count}" for name, count in sorted(f.outcomes.items()))
        if f.late_delivered is not None and f.outcomes.get("success"):
            answers += (
                f" ({f.late_delivered} replies by 客服消息, the last {f.late_seconds:.1f} s"
                " after the last answer)"
            )
        lines.append(
            f"{f.server:<30}{f.per_second:>6.0f}"
            + "".join(f"{f.quantile(p) * 1000:>8.0f}" for p in (50, 90, 99))
            + f"{max(f.latencies) * 1000:>8.0f}{f.over_deadline:>6}{f.cpu_ms:>8.2f}  {answers}"
        )
    return "\n".join(lines)
