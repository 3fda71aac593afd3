"""What the outbox holds, for staff and operators (`python -m bot outbox status`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.storage.repositories.outbox import STATES, DeadMessage
from bot.storage.uow import UnitOfWork

__all__ = ["STATES", "DeadMessage", "OutboxReport", "outbox_report"]


@dataclass(frozen=True)
class OutboxReport:
    #: (channel, purpose) → state → count; states as in STATES.
    counts: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    #: The latest messages given up, with why (dead) or that the owner is gone (dropped).
    given_up: list[DeadMessage] = field(default_factory=list)


async def outbox_report(
    uow_factory: Callable[[], UnitOfWork], now: datetime, *, dead_limit: int = 20
) -> OutboxReport:
    async with uow_factory() as uow:
        counts: dict[tuple[str, str], dict[str, int]] = {}
        for row in await uow.outbox.status_counts(now):
            states = counts.setdefault((row.channel, row.purpose), dict.fromkeys(STATES, 0))
            states[row.state] = states.get(row.state, 0) + row.count
        return OutboxReport(counts, await uow.outbox.given_up(dead_limit))
