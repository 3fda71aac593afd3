"""Switching the conversation language (zh / en); the choice then beats the platform's hint."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.engine.context import Context
from bot.engine.flow import Flow, Outcome, pressed
from bot.engine.types import Button, Reply, button_rows
from bot.i18n import LANGUAGES

ALIASES = {"中文": "zh", "zh": "zh", "chinese": "zh", "english": "en", "en": "en", "英文": "en"}


class LanguageFlow(Flow):
    name = "language"
    commands = ("/lang", "/language", "语言")
    shortcuts = ("language", "english", "中文", "切换语言")
    requires_binding = False

    async def start(self, ctx: Context, argument: str) -> Outcome:
        wanted = ALIASES.get(argument.strip().lower()) or ALIASES.get(ctx.msg.text.strip().lower())
        if wanted is not None:
            return await self._switch(ctx, wanted)
        buttons = button_rows(
            [Button("中文", "language:zh"), Button("English", "language:en")],
        )
        return Outcome([Reply(ctx.t("menu.choose_language"), buttons=buttons)], next_step="choose")

    async def step_choose(self, ctx: Context, data: dict[str, Any]) -> Outcome:
        choice = pressed(ctx.msg, self.name) or ALIASES.get(ctx.msg.text.strip().lower())
        if choice not in LANGUAGES:
            return await self.start(ctx, "")
        return await self._switch(ctx, choice)

    async def press(self, ctx: Context, value: str) -> Outcome | None:
        return await self._switch(ctx, value) if value in LANGUAGES else None

    async def _switch(self, ctx: Context, language: str) -> Outcome:
        await ctx.uow.accounts.set_language(ctx.account.id, language)
        ctx.account = replace(ctx.account, language=language)
        text = ctx.services.texts.get("menu.language_set", language)
        return Outcome([Reply(text)], start_flow="menu")
