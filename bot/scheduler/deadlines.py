"""The deadline watcher, ticked by APScheduler (bot/app/serve.py): raises the alerts the rows
call for. It keeps no state of its own, so any number of instances may run it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.services.alerts import raise_alerts
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)


class DeadlineWatcher:
    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], clock: Callable[[], datetime]
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def run_once(self) -> int:
        """Raise what is due now; returns how many alerts are new."""
        async with self._uow_factory() as uow:
            raised = await raise_alerts(uow, self._clock())
            await uow.commit()
        if raised:
            log.warning("%d new staff alert(s)", raised)
        return raised
