"""Danger now (water pouring, a gas smell, no power, someone trapped in a lift, fire): the
company's numbers at once, then a person (the escalation alerts staff, with the owner's words
as its first message). Never depends on binding, never waits for a form."""

from __future__ import annotations

from bot.engine.context import Context
from bot.engine.flow import Flow, Outcome
from bot.engine.types import Reply


class EmergencyFlow(Flow):
    name = "emergency"
    requires_binding = False

    async def start(self, ctx: Context, argument: str) -> Outcome:
        return Outcome([Reply(ctx.t("understanding.emergency"))], start_flow="handoff")
