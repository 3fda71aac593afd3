"""Every write of a hand-off to a person, from the owner's chat, the staff API, the console or
the Telegram staff group:

    waiting ──claim──▶ active ──close──▶ closed
       │   (the owner is told who     │  (the owner is told, the bot resumes,
       │    answers; the bot falls    │   a short satisfaction question follows)
       └───── silent from here) ──────┘  the owner may end it at any time

Staff replies reach the owner through the outbox (`purpose="escalation_reply"`): Telegram
directly, WeChat as 客服消息 within 48 hours of the owner's last message, else a template message
linking to the signed page with the whole text. Notes stay with staff. Every staff action is in
the audit log. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.complaints import (
    Complaint,
    Escalation,
    EscalationError,
    EscalationListing,
    EscalationMessage,
    EscalationReason,
    EscalationStatus,
    MessageAuthor,
    Satisfaction,
)
from bot.domain.rules import CompanyRules
from bot.domain.staff import StaffRole, StaffUser
from bot.i18n import Texts
from bot.services.notify import notify_account
from bot.storage.uow import UnitOfWork

#: The conversation flow and steps a hand-off holds the owner's chat in (bot/handlers/handoff.py).
HANDOFF_FLOW = "handoff"
WAITING_STEP = "waiting"
ACTIVE_STEP = "active"
HANDOFF_FLOW_VERSION = 1
PURPOSE = "escalation_reply"
#: The longest staff message or note; the owner's channel limits are well above it.
MAX_TEXT = 2000


@dataclass(frozen=True)
class EscalationDetail:
    listing: EscalationListing
    #: The whole conversation, notes included (`internal`); for staff eyes only.
    messages: list[EscalationMessage]


# --- the owner's side -------------------------------------------------------------------------


async def request_person(
    uow: UnitOfWork,
    rules: CompanyRules,
    account_id: int,
    owner_id: int | None,
    now: datetime,
    tz: ZoneInfo,
) -> tuple[Escalation, bool]:
    """The account's open escalation, or a new one due at the first-reply time; True if new."""
    existing = await uow.escalations.open_for_account(account_id)
    if existing is not None:
        return existing, False
    reason = EscalationReason.HUMAN_REQUESTED
    return await _waiting(uow, rules, account_id, owner_id, reason, now, tz), True


async def escalate_low_score(
    uow: UnitOfWork,
    rules: CompanyRules,
    account_id: int,
    owner_id: int,
    summary: str,
    now: datetime,
    tz: ZoneInfo,
) -> Escalation:
    """A low survey score hands the owner to staff with what they said: added to the
    account's open escalation, or a new one due at the first-reply time (as `request_person`)."""
    escalation = await uow.escalations.open_for_account(account_id)
    if escalation is None:
        reason = EscalationReason.LOW_SCORE
        escalation = await _waiting(uow, rules, account_id, owner_id, reason, now, tz)
    await record_owner_message(uow, escalation.id, now, summary, None)
    return escalation


async def _waiting(
    uow: UnitOfWork,
    rules: CompanyRules,
    account_id: int,
    owner_id: int | None,
    reason: EscalationReason,
    now: datetime,
    tz: ZoneInfo,
) -> Escalation:
    """A new escalation, due at the first-reply time after the next service hour."""
    return await uow.escalations.add(
        account_id=account_id,
        owner_id=owner_id,
        reason=reason,
        due_at=rules.complaint.first_reply_due(now.astimezone(tz), rules.service_hours),
        now=now,
    )


async def open_for_complaint(uow: UnitOfWork, complaint: Complaint, now: datetime) -> Escalation:
    """A filed complaint waits for staff, due when its 督办令 is."""
    return await uow.escalations.add(
        account_id=complaint.details.account_id,
        owner_id=complaint.details.owner_id,
        reason=EscalationReason.COMPLAINT,
        due_at=complaint.details.order_due,
        now=now,
        complaint_id=complaint.id,
    )


