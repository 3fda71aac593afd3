"""Binding a chat account to an owner: invite code (deep link, QR scene, typed), or phone + the
last 4 characters of the ID number; unbinding; unsubscribing.

```mermaid
stateDiagram-v2
    [*] --> code: /start, 绑定, subscribe (no code)
    [*] --> bound: /start CODE, 绑定 CODE, QR scene
    code --> bound: valid code
    code --> phone: "use my phone"
    [*] --> id_last4: contact shared
    phone --> id_last4: phone typed
    id_last4 --> bound: roster match
    bound --> [*]: menu
```
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import timedelta
from typing import Any, ClassVar

from bot.domain.binding import (
    BindingLimits,
    code_usable,
    looks_like_code,
    normalise_code,
    normalise_id_last4,
    normalise_phone,
)
from bot.domain.roster import mask_phone
from bot.engine.context import Context
from bot.engine.flow import Flow, Leaving, Outcome, pressed, start_button
from bot.engine.types import Button, MessageKind, Reply, button_rows


def _limits(ctx: Context) -> BindingLimits:
    return ctx.rules.parsed("binding", BindingLimits.from_config)


class BindFlow(Flow):
    name = "bind"
    commands = ("/start", "/bind", "绑定", "bind")
    events = ("subscribe", "scan", "contact")
    requires_binding = False

    async def start(self, ctx: Context, argument: str) -> Outcome:
        if ctx.msg.kind is MessageKind.CONTACT:
            return await self._phone_given(ctx, argument)
        if argument and looks_like_code(argument):
            return await self._try_code(ctx, normalise_code(argument))
        if ctx.account.is_bound:
            return Outcome(start_flow="menu")
        if argument:
            return self._ask_code(ctx, ctx.t("bind.code_format"))
        return self._ask_code(ctx, ctx.t("bind.welcome"))

    async def step_code(self, ctx: Context, data: dict[str, Any]) -> Outcome:
        if pressed(ctx.msg, self.name) == "phone":
            return self._ask_phone(ctx)
        if looks_like_code(ctx.msg.text):
            return await self._try_code(ctx, normalise_code(ctx.msg.text))
        phone = normalise_phone(ctx.msg.text)
        if phone is not None:
            return await self._phone_given(ctx, phone)
        return self._ask_code(ctx, ctx.t("bind.code_format"))

    async def step_phone(self, ctx: Context, data: dict[str, Any]) -> Outcome:
        if pressed(ctx.msg, self.name) == "code":
            return self._ask_code(ctx, ctx.t("bind.ask_code"))
        return await self._phone_given(ctx, ctx.msg.phone or ctx.msg.text)

    async def step_id_last4(self, ctx: Context, data: dict[str, Any]) -> Outcome:
        if pressed(ctx.msg, self.name) == "phone":
            return self._ask_phone(ctx)
        id_last4 = normalise_id_last4(ctx.msg.text)
        if id_last4 is None:
            return Outcome([Reply(ctx.t("bind.id_format"))], next_step="id_last4", data=data)
        target = attempt_target(ctx.services.settings.secret_key, data["phone"])
        if await self._locked_out(ctx, target):
            return self._locked_out_outcome(ctx)
        owner_id = await ctx.uow.roster.owner_by_phone_and_id(data["phone"], id_last4)
        if owner_id is None:
            return await self._failed(ctx, "bind.no_match", next_step="phone", target=target)
        return await self._bind(ctx, owner_id, method="phone")

    async def _phone_given(self, ctx: Context, raw_phone: str) -> Outcome:
        phone = normalise_phone(raw_phone)
        if phone is None:
            return Outcome([self._phone_prompt(ctx, ctx.t("bind.phone_format"))], next_step="phone")
        return Outcome(
            [
                Reply(
                    ctx.t("bind.ask_id_last4", phone=mask_phone(phone)),
                    buttons=button_rows([Button(ctx.t("bind.button_back"), "bind:phone")]),
                )
            ],
            next_step="id_last4",
            data={"phone": phone},
        )

    async def _try_code(self, ctx: Context, code: str) -> Outcome:
        if await self._locked_out(ctx):
            return self._locked_out_outcome(ctx)
        invite = await ctx.uow.roster.invite(code)
        if invite is None:
            return await self._failed(ctx, "bind.code_unknown", next_step="code")
        if ctx.account.owner_id == invite.owner_id:
            return Outcome([Reply(ctx.t("bind.already_yours"))], start_flow="menu")
        problem = code_usable(invite.expires_at, invite.used_at, ctx.now)
        if problem is not None:
            return await self._failed(ctx, f"bind.code_{problem}", next_step="code")
        if ctx.account.is_bound:
            return Outcome([Reply(ctx.t("bind.bound_elsewhere"))])
        if not await ctx.uow.roster.consume_invite(code, ctx.account.id, ctx.now):
            return await self._failed(ctx, "bind.code_used", next_step="code")
        return await self._bind(ctx, invite.owner_id, method="code")

    async def _bind(self, ctx: Context, owner_id: int, *, method: str) -> Outcome:
        if ctx.account.is_bound and ctx.account.owner_id != owner_id:
            return Outcome([Reply(ctx.t("bind.bound_elsewhere"))])
        await ctx.uow.accounts.bind(ctx.account.id, owner_id)
        ctx.account = replace(ctx.account, owner_id=owner_id)
        await ctx.uow.audit.record(
            actor=f"{ctx.account.channel}:{ctx.account.id}",
            action="bind",
            subject=f"owner:{owner_id}",
            at=ctx.now,
            method=method,
        )
        name = await ctx.uow.roster.owner_name(owner_id) or ""
        homes = await ctx.uow.roster.homes_of_owner(owner_id)
        listing = "\n".join(f"• {home.label}" for home in homes)
        return Outcome([Reply(ctx.t("bind.success", name=name, homes=listing))], start_flow="menu")

    async def _locked_out(self, ctx: Context, target: str | None = None) -> bool:
        """Too many failures from this account, or (phone + ID) at this owner from any: the
        same limit per target stops guessing an owner's ID digits from many accounts."""
        limits = _limits(ctx)
        since = ctx.now - limits.window
        failed = await ctx.uow.roster.failed_attempts_since(ctx.account.id, since)
        if target is not None:
            failed = max(failed, await ctx.uow.roster.failed_attempts_on_target(target, since))
        return failed >= limits.max_failed_attempts

    def _locked_out_outcome(self, ctx: Context) -> Outcome:
        minutes = int(_limits(ctx).window / timedelta(minutes=1))
        return Outcome([self._human_reply(ctx, ctx.t("bind.locked_out", minutes=minutes))])

    async def _failed(
        self, ctx: Context, key: str, *, next_step: str, target: str | None = None
    ) -> Outcome:
        """Count the failure against the hourly limit and say how many tries are left."""
        await ctx.uow.roster.record_failed_attempt(ctx.account.id, ctx.now, target)
        limits = _limits(ctx)
        failed = await ctx.uow.roster.failed_attempts_since(ctx.account.id, ctx.now - limits.window)
        left = max(limits.max_failed_attempts - failed, 0)
        if left == 0:
            return self._locked_out_outcome(ctx)
        text = ctx.t(key) + "\n" + ctx.t("bind.tries_left", left=left)
        if next_step == "phone":
            return Outcome([self._phone_prompt(ctx, text)], next_step="phone")
        return self._ask_code(ctx, text)

    def _ask_code(self, ctx: Context, text: str) -> Outcome:
        buttons = button_rows(
            [Button(ctx.t("bind.button_phone"), "bind:phone")],
            [start_button(ctx.t("bind.button_human"), "handoff")],
            [start_button(ctx.t("bind.button_faq"), "faq")],
        )
        return Outcome([Reply(text, buttons=buttons)], next_step="code")

    def _ask_phone(self, ctx: Context) -> Outcome:
        return Outcome([self._phone_prompt(ctx, ctx.t("bind.ask_phone"))], next_step="phone")

    def _phone_prompt(self, ctx: Context, text: str) -> Reply:
        buttons = button_rows([Button(ctx.t("bind.button_code"), "bind:code")])
        return Reply(text, buttons=buttons, request_contact=True)

    def _human_reply(self, ctx: Context, text: str) -> Reply:
        return Reply(
            text, buttons=button_rows([start_button(ctx.t("bind.button_human"), "handoff")])
        )


