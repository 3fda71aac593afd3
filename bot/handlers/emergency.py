"""Danger now (water pouring, a gas smell, no power, someone trapped in a lift, fire): the
company's numbers at once and a person (the escalation alerts the on-duty staff, with the owner's
words as its first message). Never depends on binding, never waits for a form: an owner with a
home also gets the repair report opened with their words kept, so the repair is on its way too
and they only add a photo and confirm; anyone else waits for the person."""

from __future__ import annotations

from bot.engine.context import Context
from bot.engine.flow import Flow, Outcome
from bot.engine.types import Reply
from bot.handlers.common import open_escalation, owner_homes


class EmergencyFlow(Flow):
    name = "emergency"
    requires_binding = False

    async def start(self, ctx: Context, argument: str) -> Outcome:
        numbers = Reply(ctx.t("understanding.emergency"))
        if not ctx.account.is_bound or not await owner_homes(ctx):
            return Outcome([numbers], start_flow="handoff")
        await open_escalation(ctx)
        report = Reply(ctx.t("understanding.emergency_report"))
        return Outcome([numbers, report], start_flow="repair")