async def record_owner_message(
    uow: UnitOfWork, escalation_id: int, now: datetime, text: str, photo_path: str | None
) -> int:
    return await uow.escalations.add_message(
        escalation_id, MessageAuthor.OWNER, now, text, photo_path=photo_path
    )


async def end_by_owner(
    uow: UnitOfWork, account_id: int, now: datetime, notice: str
) -> Escalation | None:
    """The owner pressed "end" or typed it: the open escalation closes, and `notice` (what the
    bot answers) stays in the conversation for staff; None if nothing was open."""
    escalation = await uow.escalations.open_for_account(account_id)
    if escalation is None or not await uow.escalations.close(escalation.id, now, "owner"):
        return None
    await uow.escalations.add_message(escalation.id, MessageAuthor.BOT, now, notice)
    return escalation


async def rate(
    uow: UnitOfWork, account_id: int, escalation_id: int, value: str, now: datetime
) -> bool:
    """The owner's answer to the question after closing; only theirs, only once."""
    escalation = await uow.escalations.get(escalation_id)
    if escalation is None or escalation.account_id != account_id:
        return False
    try:
        satisfaction = Satisfaction(value)
    except ValueError:
        return False
    if not await uow.escalations.rate(escalation_id, satisfaction):
        return False
    await uow.audit.record(
        actor=f"account:{account_id}",
        action="escalation_rated",
        subject=_subject(escalation_id),
        at=now,
        satisfaction=satisfaction.value,
    )
    return True


def rating_buttons(escalation_id: int) -> list[tuple[str, str]]:
    """(label key, data) of the satisfaction question."""
    return [
        (f"handoff.button_{value.value}", f"{HANDOFF_FLOW}:rate:{escalation_id}:{value.value}")
        for value in Satisfaction
    ]


# --- the staff side ---------------------------------------------------------------------------


async def list_escalations(
    uow: UnitOfWork, status: EscalationStatus | None = None, limit: int = 200
) -> list[EscalationListing]:
    """Soonest deadline first."""
    return await uow.escalations.listing(status, limit=limit)


async def overdue_escalations(uow: UnitOfWork, now: datetime) -> list[EscalationListing]:
    """Waiting escalations whose deadline has passed: what the deadline watcher alerts on."""
    return await uow.escalations.listing(EscalationStatus.WAITING, due_before=now)


async def escalation_detail(
    uow: UnitOfWork, escalation_id: int, after_message_id: int = 0
) -> EscalationDetail | None:
    """The escalation and its conversation (only messages newer than `after_message_id`)."""
    found = await uow.escalations.listing(escalation_id=escalation_id)
    if not found:
        return None
    messages = await uow.escalations.messages(escalation_id, after_id=after_message_id)
    return EscalationDetail(found[0], messages)


async def conversation(uow: UnitOfWork, listing: EscalationListing) -> list[EscalationMessage]:
    """Everything said in a listed escalation, notes included."""
    return await uow.escalations.messages(listing.escalation.id)


async def claim(
    uow: UnitOfWork, texts: Texts, escalation_id: int, staff: StaffUser, now: datetime
) -> Escalation:
    """Take a waiting escalation: the owner is told who answers and the bot goes silent.
    Claiming one's own again changes nothing. Raises `EscalationError` ("not_found",
    "closed", "already_claimed", "changed_meanwhile")."""
    escalation = await _existing(uow, escalation_id)
    if escalation.status is EscalationStatus.CLOSED:
        raise EscalationError("closed")
    if escalation.status is EscalationStatus.ACTIVE:
        if escalation.assigned_to == staff.username:
            return escalation
        raise EscalationError("already_claimed")
    if not await uow.escalations.claim(escalation.id, staff.username, now):
        raise EscalationError("changed_meanwhile")
    await _tell_owner(uow, texts, escalation, now, "handoff.claimed", name=staff.display_name)
    await _hold_conversation(uow, escalation, now)
    await _audit(uow, staff, "escalation_claim", escalation.id, now)
    return await _existing(uow, escalation.id)


