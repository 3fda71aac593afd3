"""Fees as each project's own configuration (rules.yaml `fees:`).

The amounts owners pay at handover (装修保证金, 建筑垃圾清运费, the interim 物业费 …) are set
per project in its 《交房通知书》 and 收费一览表; the figures in source 000 are a sample template,
never the company's. So no fee has a default: a project's owner reads a figure only when the
company entered it for that project, with the document it is written in, and until someone
signs it off `rules check` lists it. Without one, answers say where the amount is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from bot.domain.errors import ConfigError
from bot.domain.sign_off import Basis, PendingValue

#: The fees a project may set; each has a name in the `fees` locale file (fees.name_<id>).
FEE_IDS = (
    "property_fee_interim",
    "renovation_deposit",
    "debris_removal",
    "gas_pipe",
    "intercom_door",
    "lift",
    "water_supply",
)


@dataclass(frozen=True)
class Fee:
    id: str
    amount: Decimal
    #: As the document writes it, e.g. "元/户", "元/㎡/月"; `unit_en` for English answers.
    unit: str
    unit_en: str
    #: Where owners find it in writing, e.g. "《交房通知书》（2026 年版）第三条".
    source: str
    #: Who signed the figure off and when; "" while it awaits sign-off.
    signed_off: str

    @classmethod
    def from_config(cls, fee_id: str, entry: Mapping[str, Any]) -> Fee:
        try:
            amount = Decimal(str(entry["amount"]).strip())
        except (KeyError, InvalidOperation) as exc:
            raise ValueError(f"amount: a number, not {entry.get('amount')!r}") from exc
        if not amount.is_finite() or amount <= 0:
            raise ValueError(f"amount must be positive, not {amount}")
        unit, source = str(entry.get("unit") or ""), str(entry.get("source") or "")
        if not unit.strip() or not source.strip():
            raise ValueError("needs its unit and its source document")
        return cls(
            id=fee_id,
            amount=amount,
            unit=unit,
            unit_en=str(entry.get("unit_en") or unit),
            source=source,
            signed_off=str(entry.get("signed_off") or ""),
        )


@dataclass(frozen=True)
class FeeRules:
    #: Project name (as in the roster) → fee id → its fee.
    projects: Mapping[str, Mapping[str, Fee]]

    @classmethod
    def from_config(cls, section: object) -> FeeRules:
        """`fees:` maps project → fee id → {amount, unit, unit_en?, source, signed_off?};
        empty (or absent) means no project has a fee set."""
        if section is None:
            return cls(MappingProxyType({}))
        if not isinstance(section, Mapping):
            raise ConfigError("fees: must map project names to their fees")
        projects = {}
        for project, fees in section.items():
            if not isinstance(fees, Mapping):
                raise ConfigError(f"fees.{project}: must map fee ids to amounts")
            projects[str(project)] = MappingProxyType(
                {str(fee_id): _fee(str(project), str(fee_id), fee) for fee_id, fee in fees.items()}
            )
        return cls(MappingProxyType(projects))

    def of(self, project: str, fee_ids: tuple[str, ...]) -> list[Fee]:
        """The fees among `fee_ids` the project has set, in that order."""
        own = self.projects.get(project, {})
        return [own[fee_id] for fee_id in fee_ids if fee_id in own]

    def awaiting_sign_off(self) -> tuple[PendingValue, ...]:
        """Every fee entered for a project and not yet signed off, for `rules check`."""
        return tuple(
            PendingValue(
                key=f"fees.{project}.{fee.id}",
                basis=Basis.UNSIGNED,
                value=f"{fee.amount} {fee.unit} ({fee.source})",
                owners_see=f"FAQ answers on fees, to owners of {project}",
            )
            for project, fees in self.projects.items()
            for fee in fees.values()
            if not fee.signed_off
        )


def _fee(project: str, fee_id: str, entry: object) -> Fee:
    if fee_id not in FEE_IDS:
        raise ConfigError(f"fees.{project}.{fee_id}: unknown fee; known: {', '.join(FEE_IDS)}")
    if not isinstance(entry, Mapping):
        raise ConfigError(f"fees.{project}.{fee_id}: needs amount, unit and source")
    try:
        return Fee.from_config(fee_id, entry)
    except ValueError as exc:
        raise ConfigError(f"fees.{project}.{fee_id}: {exc}") from exc
