"""Signed links open exactly one message until they expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.signing import sign, verify

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)


def test_a_signed_link_verifies_until_it_expires() -> None:
    token = sign("secret", "outbox:7", LATER)
    assert verify("secret", "outbox:7", token, NOW)
    assert verify("secret", "outbox:7", token, LATER - timedelta(seconds=1))
    assert not verify("secret", "outbox:7", token, LATER)


def test_a_token_opens_only_its_own_message_and_only_with_our_secret() -> None:
    token = sign("secret", "outbox:7", LATER)
    assert not verify("secret", "outbox:8", token, NOW)
    assert not verify("other-secret", "outbox:7", token, NOW)


def test_tampered_or_malformed_tokens_are_refused() -> None:
    expiry, _, mac = sign("secret", "outbox:7", LATER).partition(".")
    later_expiry = str(int(expiry) + 86_400)
    for token in [f"{later_expiry}.{mac}", f"{expiry}.{mac[:-1]}x", "", "abc", f"{expiry}.", ".x"]:
        assert not verify("secret", "outbox:7", token, NOW), token