def attempt_target(secret: str, phone: str) -> str:
    """The key failed attempts at one owner are counted under: keyed, because a plain hash of
    an 11-digit phone number is reversed by trying them all."""
    return hmac.new(secret.encode(), phone.encode(), hashlib.sha256).hexdigest()


class UnbindFlow(Flow):
    name = "unbind"
    commands = ("/unbind", "解绑", "unbind")

    async def start(self, ctx: Context, argument: str) -> Outcome:
        buttons = button_rows(
            [Button(ctx.t("bind.button_unbind_yes"), "unbind:yes")],
            [Button(ctx.t("bind.button_unbind_no"), "unbind:no")],
        )
        return Outcome([Reply(ctx.t("bind.unbind_confirm"), buttons=buttons)], next_step="confirm")

    async def step_confirm(self, ctx: Context, data: dict[str, Any]) -> Outcome:
        if pressed(ctx.msg, self.name) != "yes":
            return Outcome(start_flow="menu")
        await ctx.uow.accounts.bind(ctx.account.id, None)
        await ctx.uow.audit.record(
            actor=f"{ctx.account.channel}:{ctx.account.id}",
            action="unbind",
            subject=f"owner:{ctx.account.owner_id}",
            at=ctx.now,
        )
        ctx.account = replace(ctx.account, owner_id=None)
        return Outcome([Reply(ctx.t("bind.unbound"))])


class UnsubscribeFlow(Flow):
    """The owner unfollowed the 公众号: stop pushing to an account that can no longer read."""

    name = "unsubscribe"
    events = ("unsubscribe",)
    requires_binding = False
    leaving: ClassVar[Leaving] = Leaving.DISCARD

    async def start(self, ctx: Context, argument: str) -> Outcome:
        await ctx.uow.accounts.deactivate(ctx.account.id)
        return Outcome()
