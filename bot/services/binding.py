"""Binding a chat account to an owner, and undoing it: the writes behind the bind flow.

Every attempt that fails counts against the account's hourly limit (and a phone + ID attempt
also against the target phone's, under the same limit, so an owner's ID digits cannot be
guessed from many accounts); every success and every
unbinding is audited. The flow only turns a `BindResult` into words; the staff console can use
the same functions.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.binding import BindingLimits, attempt_target, code_usable
from bot.domain.roster import Account, Home
from bot.storage.uow import UnitOfWork


class BindStatus(enum.Enum):
    BOUND = "bound"
    ALREADY_YOURS = "already_yours"
    BOUND_ELSEWHERE = "bound_elsewhere"
    LOCKED_OUT = "locked_out"
    #: Failures: the code or the phone + ID did not match; `tries_left` says how often more.
    CODE_UNKNOWN = "code_unknown"
    CODE_EXPIRED = "code_expired"
    CODE_USED = "code_used"
    NO_MATCH = "no_match"


@dataclass(frozen=True)
class BindResult:
    status: BindStatus
    tries_left: int = 0
    owner_id: int | None = None
    owner_name: str = ""
    homes: list[Home] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status.value.startswith(("code_", "no_"))


async def bind_by_code(
    uow: UnitOfWork, account: Account, code: str, now: datetime, limits: BindingLimits
) -> BindResult:
    """An invite code (typed, deep link, QR scene): one-time, expiring, race-safe."""
    if await _locked_out(uow, account, now, limits):
        return BindResult(BindStatus.LOCKED_OUT)
    invite = await uow.roster.invite(code)
    if invite is None:
        return await _failed(uow, account, now, limits, BindStatus.CODE_UNKNOWN)
    if account.owner_id == invite.owner_id:
        return BindResult(BindStatus.ALREADY_YOURS)
    problem = code_usable(invite.expires_at, invite.used_at, now)
    if problem is not None:
        return await _failed(uow, account, now, limits, BindStatus(f"code_{problem}"))
    if account.is_bound:
        return BindResult(BindStatus.BOUND_ELSEWHERE)
    if not await uow.roster.consume_invite(code, account.id, now):
        return await _failed(uow, account, now, limits, BindStatus.CODE_USED)
    return await _bind(uow, account, invite.owner_id, now, method="code")


async def bind_by_phone(
    uow: UnitOfWork,
    account: Account,
    phone: str,
    id_last4: str,
    now: datetime,
    limits: BindingLimits,
    *,
    secret: str,
) -> BindResult:
    """Phone number + the last 4 characters of the ID number, as the roster has them.
    `secret` keys the target phone's failure count (SECRET_KEY)."""
    target = attempt_target(secret, phone)
    if await _locked_out(uow, account, now, limits, target):
        return BindResult(BindStatus.LOCKED_OUT)
    owner_id = await uow.roster.owner_by_phone_and_id(phone, id_last4)
    if owner_id is None:
        return await _failed(uow, account, now, limits, BindStatus.NO_MATCH, target)
    return await _bind(uow, account, owner_id, now, method="phone")


async def unbind(uow: UnitOfWork, account: Account, now: datetime) -> None:
    await uow.accounts.bind(account.id, None)
    await uow.audit.record(
        actor=_actor(account), action="unbind", subject=f"owner:{account.owner_id}", at=now
    )


async def unsubscribe(uow: UnitOfWork, account: Account) -> None:
    """The owner unfollowed: push nothing more to an account that can no longer read it."""
    await uow.accounts.deactivate(account.id)


async def _bind(
    uow: UnitOfWork, account: Account, owner_id: int, now: datetime, *, method: str
) -> BindResult:
    if account.is_bound and account.owner_id != owner_id:
        return BindResult(BindStatus.BOUND_ELSEWHERE)
    await uow.accounts.bind(account.id, owner_id)
    await uow.audit.record(
        actor=_actor(account), action="bind", subject=f"owner:{owner_id}", at=now, method=method
    )
    return BindResult(
        BindStatus.BOUND,
        owner_id=owner_id,
        owner_name=await uow.roster.owner_name(owner_id) or "",
        homes=await uow.roster.homes_of_owner(owner_id),
    )


async def _locked_out(
    uow: UnitOfWork,
    account: Account,
    now: datetime,
    limits: BindingLimits,
    target: str | None = None,
) -> bool:
    """Too many failures from this account, or (phone + ID) at this target from any."""
    since = now - limits.window
    failed = await uow.roster.failed_attempts_since(account.id, since)
    if target is not None:
        failed = max(failed, await uow.roster.failed_attempts_on_target(target, since))
    return failed >= limits.max_failed_attempts


async def _failed(
    uow: UnitOfWork,
    account: Account,
    now: datetime,
    limits: BindingLimits,
    status: BindStatus,
    target: str | None = None,
) -> BindResult:
    """Count the failure against the hourly limit; the last allowed one locks the account."""
    await uow.roster.record_failed_attempt(account.id, now, target)
    failed = await uow.roster.failed_attempts_since(account.id, now - limits.window)
    left = max(limits.max_failed_attempts - failed, 0)
    return BindResult(status if left else BindStatus.LOCKED_OUT, tries_left=left)


def _actor(account: Account) -> str:
    return f"{account.channel}:{account.id}"
