"""Decides which flow gets a message, and applies the flow's outcome to the conversation state.

Order: reject what no flow can use → numbered answers become button presses → a flow holding
the chat in one of its `exclusive_steps` (a person is answering) gets everything → commands,
shortcuts, events and `flow:` buttons start their flow from anywhere (the global interrupts
/cancel, /menu, /help are ordinary flows found this way) → typed text is understood
(bot/understanding): navigation words and emergencies act at every step, a question at a step is
answered and the step asked again → the active flow's step → outside a flow, the flow of the
understood intent starts with what was said (unsure between two: the owner is asked) → the FAQ,
which is the last flow in the list. Then an English sentence typed in a Chinese conversation
gets English offered under the replies (bot/engine/nudges.py).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.domain.conversation import ConversationState
from bot.domain.ids import parse_id
from bot.engine.context import Context, Services
from bot.engine.flow import Flow, Leaving, Outcome, start_button
from bot.engine.nudges import LANGUAGE_FLOW, with_english_offer
from bot.engine.types import (
    VOICE,
    Button,
    IncomingMessage,
    MessageKind,
    Reply,
    button_rows,
    offered_buttons,
)
from bot.i18n import language_from_hint
from bot.understanding import Intent, Understanding

log = logging.getLogger(__name__)

#: Longer texts are refused with a message instead of being stored (a 100 KB paste).
MAX_TEXT_LENGTH = 2000
#: A flow left alone this long is paused: the next message is routed afresh, and starting the
#: flow again offers to continue the draft. DEFAULT (not in source).
IDLE_PAUSE_AFTER = timedelta(hours=6)
MAX_HOPS = 4
#: The flow each understood intent starts (faq and unknown: the fallback, the FAQ).
FLOW_OF_INTENT = {
    Intent.REPAIR: "repair",
    Intent.EMERGENCY: "emergency",
    Intent.TICKETS: "tickets",
    Intent.CERTIFICATE: "certificate",
    Intent.COMPLAINT: "complaint",
    Intent.HUMAN: "handoff",
    Intent.SMALLTALK: "smalltalk",
    Intent.CANCEL: "cancel",
    Intent.BACK: "menu",
    Intent.MENU: "menu",
    Intent.END_HUMAN: "menu",
}
#: Below this confidence, a message with a second reading makes the bot ask which one.
ASK_BELOW = 0.6
#: At a free-text step, only a message this surely a question is answered instead of kept.
ANSWER_BETWEEN = 0.7
#: At a step, a message understood this surely as another flow's business starts that flow.
SWITCH_FROM = 0.85


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
        """Run the message through the right flow; mutates `state` for the caller to save.

        Typed English in a Chinese conversation also gets English offered (bot/engine/nudges).
        """
        typed = ctx.msg
        replies = await self._route(ctx, state)
        shown = offered_buttons(replies)
        if shown:
            # A typed number presses what the owner saw last (WeChat numbers the buttons): also
            # after /help in a form, a rejection or an expired button, not the step's options.
            state.offered = shown
        if self._may_offer_english(typed, state):
            return with_english_offer(ctx, state, typed.text, replies)
        return replies

    def _may_offer_english(self, typed: IncomingMessage, state: ConversationState) -> bool:
        """Only for typed text, and not where pressing the offer would walk the owner away from
        a person they are waiting for or talking to (hand-off keeps every text), nor in the
        language chooser itself."""
        if typed.kind is not MessageKind.TEXT or LANGUAGE_FLOW not in self.flows:
            return False
        active = self.flows.get(state.flow or "")
        if active is None:
            return True
        held = active.keeps_text or state.step in active.exclusive_steps
        return not held and active.name != LANGUAGE_FLOW

    async def _route(self, ctx: Context, state: ConversationState) -> list[Reply]:
        ctx.msg = self._numbered_choice(ctx.msg, state)
        rejection = self._reject(ctx)
        if rejection is not None:
            return [rejection]
        held = self.flows.get(state.flow or "")
        if held is not None and state.step in held.exclusive_steps:
            outcome = await held.step(ctx, state.step, state.data)
            return await self._apply(ctx, state, held, outcome)
        if state.in_flow and state.updated_at and ctx.now - state.updated_at > IDLE_PAUSE_AFTER:
            state.pause(state.updated_at.isoformat())  # when the owner was last active
        entry = self._entry_flow(ctx.msg)
        if entry is not None:
            flow, argument = entry
            return await self._start(ctx, state, flow, argument)
        if ctx.msg.kind is MessageKind.BUTTON:
            return await self._button(ctx, state)
        understood = self._understand(ctx)
        active = self.flows.get(state.flow or "")
        if active is not None and state.step is not None:
            if state.flow_version != active.version:
                state.clear()
                notice = Reply(ctx.t("engine.flow_changed"))
                return [notice, *await self._start(ctx, state, active, "")]
            if understood is not None:
                interrupted = await self._interrupt(ctx, state, active, state.step, understood)
                if interrupted is not None:
                    return interrupted
            outcome = await active.step(ctx, state.step, state.data)
            return await self._apply(ctx, state, active, outcome)
        if ctx.msg.kind is MessageKind.PHOTO:
            return await self._start(ctx, state, self._flow("clarify"), "")
        if understood is None:
            return await self._start(ctx, state, self.fallback, ctx.msg.text)
        return await self._dispatch(ctx, state, understood)

    def _understand(self, ctx: Context) -> Understanding | None:
        if ctx.msg.kind is not MessageKind.TEXT:
            return None
        return self.services.understanding.understand(ctx.msg.text, ctx.lang)

    def _flow(self, name: str) -> Flow:
        """A flow by name; the fallback when this router was built without it (tests)."""
        return self.flows.get(name, self.fallback)

    async def _dispatch(
        self, ctx: Context, state: ConversationState, understood: Understanding
    ) -> list[Reply]:
        """Outside a flow: start the flow of the intent with what the owner said."""
        ctx.prefill = prefill_of(understood)
        alternative = understood.alternative
        if alternative is not None and understood.confidence < ASK_BELOW:
            ctx.prefill["options"] = [
                FLOW_OF_INTENT.get(intent, self.fallback.name)
                for intent in (understood.intent, alternative)
            ]
            return await self._start(ctx, state, self._flow("clarify"), ctx.msg.text)
        name = FLOW_OF_INTENT.get(understood.intent, self.fallback.name)
        return await self._start(ctx, state, self._flow(name), ctx.msg.text)

    async def _interrupt(
        self,
        ctx: Context,
        state: ConversationState,
        active: Flow,
        step: str,
        understood: Understanding,
    ) -> list[Reply] | None:
        """Typed text at a step that is not the step's answer, or None to let the step have it."""
        intent = understood.intent
        if intent.is_navigation:
            return await self._navigate(ctx, state, active, intent)
        if active.keeps_text:
            return None
        if active.releases_text:
            state.clear()
            return await self._dispatch(ctx, state, understood)
        ctx.prefill = prefill_of(understood)
        free_text = step in active.free_text_steps
        if intent is Intent.EMERGENCY and not free_text:
            return await self._start(ctx, state, self._flow("emergency"), ctx.msg.text)
        if intent is Intent.FAQ and (not free_text or understood.confidence >= ANSWER_BETWEEN):
            answered = await self._answer_between(ctx, state, active, step)
            if answered is not None:
                return answered
        target = FLOW_OF_INTENT.get(intent)
        switch = understood.confidence >= SWITCH_FROM and target not in (None, active.name)
        if switch and not free_text and target is not None:
            return await self._start(ctx, state, self._flow(target), ctx.msg.text)
        return None

    async def _navigate(
        self, ctx: Context, state: ConversationState, active: Flow, intent: Intent
    ) -> list[Reply]:
        outcome = await active.navigate(ctx, intent.value, state.data)
        if outcome is not None:
            return await self._apply(ctx, state, active, outcome)
        return await self._start(ctx, state, self._flow(FLOW_OF_INTENT[intent]), "")

    async def _answer_between(
        self, ctx: Context, state: ConversationState, active: Flow, step: str
    ) -> list[Reply] | None:
        """A question the FAQ answers surely: the answer, then the step's question again with
        the draft as it was. None when the FAQ is not sure (the step gets the text)."""
        result = self.services.faq.ask(ctx.msg.text, ctx.lang)
        if not result.matched:
            return None
        again = await active.ask_again(ctx, step, state.data)
        if again is None:
            again = Outcome([Reply(ctx.t("understanding.carry_on"))], step, state.data)
        answer = Reply(result.answer)
        outcome = Outcome([answer, *again.replies], again.next_step, again.data, again.start_flow)
        return await self._apply(ctx, state, active, outcome)

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
            voice = msg.payload == VOICE
            key = "understanding.voice_please_type" if voice else "engine.unsupported"
            return Reply(ctx.t(key), buttons=self._menu_button(ctx.lang))
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
                return [self._bind_first(ctx)]  # the flow and draft stay as they were
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
            return [self._bind_first(ctx)]  # the flow and draft stay as they were
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
        state.offered = offered_buttons(replies)
        return replies

    def _bind_first(self, ctx: Context) -> Reply:
        """The ways to bind or reach a person, which a typed "1" / "2" then presses."""
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


def prefill_of(understood: Understanding) -> dict[str, Any]:
    """What a flow started from this message may take over instead of asking again."""
    slots = understood.slots
    prefill: dict[str, Any] = {"description": slots.description, "intent": understood.intent.value}
    for key, value in (
        ("category", slots.category),
        ("place", slots.place),
        ("urgency", slots.urgency),
        ("smalltalk", slots.smalltalk),
        ("topic", slots.topic),
        ("households", slots.households),
    ):
        if value is not None:
            prefill[key] = value
    return prefill
