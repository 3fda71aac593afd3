"""Personal data and secrets never reach a log line.

Every log record, from our code or a library (SQLAlchemy errors, httpx and PTB at DEBUG,
uvicorn's access log), passes through one record factory that redacts its final text and its
traceback: the configured secrets wherever they appear, `access_token=` values in URLs, bot
tokens in Telegram API paths, mainland mobile numbers, and the query string of every request in
the access log (WeChat signatures and nonces, page-link tokens). SQL parameters (an owner's
phone, ID digits, message text) are kept out at the source by `hide_parameters` on the engine.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable, Iterable
from typing import Any

MASK = "***"
#: Shorter configured values are not masked: they would blank out ordinary words.
MIN_SECRET_LENGTH = 8
PATTERNS = (
    (re.compile(r"((?:access_token|secret|secret_token)=)[^&\s'\"]+"), r"\1" + MASK),
    (re.compile(r"(/bot)\d+:[A-Za-z0-9_-]+"), r"\1" + MASK),
    (re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), "[phone]"),
)
ACCESS_LOGGER = "uvicorn.access"
#: uvicorn's access record: (client, method, path with query, HTTP version, status).
ACCESS_PATH_ARG = 2

RecordFactory = Callable[..., logging.LogRecord]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def install(secrets: Iterable[str | None]) -> None:
    """Redact every record created from now on in this process (idempotent per secret set)."""
    known = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
    base = logging.getLogRecordFactory()
    base = getattr(base, "redaction_base", base)

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        _clean(record, known)
        return record

    factory.redaction_base = base  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def uninstall() -> None:
    factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(getattr(factory, "redaction_base", factory))


def _clean(record: logging.LogRecord, secrets: list[str]) -> None:
    if record.name == ACCESS_LOGGER and isinstance(record.args, tuple):
        # uvicorn's AccessFormatter unpacks these args itself: cut the query, keep the shape.
        args = list(record.args)
        path = args[ACCESS_PATH_ARG] if len(args) > ACCESS_PATH_ARG else None
        if isinstance(path, str):
            args[ACCESS_PATH_ARG] = path.split("?", 1)[0]
        record.args = tuple(args)
        return
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a bad format string: keep what logging would show
        return
    record.msg, record.args = redact(message, secrets), None
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = redact(text, secrets)  # formatters print this instead of exc_info
