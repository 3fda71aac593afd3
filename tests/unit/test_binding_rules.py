"""Pure binding rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.binding import (
    CODE_ALPHABET,
    code_usable,
    looks_like_code,
    new_code,
    normalise_code,
    normalise_id_last4,
    normalise_phone,
)
from bot.domain.roster import mask_phone

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_new_codes_avoid_ambiguous_characters_and_are_valid() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(looks_like_code(code) for code in codes)
    assert not set("01OIL") & set(CODE_ALPHABET)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("dema2345", "DEMA2345"),
        ("DEMA 2345", "DEMA2345"),
        ("dema-2345", "DEMA2345"),
        ("ＤＥＭＡ２３４５", "DEMA2345"),
        ("qrscene_DEMA2345", "DEMA2345"),
    ],
)
def test_codes_are_normalised_as_owners_type_them(typed: str, code: str) -> None:
    assert normalise_code(typed) == code


@pytest.mark.parametrize("typed", ["DEMA234", "DEMO2345", "hello", "", "DEMA23456"])
def test_non_codes_are_recognised(typed: str) -> None:
    assert not looks_like_code(typed)


@pytest.mark.parametrize(
    ("typed", "phone"),
    [
        ("13800000001", "13800000001"),
        ("+86 138-0000-0001", "13800000001"),
        ("008613800000001", "13800000001"),
        ("8613800000001", "13800000001"),
        ("1380000000", None),
        ("23800000001", None),
        ("abc", None),
    ],
)
def test_phone_numbers(typed: str, phone: str | None) -> None:
    assert normalise_phone(typed) == phone


@pytest.mark.parametrize(
    ("typed", "value"), [("123x", "123X"), ("0000", "0000"), ("12X4", None), ("12", None)]
)
def test_id_last4(typed: str, value: str | None) -> None:
    assert normalise_id_last4(typed) == value


def test_code_usability() -> None:
    later = NOW + timedelta(days=1)
    assert code_usable(later, None, NOW) is None
    assert code_usable(NOW, None, NOW) == "expired"
    assert code_usable(later, NOW, NOW) == "used"


def test_phones_are_masked_for_display() -> None:
    assert mask_phone("13800001234") == "138****1234"
    assert mask_phone("123") == "***"
