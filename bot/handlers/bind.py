"""Binding a chat account to an owner: invite code (deep link, QR scene, typed), or phone + the
last 4 characters of the ID number; unbinding; unsubscribing.
Diagram: docs/flows.md.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any, ClassVar

from bot.domain.binding import (
    looks_like_code,
    normalise_code,
    normalise_id_last4,
    normalise_phone,
)
from bot.domain.roster import mask_phone
from bot.engine.context import Context
from bot.engine.flow import Flow, Leaving, Outcome, pressed, start_button
from bot.engine.types import Button, MessageKind, Reply, button_rows
from bot.services.binding import (
    BindResult,
    BindStatus,
    bind_by_code,
    bind_by_phone,
    unbind,
    unsubscribe,
)
from bot.services.surveys import scan_revisits


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
        result = await bind_by_phone(
            ctx.uow,
            ctx.account,
            data["phone"],
            id_last4,
            ctx.now,
            ctx.rules.binding,
            secret=ctx.services.settings.secret_key,
        )
        return await self._outcome(ctx, result, retry_step="phone")

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
        result = await bind_by_code(ctx.uow, ctx.account, code, ctx.now, ctx.rules.binding)
        return await self._outcome(ctx, result, retry_step="code")

    async def _outcome(self, ctx: Context, result: BindResult, *, retry_step: str) -> Outcome:
        """What the owner reads after an attempt; a failure asks again at `retry_step`. A new
        binding also gets the latest revisit already due for the owner's homes (domain §5)."""
        if result.status is BindStatus.BOUND:
            ctx.account = replace(ctx.account, owner_id=result.owner_id)
            tz = ctx.services.settings.tz
            await scan_revisits(ctx.uow, ctx.rules.survey, ctx.now, tz, owner_id=result.owner_id)
            listing = "\n".join(f"• {home.label}" for home in result.homes)
            text = ctx.t("bind.success", name=result.owner_name, homes=listing)
            return Outcome([Reply(text)], start_flow="menu")
        if result.status is BindStatus.ALREADY_YOURS:
            return Outcome([Reply(ctx.t("bind.already_yours"))], start_flow="menu")
        if result.status is BindStatus.BOUND_ELSEWHERE:
            return Outcome([Reply(ctx.t("bind.bound_elsewhere"))])
        if result.status is BindStatus.LOCKED_OUT:
            minutes = int(ctx.rules.binding.window / timedelta(minutes=1))
            return Outcome([self._human_reply(ctx, ctx.t("bind.locked_out", minutes=minutes))])
        text = ctx.t(f"bind.{result.status.value}") + "\n"
        text += ctx.t("bind.tries_left", left=result.tries_left)
        if retry_step == "phone":
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
        await unbind(ctx.uow, ctx.account, ctx.now)
        ctx.account = replace(ctx.account, owner_id=None)
        return Outcome([Reply(ctx.t("bind.unbound"))])


class UnsubscribeFlow(Flow):
    """The owner unfollowed the 公众号: stop pushing to an account that can no longer read."""

    name = "unsubscribe"
    events = ("unsubscribe",)
    requires_binding = False
    leaving: ClassVar[Leaving] = Leaving.DISCARD

    async def start(self, ctx: Context, argument: str) -> Outcome:
        await unsubscribe(ctx.uow, ctx.account)
        return Outcome()