async def reply(
    uow: UnitOfWork,
    texts: Texts,
    escalation_id: int,
    staff: StaffUser,
    text: str,
    now: datetime,
    photo_path: str | None = None,
) -> EscalationMessage:
    """Relay a staff message (and photo) to the owner. Answering a waiting escalation claims it
    first. Raises `EscalationError` ("empty", "too_long", "closed", "assigned_to_other" …)."""
    text = _checked_text(text, allow_empty=photo_path is not None)
    escalation = await _existing(uow, escalation_id)
    if escalation.status is EscalationStatus.CLOSED:
        raise EscalationError("closed")
    if escalation.status is EscalationStatus.WAITING:
        escalation = await claim(uow, texts, escalation_id, staff, now)
    _check_may_act(escalation, staff)
    message_id = await uow.escalations.add_message(
        escalation.id,
        MessageAuthor.STAFF,
        now,
        text,
        author=staff.username,
        photo_path=photo_path,
    )
    account = await uow.accounts.get(escalation.account_id)
    if account is not None:
        await notify_account(
            uow,
            texts,
            account,
            "handoff.staff_reply",
            purpose=PURPOSE,
            idempotency_key=f"escalation:{escalation.id}:message:{message_id}",
            now=now,
            values={"name": staff.display_name, "text": text},
            photo_path=photo_path,
        )
    await _audit(uow, staff, "escalation_reply", escalation.id, now, message_id=message_id)
    return (await uow.escalations.messages(escalation.id, after_id=message_id - 1))[0]


async def add_note(
    uow: UnitOfWork, escalation_id: int, staff: StaffUser, text: str, now: datetime
) -> EscalationMessage:
    """A note for colleagues; the owner never sees it. Closed escalations take notes too."""
    text = _checked_text(text)
    escalation = await _existing(uow, escalation_id)
    message_id = await uow.escalations.add_message(
        escalation.id, MessageAuthor.STAFF, now, text, author=staff.username, internal=True
    )
    await _audit(uow, staff, "escalation_note", escalation.id, now, message_id=message_id)
    return (await uow.escalations.messages(escalation.id, after_id=message_id - 1))[0]


async def transfer(
    uow: UnitOfWork,
    texts: Texts,
    escalation_id: int,
    staff: StaffUser,
    to_username: str,
    now: datetime,
) -> Escalation:
    """Hand an escalation to another active staff member (首问责任制: only explicitly); the
    owner is told who answers now. Raises `EscalationError` ("unknown_staff", "closed" …)."""
    target = await uow.staff.by_username(to_username.strip().casefold())
    if target is None or not target.active:
        raise EscalationError("unknown_staff")
    escalation = await _existing(uow, escalation_id)
    if escalation.status is EscalationStatus.CLOSED:
        raise EscalationError("closed")
    if escalation.assigned_to == target.username:
        return escalation
    if escalation.status is EscalationStatus.WAITING:
        moved = await uow.escalations.claim(escalation.id, target.username, now)
    else:
        moved = await uow.escalations.reassign(
            escalation.id, escalation.assigned_to or "", target.username
        )
    if not moved:
        raise EscalationError("changed_meanwhile")
    await _tell_owner(uow, texts, escalation, now, "handoff.transferred", name=target.display_name)
    await _hold_conversation(uow, escalation, now)
    await _audit(
        uow,
        staff,
        "escalation_transfer",
        escalation.id,
        now,
        previous=escalation.assigned_to,
        to=target.username,
    )
    return await _existing(uow, escalation.id)


