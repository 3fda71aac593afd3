"""The survey jobs APScheduler ticks: send what fell due, remind and expire (every few minutes),
and the daily scan that creates revisits after handover. Each run is one transaction over the
rows, so a second instance or a rerun after a crash sends nothing twice."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.engine.context import Services
from bot.services.surveys import Invitations, scan_revisits
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)


class SurveyJobs:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], services: Services) -> None:
        self._uow_factory = uow_factory
        self._services = services

    async def send_due(self) -> tuple[int, int, int]:
        """Invitations due now, then reminders and expiry: (sent, reminded, expired)."""
        services = self._services
        invitations = Invitations(
            services.texts, services.rules.survey, services.survey_link, services.settings.tz
        )
        now = services.clock()
        async with self._uow_factory() as uow:
            sent = await invitations.push_due(uow, now)
            reminded, expired = await invitations.remind_and_expire(uow, now)
            await uow.commit()
        if sent or reminded or expired:
            log.info("surveys: %d sent, %d reminded, %d expired", sent, reminded, expired)
        return sent, reminded, expired

    async def daily(self) -> int:
        """Revisits after handover that fell due for bound owners, sent at once; how many new."""
        services = self._services
        async with self._uow_factory() as uow:
            created = await scan_revisits(
                uow, services.rules.survey, services.clock(), services.settings.tz
            )
            await uow.commit()
        log.info("surveys: %d revisit(s) created", created)
        await self.send_due()
        return created
