"""Periodic work that outlives a dependency's outage with one log line, not one per tick.

The outbox ticks every 2 s: a traceback per tick while PostgreSQL restarts buried everything
else (1,300 lines in 22 s). The first failure is a warning naming what is down, the recovery
one info line; the ticks in between are quiet, and the next tick simply tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)


class OutageLog:
    def __init__(self, name: str, work: Callable[[], Awaitable[object]]) -> None:
        self._name = name
        self._work = work
        self._down = False

    async def tick(self) -> None:
        try:
            await self._work()
        except (SQLAlchemyError, OSError) as exc:
            if not self._down:
                log.warning(
                    "%s paused: the database (DATABASE_URL) is unreachable (%s); "
                    "retrying quietly until it is back",
                    self._name,
                    type(exc).__name__,
                )
            self._down = True
            return
        if self._down:
            log.info("%s resumed: the database is reachable again", self._name)
        self._down = False
