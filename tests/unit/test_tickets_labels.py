"""Every id the company can configure in rules.yaml has a label in both languages, so adding a
category, stage, checklist item or topic without its text fails here, not in front of an owner."""

from __future__ import annotations

import pytest

from bot.config import load_rules
from bot.domain.tickets import TicketStatus
from bot.domain.warranty import AssessmentReason, WarrantyStatus
from bot.i18n import LANGUAGES, Texts
from bot.settings import PROJECT_ROOT

RULES = load_rules(PROJECT_ROOT / "config")
TEXTS = Texts.from_dir(PROJECT_ROOT / "config" / "locales", {})
CERTIFICATE = RULES.certificate


def configured_keys() -> list[str]:
    repair = RULES.repair
    complaint = RULES.complaint
    return [
        *(f"repair.category_{c.id}" for c in repair.categories),
        *(f"certificate.stage_{stage}" for stage, _ in CERTIFICATE.stages),
        *(f"certificate.item_{item}" for item in sorted(CERTIFICATE.all_items())),
        *(f"complaint.topic_{topic}" for topic in complaint.topics),
        *(f"tickets.status_{status.value}" for status in TicketStatus),
        *(
            f"repair.warranty_{s.value}"
            for s in WarrantyStatus
            if s is not WarrantyStatus.NEEDS_ASSESSMENT
        ),
        *(f"repair.warranty_assess_{reason.value}" for reason in AssessmentReason),
    ]


@pytest.mark.parametrize("key", configured_keys())
def test_configured_id_has_a_label_in_every_language(key: str) -> None:
    for lang in LANGUAGES:
        assert key in TEXTS.keys(lang), f"{lang}: {key}"
