"""Helpers the flows share: the owner's homes, choices pressed, photos refused, local times,
and how a repair category and a warranty decision read (shown by repair and by tickets).

Forms build on `bot.handlers.form`; flows that are not forms (tickets, certificate, hand-off)
use these directly, so no flow imports another flow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.complaints import Escalation, EscalationReason
from bot.domain.roster import Home
from bot.domain.warranty import WarrantyDecision, WarrantyStatus
from bot.engine.context import Context
from bot.engine.flow import pressed
from bot.engine.ports import MediaError
from bot.engine.types import Button, MessageKind
from bot.services.escalations import record_owner_message, request_person

Draft = dict[str, Any]
#: What bot/handlers/emergency.py (and the understanding of "漏水了!") hands over with.
EMERGENCY_INTENT = "emergency"
#: Whole-message texts that finish the photo step, besides its button.
DONE_WORDS = frozenset({"完成", "好了", "没有", "没有了", "跳过", "done", "finish", "skip", "none"})


def local_time(ctx: Context, moment: datetime) -> str:
    return moment.astimezone(ctx.services.settings.tz).strftime("%Y-%m-%d %H:%M")


def owner_id(ctx: Context) -> int:
    """Forms require binding (the router checks), so a bound owner is a given here."""
    assert ctx.account.owner_id is not None
    return ctx.account.owner_id


async def owner_homes(ctx: Context) -> list[Home]:
    return await ctx.uow.roster.homes_of_owner(owner_id(ctx))


def photo_error_text(ctx: Context, error: MediaError) -> str:
    """Why a photo was refused, in words the owner can act on."""
    megabytes = ctx.services.media.max_bytes // (1024 * 1024)
    return ctx.t(f"form.photo_{error.reason}", max_mb=megabytes)


def choice(ctx: Context, prefix: str, kind: str) -> str | None:
    """The value of a `<prefix>:<kind>:<value>` press, or None for anything else."""
    value = pressed(ctx.msg, prefix)
    if value is None or not value.startswith(kind + ":"):
        return None
    return value[len(kind) + 1 :]


def chosen_home(ctx: Context, prefix: str, homes: list[Home]) -> Home | None:
    """The home behind a `<prefix>:home:<unit id>` press, only if it is one of the owner's."""
    unit = choice(ctx, prefix, "home")
    return next((home for home in homes if str(home.unit_id) == unit), None)


def in_rows(buttons: list[Button], width: int = 2) -> list[list[Button]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def home_buttons(prefix: str, homes: list[Home]) -> list[list[Button]]:
    return [[Button(home.label, f"{prefix}:home:{home.unit_id}")] for home in homes]


def text_answer(ctx: Context, min_length: int = 2) -> str | None:
    """A typed answer of at least `min_length` characters, or None (a photo, a stray button)."""
    text = ctx.msg.text.strip()
    if ctx.msg.kind is not MessageKind.TEXT or len(text) < min_length:
        return None
    return text


def category_label(ctx: Context, category: str) -> str:
    return ctx.t(f"repair.category_{category}")


def warranty_text(ctx: Context, decision: WarrantyDecision, category_id: str) -> str:
    """A structure's date comes from the design life the company entered for the project, and
    says so."""
    if decision.status is WarrantyStatus.NEEDS_ASSESSMENT:
        return ctx.t(f"repair.warranty_assess_{decision.reason}")
    until = decision.until.isoformat() if decision.until else ""
    category = ctx.rules.repair.category(category_id)
    basis = "_design_life" if category and category.design_life else ""
    return ctx.t(f"repair.warranty_{decision.status.value}{basis}", until=until)


async def open_escalation(ctx: Context) -> tuple[Escalation, bool]:
    """The account's open escalation (True if new), with what the owner typed to reach us (an
    emergency, "找你们经理") as staff's first line. An emergency alerts the on-duty staff."""
    reason = (
        EscalationReason.EMERGENCY
        if ctx.prefill.get("intent") == EMERGENCY_INTENT
        else EscalationReason.HUMAN_REQUESTED
    )
    escalation, created = await request_person(
        ctx.uow,
        ctx.rules,
        ctx.account.id,
        ctx.account.owner_id,
        ctx.now,
        ctx.services.settings.tz,
        reason,
    )
    said = str(ctx.prefill.get("description", "")).strip()
    if said:
        await record_owner_message(ctx.uow, escalation.id, ctx.now, said, None)
    return escalation, created
