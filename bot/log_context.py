"""Which update or HTTP request a log line belongs to, for `LOG_FORMAT=json`.

Context variables rather than globals: asyncio copies them into every task a handler starts,
so the lines of concurrent updates and requests never borrow each other's ids. The channels set
the update id where an update enters (Telegram's update_id, WeChat's MsgId key), the engine again
for updates it catches up on, and the HTTP app a request id per request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

UPDATE_ID: ContextVar[str | None] = ContextVar("update_id", default=None)
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


@contextmanager
def handling_update(update_id: str | int) -> Iterator[None]:
    token = UPDATE_ID.set(str(update_id))
    try:
        yield
    finally:
        UPDATE_ID.reset(token)


@contextmanager
def serving_request(request_id: str) -> Iterator[None]:
    token = REQUEST_ID.set(request_id)
    try:
        yield
    finally:
        REQUEST_ID.reset(token)


def current() -> dict[str, str]:
    """The ids in force here, only those set."""
    ids = {"update_id": UPDATE_ID.get(), "request_id": REQUEST_ID.get()}
    return {name: value for name, value in ids.items() if value is not None}
