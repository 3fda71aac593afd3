"""The deadline watcher's use case: raise each alert staff must get, once.

- an escalation still waiting after its deadline (not acknowledged) → the supervisor;
- a 一级 complaint (staff's grade, else the bot's proposal) → management, at once, at any hour
  ("一把手必须第一时间亲自安排", 000; never held until service hours);
- an emergency → whoever is on duty, at any hour.

The rows are the truth: the unique (escalation, kind) key makes raising idempotent across
instances and restarts, and each alert is audit-logged in the same transaction that raises it.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.alerts import AUDIENCE_OF, AlertKind, StaffAlert
from bot.domain.complaints import (
    ComplaintGrade,
    EscalationListing,
    EscalationReason,
    EscalationStatus,
)
from bot.storage.uow import UnitOfWork

ACTOR = "system:deadline_watcher"


def kinds_due(listing: EscalationListing, now: datetime) -> list[AlertKind]:
    """The alerts an open escalation calls for right now."""
    escalation = listing.escalation
    kinds = []
    if escalation.status is EscalationStatus.WAITING and escalation.due_at < now:
        kinds.append(AlertKind.OVERDUE)
    if listing.grade is ComplaintGrade.G1:
        kinds.append(AlertKind.COMPLAINT_G1)
    if escalation.reason is EscalationReason.EMERGENCY:
        kinds.append(AlertKind.EMERGENCY)
    return kinds


async def raise_alerts(uow: UnitOfWork, now: datetime) -> int:
    """Raise what is due and not raised before; returns how many are new. The caller commits."""
    raised = 0
    for status in (EscalationStatus.WAITING, EscalationStatus.ACTIVE):
        for listing in await uow.escalations.listing(status, limit=10_000):
            for kind in kinds_due(listing, now):
                raised += await _raise(uow, listing.escalation.id, kind, now)
    return raised


async def _raise(uow: UnitOfWork, escalation_id: int, kind: AlertKind, now: datetime) -> int:
    audience = AUDIENCE_OF[kind]
    if not await uow.staff_group.add_alert(escalation_id, kind, audience, now):
        return 0
    await uow.audit.record(
        actor=ACTOR,
        action="staff_alert",
        subject=f"escalation:{escalation_id}",
        at=now,
        kind=kind.value,
        audience=audience.value,
    )
    return 1


async def list_alerts(uow: UnitOfWork, limit: int = 200) -> list[StaffAlert]:
    """Newest first, posted to the staff group or not (the console and the API show them)."""
    return await uow.staff_group.alerts(limit=limit)
