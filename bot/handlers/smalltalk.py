"""Hello, thanks, okay: a short answer in the owner's language, then the menu, instead of the
FAQ's "I don't know"."""

from __future__ import annotations

from bot.engine.context import Context
from bot.engine.flow import Flow, Outcome
from bot.engine.types import Reply

KINDS = ("greeting", "thanks", "ack", "bye")


class SmalltalkFlow(Flow):
    name = "smalltalk"
    requires_binding = False

    async def start(self, ctx: Context, argument: str) -> Outcome:
        kind = ctx.prefill.get("smalltalk")
        key = f"understanding.smalltalk_{kind if kind in KINDS else 'greeting'}"
        return Outcome([Reply(ctx.t(key))], start_flow="menu")
