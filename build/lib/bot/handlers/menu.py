"""The main menu and the global interrupts: /menu, /help, /cancel.

They are ordinary flows found by command or shortcut before any active step runs, so no flow
re-implements them.
"""

from __future__ import annotations

from bot.engine.context import Context
from bot.engine.flow import Flow, Leaving, Outcome, start_button
from bot.engine.types import Button, Reply, button_rows

#: (locale key of the label, flow) in menu order; unbound owners get the second list.
BOUND_MENU = (
    ("menu.button_repair", "repair"),
    ("menu.button_tickets", "tickets"),
    ("menu.button_certificate", "certificate"),
    ("menu.button_faq", "faq"),
    ("menu.button_complaint", "complaint"),
    ("menu.button_human", "handoff"),
    ("menu.button_language", "language"),
)
UNBOUND_MENU = (
    ("menu.button_bind", "bind"),
    ("menu.button_faq", "faq"),
    ("menu.button_human", "handoff"),
    ("menu.button_language", "language"),
)


def menu_buttons(ctx: Context) -> tuple[tuple[Button, ...], ...]:
    entries = BOUND_MENU if ctx.account.is_bound else UNBOUND_MENU
    buttons = [start_button(ctx.t(key), flow) for key, flow in entries]
    return button_rows(*(buttons[i : i + 2] for i in range(0, len(buttons), 2)))


class MenuFlow(Flow):
    name = "menu"
    commands = ("/menu",)
    shortcuts = ("菜单", "主菜单", "menu", "开始", "start")
    requires_binding = False

    async def start(self, ctx: Context, argument: str) -> Outcome:
        if not ctx.account.is_bound:
            return Outcome([Reply(ctx.t("menu.unbound"), buttons=menu_buttons(ctx))])
        assert ctx.account.owner_id is not None
        homes = await ctx.uow.roster.homes_of_owner(ctx.account.owner_id)
        name = await ctx.uow.roster.owner_name(ctx.account.owner_id) or ""
        listing = "\n".join(f"• {home.label}" for home in homes) or ctx.t("menu.no_homes")
        text = ctx.t("menu.bound", name=name, homes=listing)
        return Outcome([Reply(text, buttons=menu_buttons(ctx))])


class HelpFlow(Flow):
    name = "help"
    commands = ("/help",)
    shortcuts = ("帮助", "help", "?", "？", "怎么用")
    requires_binding = False
    leaving = Leaving.KEEP

    async def start(self, ctx: Context, argument: str) -> Outcome:
        key = "menu.help_bound" if ctx.account.is_bound else "menu.help_unbound"
        buttons = button_rows([start_button(ctx.t("menu.button_menu"), "menu")])
        return Outcome([Reply(ctx.t(key), buttons=buttons)])


class CancelFlow(Flow):
    name = "cancel"
    commands = ("/cancel",)
    shortcuts = ("取消", "退出", "cancel", "quit", "exit")
    requires_binding = False
    leaving = Leaving.DISCARD

    async def start(self, ctx: Context, argument: str) -> Outcome:
        return Outcome([Reply(ctx.t("menu.cancelled"))], start_flow="menu")
