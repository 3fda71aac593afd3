"""Staff accounts and what each role may do.

Roles are ordered: a supervisor may do everything an agent may, an admin everything a
supervisor may. The sources give 客服部 staff the grading of complaints ("根据影响程度", 000) and
make the first person to take a hand-off own it until a transfer (首问责任制, 000); which role
does what beyond that is DEFAULT (not in source), documented in docs/staff.md.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime

#: NIST SP 800-63B's minimum for a memorised secret. DEFAULT (not in source).
MIN_PASSWORD_LENGTH = 8
#: argon2 hashes any length; this only stops a megabyte "password" from costing a hash.
MAX_PASSWORD_LENGTH = 256
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}[a-z0-9]")


class StaffRole(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(StaffRole).index(self)

    def allows(self, needed: StaffRole) -> bool:
        return self.rank >= needed.rank


class StaffError(Exception):
    """A staff-account request the rules refuse; `reason` is a short code, `str()` explains."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class StaffUser:
    id: int
    username: str
    role: StaffRole
    display_name: str
    active: bool
    #: Set when the person acts from the Telegram staff group too.
    telegram_user_id: int | None
    created_at: datetime

    @property
    def actor(self) -> str:
        """How audit rows and ticket events name this person."""
        return f"staff:{self.username}"


def normalise_username(raw: str) -> str:
    return raw.strip().casefold()


def username_problem(username: str) -> str | None:
    if not USERNAME_PATTERN.fullmatch(username):
        return (
            "the username must be 2-64 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit"
        )
    return None


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password must be at most {MAX_PASSWORD_LENGTH} characters"
    if "\x00" in password:
        return "the password must not contain NUL characters"
    return None
