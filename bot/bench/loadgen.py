"""A closed-loop HTTP/1.1 load generator that costs next to nothing per request.

A benchmark's client shares the machine with the server it measures: a client that spends
milliseconds of CPU per request (httpx builds a request object, a URL, headers, a response and
runs its connection pool for each) is measured along with the server, and its own queueing
shows up as the server's latency. Here every request is bytes built before the clock starts,
each of N workers keeps one keep-alive connection and sends its next request as soon as the
answer to the last has arrived, and an answer is read as a status, a Content-Length and that
many bytes: what the answer says is looked at after the clock, by the caller.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

#: No answer this late is waited for (WeChat gives up after 5 s; a hung server must not hang
#: the bench).
REQUEST_TIMEOUT_SECONDS = 30.0
_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)
_CLOSE = re.compile(rb"\r\nconnection:\s*close", re.IGNORECASE)


@dataclass(frozen=True)
class Exchange:
    """One request: how long its answer took, and the answer (or the error instead)."""

    seconds: float
    status: int
    body: bytes
    error: str = ""


def post(host: str, port: int, path: str, params: dict[str, str], body: bytes) -> bytes:
    """A whole POST request, ready to write to a keep-alive connection."""
    head = (
        f"POST {path}?{urlencode(params)} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def closed_loop(
    host: str, port: int, requests: Sequence[bytes], concurrency: int
) -> list[Exchange]:
    """Every request sent with `concurrency` in flight at once (a worker sends its next as soon
    as its last is answered); the exchanges in the order of `requests`. The connections are
    opened before the first request is sent."""
    results: list[Exchange | None] = [None] * len(requests)
    pending = iter(enumerate(requests))
    connections = [
        await asyncio.open_connection(host, port) for _ in range(min(concurrency, len(requests)))
    ]
    await asyncio.gather(
        *(_worker(host, port, connection, pending, results) for connection in connections)
    )
    return [exchange for exchange in results if exchange is not None]


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _worker(
    host: str,
    port: int,
    connection: Connection | None,
    pending: Iterator[tuple[int, bytes]],
    results: list[Exchange | None],
) -> None:
    for index, request in pending:
        if connection is None:  # the server closed the last one: a new connection, timed
            started = time.perf_counter()
            connection = await asyncio.open_connection(host, port)
        else:
            started = time.perf_counter()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                status, body, keep = await _exchange(*connection, request)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            results[index] = Exchange(time.perf_counter() - started, 0, b"", type(exc).__name__)
            connection[1].close()
            connection = None
            continue
        results[index] = Exchange(time.perf_counter() - started, status, body)
        if not keep:
            connection[1].close()
            connection = None
    if connection is not None:
        connection[1].close()


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes, bool]:
    """(status, body, whether the connection stays open) for one request."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = _LENGTH.search(head)
    if not head.startswith(b"HTTP/1.1 ") or length is None:
        raise ValueError("an answer without Content-Length")
    body = await reader.readexactly(int(length.group(1)))
    return int(head[9:12]), body, _CLOSE.search(head) is None
