"""Rules for binding a chat account to an owner: invite codes, phone + ID check, rate limits."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain.errors import ConfigError, whole

#: No 0/O, 1/I/L: codes are printed on paper and typed by hand.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
_CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
_PHONE_RE = re.compile(r"^1\d{10}$")
_ID_LAST4_RE = re.compile(r"^\d{3}[\dX]$")


@dataclass(frozen=True)
class BindingLimits:
    max_failed_attempts: int
    window: timedelta
    code_valid_for: timedelta

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> BindingLimits:
        try:
            return cls(
                max_failed_attempts=whole(section, "max_failed_attempts"),
                window=timedelta(minutes=whole(section, "failed_attempt_window_minutes")),
                code_valid_for=timedelta(days=whole(section, "invite_code_valid_days")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"binding: {exc!r}") from exc


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """Owners type codes with spaces, dashes, lower case or full-width letters."""
    folded = unicodedata.normalize("NFKC", text).strip().upper().removeprefix("QRSCENE_")
    return re.sub(r"[\s\-_]", "", folded)


def looks_like_code(text: str) -> bool:
    return bool(_CODE_RE.match(normalise_code(text)))


def normalise_phone(text: str) -> str | None:
    """Mainland mobile numbers, with or without +86 and separators; None when not one."""
    digits = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", text))
    digits = digits.removeprefix("+").removeprefix("0086")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if _PHONE_RE.match(digits) else None


def normalise_id_last4(text: str) -> str | None:
    value = unicodedata.normalize("NFKC", text).strip().upper()
    return value if _ID_LAST4_RE.match(value) else None


def code_usable(expires_at: datetime, used_at: datetime | None, now: datetime) -> str | None:
    """Why an invite code cannot be used ("used", "expired"), or None when it can."""
    if used_at is not None:
        return "used"
    if expires_at <= now:
        return "expired"
    return None


def attempt_target(secret: str, phone: str) -> str:
    """The key failed phone + ID attempts at one owner are counted under: keyed, because a
    plain hash of an 11-digit phone number is reversed by trying them all."""
    return hmac.new(secret.encode(), phone.encode(), hashlib.sha256).hexdigest()
