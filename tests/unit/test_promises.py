"""What owners read can be held against the company (issue 18): no sample fee quoted as ours,
no price list no source has, no internal jargon, and fees point to where they are written."""

from __future__ import annotations

import pytest

from bot.faq.knowledge import read_entries
from bot.i18n import LANGUAGES, Texts
from bot.settings import PROJECT_ROOT

CONFIG = PROJECT_ROOT / "config"
TEXTS = Texts.from_dir(CONFIG / "locales", {})
#: Texts only staff read (the web console), where the company's own terms such as 督办令 belong.
STAFF_ONLY = "console."
ENTRIES = {entry.id: entry for entry in read_entries(CONFIG / "faq")[0]}


def owner_facing() -> list[tuple[str, str]]:
    """(where, text) for every locale text and FAQ answer, in both languages."""
    texts = [
        (f"{lang}:{key}", TEXTS.get(key, lang))
        for lang in LANGUAGES
        for key in TEXTS.keys(lang)
        if not key.startswith(STAFF_ONLY)
    ]
    answers = [
        (f"{lang}:faq:{entry.id}", entry.answer[lang])
        for entry in ENTRIES.values()
        for lang in ("zh", "en")
    ]
    return texts + answers


@pytest.mark.parametrize(
    "words",
    [
        "1500",  # the sample 装修保证金 of the 000 template
        "1.00元",  # the sample interim property fee
        "2.50",  # the sample debris fee
        "price list",  # no source has one
        "督办令",  # internal: owners are told what happens to them, in plain words
        "supervision order",
    ],
)
def test_no_owner_text_says(words: str) -> None:
    said = [where for where, text in owner_facing() if words.casefold() in text.casefold()]
    assert not said, said


@pytest.mark.parametrize(
    "entry_id", ["property_fee", "renovation_deposit", "renovation_debris_fee"]
)
def test_a_fee_answer_says_where_the_amount_is_written_and_offers_a_person(entry_id: str) -> None:
    answer = ENTRIES[entry_id].answer
    assert "《交房通知书》" in answer["zh"] and "收费一览表" in answer["zh"]
    assert "转人工" in answer["zh"]
    assert "handover notice" in answer["en"] and "staff" in answer["en"]
    assert "{" not in answer["zh"]  # no company figure: none is configured


def test_the_english_out_of_warranty_text_names_who_sets_the_price() -> None:
    text = TEXTS.get("repair.warranty_out_of_warranty", "en", until="2023-12-15")
    assert "staff will set the price" in text and "supervisor" in text
