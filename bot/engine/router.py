"""Decides which flow gets a message, and applies the flow's outcome to the conversation state.

Order: reject what no flow can use → numbered answers become button presses → commands,
shortcuts, events and `flow:` buttons start their flow from anywhere (the global interrupts
/cancel, /menu, /help are ordinary flows found this way) → the active flow's step → the FAQ,
which is the last flow in the list.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from bot.domain.conversation import ConversationState
from bot.domain.ids import parse_id
from bot.engine.context import Context, Services
from bot.engine.flow import Flow, Leaving, Outcome, start_button
from bot.engine.types import Button, IncomingMessage, MessageKind, Reply, button_rows
from bot.i18n import language_from_hint

log = logging.getLogger(__name__)

#: Longer texts are refused with a message instead of being stored (a 100 KB paste).
MAX_TEXT_LENGTH = 2000
#: A flow left alone this long is paused: the next message is routed afresh, and starting the
#: flow again offers to continue the draft. DEFAULT (not in source).
IDLE_PAUSE_AFTER = timedelta(hours=6)
MAX_HOPS = 4


def normalise_command(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


class Router:
    def __init__(self, flows: Sequence[Flow], services: Services) -> None:
        if not flows:
            raise ValueError("at least the fallback flow is needed")
        self.flows = {flow.name: flow for flow in flows}
        self.fallback = flows[-1]
        self.services = services
        self._commands = {normalise_command(c): f for f in flows for c in f.commands}
        self._shortcuts = {normalise_command(s): f for f in flows for s in f.shortcuts}
        self._events = {event: f for f in flows for event in f.events}

    def language_for(self, msg: IncomingMessage) -> str:
        return language_from_hint(msg.language, self.services.settings.default_language)

    def apology(self, lang: str) -> Reply:
        texts = self.services.texts
        return Reply(texts.get("engine.error", lang), buttons=self._menu_button(lang))

    async def route(self, ctx: Context, state: ConversationState) -> list[Reply]:
        """Run the message through the right flow; mutates `state` for the caller to save."""
        ctx.msg = self._numbered_choice(ctx.msg, state)
        rejection = self._reject(ctx)
        if rejection is not None:
            return [rejection]
        if state.in_flow and state.updated_at and ctx.now - state.updated_at > IDLE_PAUSE_AFTER:
            state.pause(state.updated_at.isoformat())  # when the owner was last active
        entry = self._entry_flow(ctx.msg)
        if entry is not None:
            flow, argument = entry
            return await self._start(ctx, state, flow, argument)
        if ctx.msg.kind is MessageKind.BUTTON:
            return await self._button(ctx, state)
        active = self.flows.get(state.flow or "")
        if active is not None and state.step is not None:
            if state.flow_version != active.version:
                state.clear()
                notice = Reply(ctx.t("engine.flow_changed"))
                return [notice, *await self._start(ctx, state, active, "")]
            outcome = await active.step(ctx, state.step, state.data)
            return await self._apply(ctx, state, active, outcome)
        if ctx.msg.kind is MessageKind.PHOTO:
            return [Reply(ctx.t("engine.photo_outside_flow"), buttons=self._menu_button(ctx.lang))]
        return await self._start(ctx, state, self.fallback, ctx.msg.text)

    def _numbered_choice(self, msg: IncomingMessage, state: ConversationState) -> IncomingMessage:
        """WeChat and the console show buttons as numbered options: "2" means the 2nd button."""
        if msg.kind is not MessageKind.TEXT or not state.offered:
            return msg
        number = parse_id(normalise_command(msg.text))
        if number is None or not 1 <= number <= len(state.offered):
            return msg
        label, data = state.offered[number - 1]
        return replace(msg, kind=MessageKind.BUTTON, payload=data, text=label)

    def _reject(self, ctx: Context) -> Reply | None:
        msg = ctx.msg
        if msg.kind is MessageKind.UNSUPPORTED:
            return Reply(ctx.t("engine.unsupported"), buttons=self._menu_button(ctx.lang))
        if msg.kind is MessageKind.TEXT and not msg.text.strip():
            return Reply(ctx.t("engine.empty"), buttons=self._menu_button(ctx.lang))
        if len(msg.text) > MAX_TEXT_LENGTH:
            return Reply(ctx.t("engine.too_long", limit=MAX_TEXT_LENGTH))
        return None

    def _entry_flow(self, msg: IncomingMessage) -> tuple[Flow, str] | None:
        if msg.kind is MessageKind.EVENT:
            flow = self._events.get(msg.payload or "")
            return (flow, msg.text) if flow else None
        if msg.kind is MessageKind.CONTACT:
            flow = self._events.get("contact")
            return (flow, msg.phone or "") if flow else None
        if msg.kind is MessageKind.BUTTON and (msg.payload or "").startswith("flow:"):
            flow = self.flows.get((msg.payload or "")[len("flow:") :])
            return (flow, "") if flow else None
        if msg.kind is not MessageKind.TEXT:
            return None
        text = normalise_command(msg.text)
        if text in self._shortcuts:
            return self._shortcuts[text], ""
        first, _, rest = text.partition(" ")
        if first in self._commands:
            # Keep the argument's original spelling (codes are case-insensitive anyway).
            original_rest = msg.text.strip().partition(" ")[2].strip()
            return self._commands[first], original_rest if rest else ""
        return None

    async def _button(self, ctx: Context, state: ConversationState) -> list[Reply]:
        payload = ctx.msg.payload or ""
        flow_name = payload.partition(":")[0]
        flow = self.flows.get(flow_name)
        if flow is not None and state.flow == flow_name and state.step is not None:
            outcome = await flow.step(ctx, state.step, state.data)
            return await self._apply(ctx, state, flow, outcome)
        if flow is not None:
            if flow.requires_binding and not ctx.account.is_bound:
                return [self._bind_first(ctx)]
            pressed = await flow.press(ctx, payload.partition(":")[2])
            if pressed is not None:
                if pressed.next_step is not None or pressed.start_flow is not None:
                    state.pause(ctx.now.isoformat())
                return await self._apply(ctx, state, flow, pressed)
        return [Reply(ctx.t("engine.button_expired"), buttons=self._menu_button(ctx.lang))]

    async def _start(
        self, ctx: Context, state: ConversationState, flow: Flow, argument: str
    ) -> list[Reply]:
        if flow.requires_binding and not ctx.account.is_bound:
            return [self._bind_first(ctx)]
        if flow.leaving is Leaving.KEEP:
            return (await flow.start(ctx, argument)).replies
        if flow.leaving is Leaving.DISCARD:
            state.clear()
        else:
            state.pause(ctx.now.isoformat())
        return await self._apply(ctx, state, flow, await flow.start(ctx, argument))

    async def _apply(
        self, ctx: Context, state: ConversationState, flow: Flow, outcome: Outcome
    ) -> list[Reply]:
        replies = list(outcome.replies)
        for _ in range(MAX_HOPS):
            if outcome.start_flow is None:
                break
            state.clear()
            next_flow = self.flows[outcome.start_flow]
            if next_flow.requires_binding and not ctx.account.is_bound:
                replies.append(self._bind_first(ctx))
                outcome = Outcome()
                break
            flow, outcome = next_flow, await next_flow.start(ctx, "")
            replies.extend(outcome.replies)
        if outcome.next_step is None:
            state.clear()
        else:
            state.flow, state.step, state.flow_version = flow.name, outcome.next_step, flow.version
            if outcome.data is not None:
                state.data = outcome.data
        state.offered = _last_offered(replies)
        return replies

    def _bind_first(self, ctx: Context) -> Reply:
        return Reply(
            ctx.t("engine.bind_first"),
            buttons=button_rows(
                [start_button(ctx.t("engine.button_bind"), "bind")],
                [start_button(ctx.t("engine.button_human"), "handoff")],
            ),
        )

    def _menu_button(self, lang: str) -> tuple[tuple[Button, ...], ...]:
        label = self.services.texts.get("engine.button_menu", lang)
        return button_rows([start_button(label, "menu")])


def _last_offered(replies: list[Reply]) -> list[list[str]]:
    for reply in reversed(replies):
        if reply.buttons:
            return [[button.label, button.data] for button in reply.flat_buttons()]
    return []
