"""Delivers outbox rows through the channel adapters.

Claims due rows (disjoint between workers on PostgreSQL), sends, and records the outcome. A
crash between claim and result leaves the row claimed only until its lease ends, so another
tick delivers it; a permanent failure (blocked, unsubscribed) deactivates the account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from bot.engine.ports import ChannelGateway, DeliveryError, Push
from bot.engine.types import Reply
from bot.storage.repositories.outbox import OutboxItem
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

BATCH = 50
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 6


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


class OutboxWorker:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        gateways: Mapping[str, ChannelGateway],
        clock: Callable[[], datetime],
        link_for: Callable[[int], str],
    ) -> None:
        """`link_for(message_id)` is the signed page showing the whole message."""
        self._uow_factory = uow_factory
        self._gateways = gateways
        self._clock = clock
        self._link_for = link_for

    async def run_once(self) -> int:
        """Deliver what is due now; returns how many messages were sent."""
        async with self._uow_factory() as uow:
            items = await uow.outbox.claim_due(self._clock(), BATCH, LEASE)
            await uow.commit()
        sent = 0
        for item in items:
            sent += await self._deliver(item)
        return sent

    async def _deliver(self, item: OutboxItem) -> bool:
        gateway = self._gateways.get(item.channel)
        if gateway is None:
            await self._record_failure(item, DeliveryError(f"channel {item.channel} not running"))
            return False
        push = Push(
            purpose=item.purpose,
            last_inbound_at=item.last_inbound_at,
            link_url=self._link_for(item.id),
        )
        try:
            replies = [Reply.from_dict(r) for r in item.replies]
            await gateway.send(item.user_id, replies, lang=item.language, push=push)
        except DeliveryError as exc:
            await self._record_failure(item, exc)
            return False
        async with self._uow_factory() as uow:
            await uow.outbox.mark_sent(item.id, self._clock())
            await uow.commit()
        return True

    async def _record_failure(self, item: OutboxItem, error: DeliveryError) -> None:
        log.warning("outbox %s to %s failed: %s", item.id, item.channel, error.reason)
        async with self._uow_factory() as uow:
            if error.permanent:
                await uow.outbox.give_up(item.id, error.reason)
                await uow.accounts.deactivate(item.account_id)
            elif item.attempts >= MAX_ATTEMPTS:
                await uow.outbox.give_up(item.id, error.reason)
            else:
                wait = (
                    timedelta(seconds=error.retry_after)
                    if error.retry_after
                    else backoff(item.attempts)
                )
                await uow.outbox.retry_later(item.id, self._clock() + wait, error.reason)
            await uow.commit()
