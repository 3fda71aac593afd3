"""Talk to a person (人工): open an Escalation and wait for staff.

- `waiting`: what the owner sends is kept for staff; the first message is acknowledged, the
  rest silently (a person will read them all). Outside service hours the owner learns when
  someone will answer.
- `active` (staff claimed it, services/escalations.py put the chat here): the bot is silent.
  Texts and photos go to the conversation; commands and shortcuts do too (a person is
  answering, not the menu), except the words or button that end it.
- closed by staff: the service took the chat out of this flow and asked how it went; the
  rating buttons come back here.

Unbound users may use it too — reaching a human must never depend on binding.
Diagram: docs/flows.md.
"""

from __future__ import annotations

from typing import Any

from bot.domain.complaints import Escalation, EscalationStatus
from bot.engine.context import Context
from bot.engine.flow import Flow, Outcome, pressed
from bot.engine.ports import MediaError
from bot.engine.router import normalise_command
from bot.engine.types import Button, MessageKind, Reply, button_rows
from bot.handlers.common import local_time, open_escalation, photo_error_text
from bot.services.escalations import (
    ACTIVE_STEP,
    HANDOFF_FLOW,
    HANDOFF_FLOW_VERSION,
    WAITING_STEP,
    end_by_owner,
    rate,
    rating_buttons,
    record_owner_message,
)

#: Typed words that end a hand-off (the button does the same).
END_WORDS = frozenset({"结束人工服务", "结束人工", "结束服务", "结束", "end", "/end", "/cancel"})


class HandoffFlow(Flow):
    name = HANDOFF_FLOW
    version = HANDOFF_FLOW_VERSION
    commands = ("/human", "/agent")
    shortcuts = ("人工", "转人工", "找客服", "人工客服", "human", "agent")
    requires_binding = False
    keeps_text = True
    exclusive_steps = frozenset({ACTIVE_STEP})

    async def start(self, ctx: Context, argument: str) -> Outcome:
        # A wait paused by another flow is the same escalation: it continues here.
        ctx.state.take_paused(self.name)
        escalation, created = await open_escalation(ctx)
        if escalation.status is EscalationStatus.ACTIVE:
            return self._active(escalation)
        key = "handoff.started" if created else "handoff.still_waiting"
        text = ctx.t(key, due=local_time(ctx, escalation.due_at))
        hours = ctx.rules.service_hours
        if not hours.is_open_at(ctx.local_now()):
            opens = local_time(ctx, hours.next_open(ctx.local_now()))
            text = f"{text}\n{ctx.t('handoff.after_hours', opens=opens)}"
        return self._waiting(ctx, escalation, text, acknowledged=False)

    async def navigate(self, ctx: Context, intent: str, data: dict[str, Any]) -> Outcome | None:
        """Typed "结束人工服务", back, cancel or menu ends the wait instead of reaching staff."""
        return await self._end(ctx)

    async def step_waiting(self, ctx: Context, data: dict[str, Any]) -> Outcome:
        escalation = await ctx.uow.escalations.get(int(data["escalation_id"]))
        if escalation is None or not escalation.is_open:
            return Outcome([Reply(ctx.t("handoff.closed_by_staff"))])
        if self._ends(ctx):
            return await self._end(ctx)
        if escalation.status is EscalationStatus.ACTIVE:
            return await self.step_active(ctx, data)
        problem = await self._keep(ctx, escalation)
        if problem is not None:
            return self._waiting(ctx, escalation, problem, bool(data.get("acknowledged")))
        if data.get("acknowledged"):
            return Outcome(next_step=WAITING_STEP, data=data)
        return self._waiting(ctx, escalation, ctx.t("handoff.forwarded"), acknowledged=True)

    async def step_active(self, ctx: Context, data: dict[str, Any]) -> Outcome:
        """Silent: a person is answering. Only a photo that could not be taken is explained."""
        escalation = await ctx.uow.escalations.get(int(data["escalation_id"]))
        if escalation is None or not escalation.is_open:
            return Outcome([Reply(ctx.t("handoff.closed_by_staff"))])
        if self._ends(ctx):
            return await self._end(ctx)
        problem = await self._keep(ctx, escalation)
        replies = [Reply(problem)] if problem and ctx.msg.kind is MessageKind.PHOTO else []
        return Outcome(replies, next_step=ACTIVE_STEP, data=data)

    async def press(self, ctx: Context, value: str) -> Outcome | None:
        """ "End" in an older message still ends the wait; the rating buttons come after it."""
        if value == "end":
            return await self._end(ctx)
        action, _, rest = value.partition(":")
        escalation_id, _, answer = rest.partition(":")
        if action != "rate" or not escalation_id.isdigit():
            return None
        rated = await rate(ctx.uow, ctx.account.id, int(escalation_id), answer, ctx.now)
        return Outcome([Reply(ctx.t("handoff.rated" if rated else "handoff.rating_closed"))])

    def _ends(self, ctx: Context) -> bool:
        if pressed(ctx.msg, self.name) == "end":
            return True
        return ctx.msg.kind is MessageKind.TEXT and normalise_command(ctx.msg.text) in END_WORDS

    async def _end(self, ctx: Context) -> Outcome:
        notice = ctx.t("handoff.ended")
        escalation = await end_by_owner(ctx.uow, ctx.account.id, ctx.now, notice)
        ctx.state.take_paused(self.name)
        if escalation is None:
            return Outcome([Reply(notice)])
        buttons = tuple(Button(ctx.t(label), data) for label, data in rating_buttons(escalation.id))
        question = f"{notice}\n{ctx.t('handoff.ask_satisfaction')}"
        return Outcome([Reply(question, buttons=(buttons,))])

    async def _keep(self, ctx: Context, escalation: Escalation) -> str | None:
        """Store the owner's text or photo for staff; the problem to explain, if any."""
        text, photo = ctx.msg.text.strip(), None
        if ctx.msg.kind is MessageKind.PHOTO:
            try:
                photo = await ctx.save_photo()
            except MediaError as error:
                return photo_error_text(ctx, error)
        elif ctx.msg.kind is not MessageKind.TEXT or not text:
            return ctx.t("handoff.text_or_photo")
        await record_owner_message(ctx.uow, escalation.id, ctx.now, text, photo)
        return None

    def _waiting(
        self, ctx: Context, escalation: Escalation, text: str, acknowledged: bool
    ) -> Outcome:
        end = Button(ctx.t("handoff.button_end"), "handoff:end")
        return Outcome(
            [Reply(text, buttons=button_rows([end]))],
            next_step=WAITING_STEP,
            data={"escalation_id": escalation.id, "acknowledged": acknowledged},
        )

    def _active(self, escalation: Escalation) -> Outcome:
        """Asked for a person while one is answering: nothing to say, the person is there."""
        return Outcome(next_step=ACTIVE_STEP, data={"escalation_id": escalation.id})
