"""When the bot is unsure (a message that reads two ways, a photo sent outside any form), it
asks with buttons instead of silently misfiling the owner's words; the chosen flow starts with
what was said (and the photo attached)."""

from __future__ import annotations

from typing import Any

from bot.engine.context import Context
from bot.engine.flow import Flow, Outcome, pressed, start_button
from bot.engine.ports import MediaError
from bot.engine.types import Button, MessageKind, Reply, button_rows
from bot.handlers.common import photo_error_text


class ClarifyFlow(Flow):
    name = "clarify"
    requires_binding = False
    releases_text = True

    async def start(self, ctx: Context, argument: str) -> Outcome:
        if ctx.msg.kind is MessageKind.PHOTO:
            return await self._offer_repair(ctx)
        options = [str(option) for option in ctx.prefill.get("options", [])]
        buttons = [
            [Button(ctx.t(f"understanding.option_{option}"), f"clarify:pick:{option}")]
            for option in options
        ]
        text = ctx.t("understanding.which_one", text=ctx.prefill.get("description", ""))
        reply = Reply(text, buttons=button_rows(*buttons, [self._menu(ctx)]))
        return Outcome([reply], next_step="choose", data={"prefill": ctx.prefill})

    async def step_choose(self, ctx: Context, data: dict[str, Any]) -> Outcome:
        value = pressed(ctx.msg, self.name) or ""
        action, _, flow = value.partition(":")
        if action != "pick" or not flow:
            return Outcome(start_flow="menu")
        # The owner's choice is now the intent: the chosen flow takes the words as its own.
        ctx.prefill = {**data["prefill"], "intent": flow}
        return Outcome(start_flow=flow)

    async def _offer_repair(self, ctx: Context) -> Outcome:
        """Kept and offered only to a bound owner: nobody else can report a repair, and the
        photo is not fetched for nothing."""
        if not ctx.account.is_bound:
            text = ctx.t("engine.photo_outside_flow")
            return Outcome([Reply(text, buttons=self._menu_row(ctx))])
        try:
            path = await ctx.save_photo()
        except MediaError as error:
            return Outcome([Reply(photo_error_text(ctx, error), buttons=self._menu_row(ctx))])
        buttons = button_rows(
            [Button(ctx.t("understanding.option_repair"), f"{self.name}:pick:repair")],
            [self._menu(ctx)],
        )
        reply = Reply(ctx.t("understanding.photo_offer"), buttons=buttons)
        return Outcome([reply], next_step="choose", data={"prefill": {"photos": [path]}})

    def _menu(self, ctx: Context) -> Button:
        return start_button(ctx.t("engine.button_menu"), "menu")

    def _menu_row(self, ctx: Context) -> tuple[tuple[Button, ...], ...]:
        return button_rows([self._menu(ctx)])
