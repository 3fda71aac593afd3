"""The company's rules as one typed, frozen object, built once at start-up from
`config/rules.yaml` (read by `bot.config.load_rules`) and handed to flows and services.

Each domain keeps the meaning of its own section (`BindingLimits`, `RepairRules`,
`ComplaintRules`, `CertificateRules`, `SurveyRules`, `FeeRules`); this module only composes
them, so a mistake anywhere in the file stops start-up instead of a conversation step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from bot.domain.alerts import AlertRules
from bot.domain.binding import BindingLimits
from bot.domain.certificates import CertificateRules
from bot.domain.complaints import ComplaintRules
from bot.domain.errors import ConfigError, whole
from bot.domain.fees import FeeRules
from bot.domain.repair import RepairRules
from bot.domain.service_hours import ServiceHours
from bot.domain.sign_off import PendingValue, pending_values
from bot.domain.surveys import SurveyRules


@dataclass(frozen=True)
class Company:
    """Who owners deal with, and every company value a text may name ({hotline} …)."""

    name: str
    name_en: str
    hotline: str
    email: str
    #: When staff answer (company.hotline_hours); deadlines count from the next opening.
    service_hours: ServiceHours
    #: The `company` section by key, read-only: the placeholders of texts and FAQ answers.
    values: Mapping[str, object]

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> Company:
        try:
            return cls(
                name=str(section["name"]),
                name_en=str(section["name_en"]),
                hotline=str(section["hotline"]),
                email=str(section["email"]),
                service_hours=ServiceHours.parse(str(section["hotline_hours"])),
                values=MappingProxyType(dict(section)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"company: {exc!r}") from exc

    def text_values(self) -> dict[str, object]:
        """Company values every text may use: {hotline}, {company_name} …"""
        return {**self.values, "company_name": self.name, "company_name_en": self.name_en}


@dataclass(frozen=True)
class CompanyRules:
    company: Company
    binding: BindingLimits
    repair: RepairRules
    complaint: ComplaintRules
    certificate: CertificateRules
    survey: SurveyRules
    #: Each project's fees (none by default: never the sample figures of the sources).
    fees: FeeRules
    #: Who the deadline watcher's alerts are for (staff_alerts).
    alerts: AlertRules
    #: The largest photo an owner may send (repair.max_photo_bytes).
    max_photo_bytes: int
    #: DEFAULT and SAMPLE values owners see, until the company signs them off.
    awaiting_sign_off: tuple[PendingValue, ...]

    @classmethod
    def from_config(cls, raw: Mapping[str, Any]) -> CompanyRules:
        """Every section parsed now; a ConfigError names the section (and key) at fault."""
        repair = section(raw, "repair")
        try:
            max_photo_bytes = whole(repair, "max_photo_bytes")
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"repair: {exc!r}") from exc
        fees = FeeRules.from_config(raw.get("fees"))
        return cls(
            company=Company.from_config(section(raw, "company")),
            binding=BindingLimits.from_config(section(raw, "binding")),
            repair=RepairRules.from_config(repair),
            complaint=ComplaintRules.from_config(section(raw, "complaint")),
            certificate=CertificateRules.from_config(section(raw, "certificate")),
            survey=SurveyRules.from_config(section(raw, "survey")),
            fees=fees,
            alerts=AlertRules.from_config(section(raw, "staff_alerts")),
            max_photo_bytes=max_photo_bytes,
            awaiting_sign_off=pending_values(raw) + fees.awaiting_sign_off(),
        )

    @property
    def service_hours(self) -> ServiceHours:
        return self.company.service_hours


def section(raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = raw.get(name)
    if not isinstance(value, Mapping):
        raise ConfigError(f"no section {name!r}")
    return value
