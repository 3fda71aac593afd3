"""Alerts to staff: an escalation not acknowledged by its deadline (to the supervisor), a 一级
complaint (to management, at once, at any hour) and an emergency (to whoever is on duty, at any
hour). Who each audience is comes from rules.yaml `staff_alerts` (staff roles)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.errors import ConfigError
from bot.domain.staff import StaffRole


class AlertKind(enum.StrEnum):
    OVERDUE = "overdue"
    COMPLAINT_G1 = "complaint_g1"
    EMERGENCY = "emergency"


class Audience(enum.StrEnum):
    SUPERVISOR = "supervisor"
    MANAGEMENT = "management"
    ON_DUTY = "on_duty"


#: Who must act on each kind of alert.
AUDIENCE_OF = {
    AlertKind.OVERDUE: Audience.SUPERVISOR,
    AlertKind.COMPLAINT_G1: Audience.MANAGEMENT,
    AlertKind.EMERGENCY: Audience.ON_DUTY,
}


@dataclass(frozen=True)
class StaffAlert:
    id: int
    escalation_id: int
    kind: AlertKind
    audience: Audience
    created_at: datetime
    posted_at: datetime | None


@dataclass(frozen=True)
class AlertRules:
    """The staff role each audience means (rules.yaml `staff_alerts`)."""

    roles: Mapping[Audience, StaffRole]

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> AlertRules:
        try:
            return cls({audience: StaffRole(str(section[audience.value])) for audience in Audience})
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"staff_alerts: {exc!r}") from exc