async def close(
    uow: UnitOfWork, texts: Texts, escalation_id: int, staff: StaffUser, now: datetime
) -> Escalation:
    """End the hand-off: the owner is told and asked how it went, and the bot answers again."""
    escalation = await _existing(uow, escalation_id)
    if escalation.status is EscalationStatus.CLOSED:
        raise EscalationError("closed")
    _check_may_act(escalation, staff)
    if not await uow.escalations.close(escalation.id, now, staff.actor):
        raise EscalationError("changed_meanwhile")
    buttons = rating_buttons(escalation.id)
    await _tell_owner(uow, texts, escalation, now, "handoff.closed", buttons=buttons)
    await _release_conversation(uow, escalation, now, texts, buttons)
    await _audit(uow, staff, "escalation_close", escalation.id, now)
    return await _existing(uow, escalation.id)


# --- helpers ----------------------------------------------------------------------------------


def _checked_text(text: str, allow_empty: bool = False) -> str:
    text = text.strip()
    if not text and not allow_empty:
        raise EscalationError("empty")
    if len(text) > MAX_TEXT:
        raise EscalationError("too_long")
    return text


def _check_may_act(escalation: Escalation, staff: StaffUser) -> None:
    """首问责任制: an active escalation is its assignee's; supervisors and admins may step in."""
    if (
        escalation.status is EscalationStatus.ACTIVE
        and escalation.assigned_to != staff.username
        and not staff.role.allows(StaffRole.SUPERVISOR)
    ):
        raise EscalationError("assigned_to_other")


async def _existing(uow: UnitOfWork, escalation_id: int) -> Escalation:
    escalation = await uow.escalations.get(escalation_id)
    if escalation is None:
        raise EscalationError("not_found")
    return escalation


async def _tell_owner(
    uow: UnitOfWork,
    texts: Texts,
    escalation: Escalation,
    now: datetime,
    key: str,
    buttons: list[tuple[str, str]] | None = None,
    **values: Any,
) -> None:
    """Push a bot notice to the owner's chat and keep it in the conversation staff read."""
    account = await uow.accounts.get(escalation.account_id)
    if account is None:
        return
    text = texts.get(key, account.language, **values)
    message_id = await uow.escalations.add_message(escalation.id, MessageAuthor.BOT, now, text)
    await notify_account(
        uow,
        texts,
        account,
        key,
        purpose=PURPOSE,
        idempotency_key=f"escalation:{escalation.id}:message:{message_id}",
        now=now,
        values=values,
        buttons=buttons or (),
    )


async def _hold_conversation(uow: UnitOfWork, escalation: Escalation, now: datetime) -> None:
    """Put the owner's chat into the silent hand-off step; a form they were filling in is
    paused (kept) for later. Raises StaleConversation if the owner's message changed it first."""
    state = await uow.conversations.load(escalation.account_id)
    if state.flow != HANDOFF_FLOW:
        state.pause(now.isoformat())
    state.flow, state.step, state.flow_version = HANDOFF_FLOW, ACTIVE_STEP, HANDOFF_FLOW_VERSION
    state.data = {"escalation_id": escalation.id}
    state.offered = []
    await uow.conversations.save(state, now)


async def _release_conversation(
    uow: UnitOfWork,
    escalation: Escalation,
    now: datetime,
    texts: Texts,
    buttons: list[tuple[str, str]],
) -> None:
    """The bot answers again; typed "1".."3" (WeChat) answer the satisfaction question — unless
    the owner had walked on into another flow, whose numbered options stay as they are."""
    state = await uow.conversations.load(escalation.account_id)
    if state.flow not in (HANDOFF_FLOW, None):
        return
    state.clear()
    account = await uow.accounts.get(escalation.account_id)
    lang = account.language if account else "zh"
    state.offered = [[texts.get(label, lang), data] for label, data in buttons]
    await uow.conversations.save(state, now)


async def _audit(
    uow: UnitOfWork,
    staff: StaffUser,
    action: str,
    escalation_id: int,
    now: datetime,
    **detail: Any,
) -> None:
    await uow.audit.record(
        actor=staff.actor, action=action, subject=_subject(escalation_id), at=now, **detail
    )


def _subject(escalation_id: int) -> str:
    return f"escalation:{escalation_id}"
