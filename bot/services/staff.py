"""Staff accounts as use cases: create, authenticate (with a guessing limit), change role,
deactivate, link a Telegram user; and the bearer tokens the REST API accepts.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second recommended
profile). Hashing and checking run in a worker thread: each costs tens of milliseconds of CPU
that must not stall the event loop every owner's message goes through.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bot.domain.signing import sign, verify
from bot.domain.staff import (
    StaffError,
    StaffRole,
    StaffUser,
    normalise_username,
    password_problem,
    username_problem,
)
from bot.storage.uow import UnitOfWork

#: Failed logins allowed per username and address within LOGIN_WINDOW. DEFAULT (not in source).
MAX_LOGIN_FAILURES = 5
LOGIN_WINDOW = timedelta(minutes=15)
#: How long an API token works. DEFAULT (not in source): one working day.
TOKEN_VALID_FOR = timedelta(hours=12)

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the username is unknown, so both failures take as long; made on
    first use, not at import (it costs as much as any hash)."""
    return _hasher.hash("not-a-real-password")


class TooManyAttempts(Exception):
    """Too many failed logins for this username from this address; try again later."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(f"too many failed logins; retry in {int(retry_after.total_seconds())} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class NewStaff:
    username: str
    password: str
    role: StaffRole
    display_name: str = ""
    telegram_user_id: int | None = None


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def _password_matches(password_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


async def create_staff(uow: UnitOfWork, new: NewStaff, actor: str, now: datetime) -> StaffUser:
    """Check the username and password, store the account, audit it; the caller commits.

    Raises `StaffError` ("bad_username", "bad_password", "duplicate")."""
    username = normalise_username(new.username)
    problem = username_problem(username)
    if problem:
        raise StaffError("bad_username", problem)
    problem = password_problem(new.password)
    if problem:
        raise StaffError("bad_password", problem)
    user = await uow.staff.add(
        username=username,
        password_hash=await hash_password(new.password),
        role=new.role,
        display_name=new.display_name.strip()[:100] or username,
        now=now,
        telegram_user_id=new.telegram_user_id,
    )
    if user is None:
        raise StaffError("duplicate", f"a staff account named {username!r} already exists")
    await uow.audit.record(
        actor=actor, action="staff_create", subject=f"staff:{username}", at=now, role=new.role.value
    )
    return user


async def authenticate(
    uow: UnitOfWork, username: str, password: str, address: str, now: datetime
) -> StaffUser | None:
    """The active account these credentials open, else None (the failure is counted; the
    caller commits either way). Raises `TooManyAttempts` while the limit holds, before any
    password is checked, so a locked-out guesser learns nothing."""
    name = normalise_username(username)
    if username_problem(name) is not None:
        name = "-"  # no such account can exist; counted under one key, never stored as given
    since = now - LOGIN_WINDOW
    if await uow.staff.failures_since(name, address, since) >= MAX_LOGIN_FAILURES:
        raise TooManyAttempts(LOGIN_WINDOW)
    found = await uow.staff.password_hash(name) if name != "-" else None
    stored = found[1] if found else await asyncio.to_thread(_dummy_hash)
    matches = await _password_matches(stored, password[:1024])
    if found is None or not matches or not found[0].active:
        await uow.staff.record_failure(name, address, now)
        return None
    await uow.staff.forget_failures(name, address)
    return found[0]


async def change_role(
    uow: UnitOfWork, username: str, role: StaffRole, actor: str, now: datetime
) -> StaffUser:
    """Raises `StaffError` ("not_found", "last_admin": the only active admin stays one)."""
    user = await _existing(uow, username)
    if user.role is StaffRole.ADMIN and role is not StaffRole.ADMIN:
        await _keep_an_admin(uow)
    await uow.staff.update(user.id, now, role=role.value)
    await uow.audit.record(
        actor=actor,
        action="staff_role",
        subject=f"staff:{user.username}",
        at=now,
        old=user.role.value,
        new=role.value,
    )
    return await _existing(uow, username)


async def set_active(
    uow: UnitOfWork, username: str, active: bool, actor: str, now: datetime
) -> StaffUser:
    """Deactivating takes effect at once: every token of the account stops working."""
    user = await _existing(uow, username)
    if not active and user.role is StaffRole.ADMIN and user.active:
        await _keep_an_admin(uow)
    await uow.staff.update(user.id, now, active=active)
    await uow.audit.record(
        actor=actor, action="staff_active", subject=f"staff:{user.username}", at=now, active=active
    )
    return await _existing(uow, username)


async def link_telegram(
    uow: UnitOfWork, username: str, telegram_user_id: int | None, actor: str, now: datetime
) -> StaffUser:
    """Who this person is in the Telegram staff group (None unlinks)."""
    user = await _existing(uow, username)
    if telegram_user_id is not None:
        holder = await uow.staff.by_telegram_user(telegram_user_id)
        if holder is not None and holder.id != user.id:
            raise StaffError("duplicate", f"Telegram user {telegram_user_id} is {holder.username}")
    await uow.staff.update(user.id, now, telegram_user_id=telegram_user_id)
    await uow.audit.record(
        actor=actor,
        action="staff_telegram",
        subject=f"staff:{user.username}",
        at=now,
        telegram_user_id=telegram_user_id,
    )
    return await _existing(uow, username)


async def staff_for_telegram_user(uow: UnitOfWork, telegram_user_id: int) -> StaffUser | None:
    """The active staff member behind a Telegram user of the staff group, else None."""
    user = await uow.staff.by_telegram_user(telegram_user_id)
    return user if user is not None and user.active else None


async def _existing(uow: UnitOfWork, username: str) -> StaffUser:
    user = await uow.staff.by_username(normalise_username(username))
    if user is None:
        raise StaffError("not_found", f"no staff account named {username!r}")
    return user


async def _keep_an_admin(uow: UnitOfWork) -> None:
    if await uow.staff.count_admins() <= 1:
        raise StaffError("last_admin", "the last active admin cannot be demoted or deactivated")


def issue_token(secret: str, user: StaffUser, now: datetime) -> str:
    """`<user id>.<expiry>.<HMAC>`: signed with SECRET_KEY, expiring after TOKEN_VALID_FOR."""
    return f"{user.id}.{sign(secret, _token_subject(user.id), now + TOKEN_VALID_FOR)}"


async def staff_for_token(
    uow: UnitOfWork, secret: str, token: str, now: datetime
) -> StaffUser | None:
    """The active account behind a valid, unexpired token (its role as it is now)."""
    user_id, _, signed = token.partition(".")
    if not user_id.isdigit() or len(user_id) > 12:
        return None
    try:
        valid = verify(secret, _token_subject(int(user_id)), signed, now.astimezone(UTC))
    except (OverflowError, ValueError, OSError):  # an expiry beyond any calendar
        return None
    if not valid:
        return None
    user = await uow.staff.get(int(user_id))
    return user if user is not None and user.active else None


def _token_subject(user_id: int) -> str:
    return f"staff-api:{user_id}"


async def list_staff(uow: UnitOfWork, active_only: bool = False) -> list[StaffUser]:
    """Staff accounts by username (the console's transfer choice lists the active ones)."""
    return [user for user in await uow.staff.list() if user.active or not active_only]
