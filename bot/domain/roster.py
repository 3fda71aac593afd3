"""The owner's world as flows see it: accounts, owners and their homes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class Account:
    id: int
    channel: str
    user_id: str
    owner_id: int | None
    language: str
    active: bool = True
    last_inbound_at: datetime | None = None

    @property
    def is_bound(self) -> bool:
        return self.owner_id is not None


@dataclass(frozen=True)
class Home:
    """One unit an owner is bound to."""

    unit_id: int
    project: str
    building: str
    number: str
    area_m2: Decimal | None
    handover_date: date | None

    @property
    def label(self) -> str:
        return f"{self.project} {self.building}-{self.number}"


def mask_id_last4(id_last4: str) -> str:
    """Only the ID's last 4 characters are kept at all; staff screens show the last 2."""
    return f"**{id_last4[-2:]}" if len(id_last4) > 2 else "*" * len(id_last4)


def mask_phone(phone: str) -> str:
    """Phones appear in UIs and logs as 138****1234: enough to recognise, not to misuse."""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"
