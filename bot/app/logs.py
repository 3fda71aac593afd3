"""How `python -m bot …` logs: one line per record on stderr, as text (the default) or, with
`LOG_FORMAT=json`, as one JSON object per line for a log collector (time, level, logger,
message, and the `update_id` / `request_id` being handled, see bot.log_context).

Both go through the redaction record factory (bot.app.redaction) first, so neither format can
carry a phone number, a token or a secret.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from bot import log_context
from bot.app import redaction
from bot.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Libraries that log one line per request or job at INFO: noise at the default level.
CHATTY = ("alembic", "httpx", "apscheduler")
#: uvicorn repeats its message with terminal colours in this extra field.
UVICORN_EXTRAS = ("color_message",)


class ContextIds(logging.Filter):
    """Stamps each record with the ids of the update or request it was logged for."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in log_context.current().items():
            setattr(record, name, value)
        return True


class JsonLines(JsonFormatter):
    """python-json-logger with our field names and the redacted traceback.

    The library formats `exc_info` itself; the standard formatter prints the already rendered
    `exc_text` instead, which is where the redaction factory puts the cleaned traceback.
    """

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "traceback"},
            reserved_attrs=[*RESERVED_ATTRS, *UVICORN_EXTRAS],
            timestamp="time",
        )

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and record.exc_text:
            record = copy.copy(record)
            record.exc_info = None
        return super().format(record)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        """Time first: the field a reader scans for."""
        return {"time": log_data.pop("time"), **log_data}


def configure(settings: Settings) -> None:
    """Root logging for a CLI process (a no-op for the handler when one is already set, as
    under pytest); redaction always."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextIds())
    json_lines = settings.log_format == "json"
    handler.setFormatter(JsonLines() if json_lines else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=settings.log_level, handlers=[handler])
    if json_lines:
        logging.captureWarnings(True)  # a library's warning would be a bare text line
    redaction.install(settings.secret_values)
    for chatty in CHATTY:
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.root.level))


def json_configured() -> bool:
    """Whether lines on stderr must be JSON (for the CLI's last words)."""
    return any(isinstance(h.formatter, JsonLines) for h in logging.root.handlers)
