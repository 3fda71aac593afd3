"""Talk to a person (人工): open an Escalation and stay in `waiting`, where every text or photo
the owner sends is stored for staff and acknowledged, until the owner ends it or staff close
it. Unbound users may use it too — reaching a human must never depend on binding.
Diagram: docs/flows.md.
"""

from __future__ import annotations

from typing import Any

from bot.domain.complaints import MESSAGE_FROM_USER, Escalation
from bot.engine.context import Context
from bot.engine.flow import Flow, Outcome, pressed, start_button
from bot.engine.ports import MediaError
from bot.engine.types import Button, MessageKind, Reply, button_rows
from bot.handlers.common import local_time, photo_error_text
from bot.services.complaints import request_person


class HandoffFlow(Flow):
    name = "handoff"
    commands = ("/human", "/agent")
    shortcuts = ("人工", "转人工", "找客服", "人工客服", "human", "agent")
    requires_binding = False
    keeps_text = True

    async def start(self, ctx: Context, argument: str) -> Outcome:
        # A wait paused by another flow is the same escalation: it continues here.
        ctx.state.take_paused(self.name)
        escalation, created = await request_person(
            ctx.uow,
            ctx.rules,
            ctx.account.id,
            ctx.account.owner_id,
            ctx.now,
            ctx.services.settings.tz,
        )
        said = str(ctx.prefill.get("description", "")).strip()
        if said:
            # What the owner typed to reach us (an emergency, "找你们经理") is staff's first line.
            await ctx.uow.escalations.add_message(
                escalation.id, MESSAGE_FROM_USER, ctx.now, said, None
            )
        key = "handoff.started" if created else "handoff.still_waiting"
        return self._waiting(ctx, escalation, ctx.t(key, due=local_time(ctx, escalation.due_at)))

    async def navigate(self, ctx: Context, intent: str, data: dict[str, Any]) -> Outcome | None:
        """Typed "结束人工服务", back, cancel or menu ends the wait instead of reaching staff."""
        return await self._end(ctx)

    async def step_waiting(self, ctx: Context, data: dict[str, Any]) -> Outcome:
        escalation = await ctx.uow.escalations.get(int(data["escalation_id"]))
        if escalation is None or not escalation.is_open:
            menu = button_rows([start_button(ctx.t("handoff.button_menu"), "menu")])
            return Outcome([Reply(ctx.t("handoff.closed_by_staff"), buttons=menu)])
        if pressed(ctx.msg, self.name) == "end":
            return await self._end(ctx)
        return await self._forward(ctx, escalation)

    async def press(self, ctx: Context, value: str) -> Outcome | None:
        """ "End" in an older message still ends the wait the owner walked away from."""
        return await self._end(ctx) if value == "end" else None

    async def _end(self, ctx: Context) -> Outcome:
        escalation = await ctx.uow.escalations.open_for_account(ctx.account.id)
        if escalation is not None:
            await ctx.uow.escalations.close(escalation.id, ctx.now)
        ctx.state.take_paused(self.name)
        return Outcome([Reply(ctx.t("handoff.ended"))], start_flow="menu")

    async def _forward(self, ctx: Context, escalation: Escalation) -> Outcome:
        text, photo = ctx.msg.text.strip(), None
        if ctx.msg.kind is MessageKind.PHOTO:
            try:
                photo = await ctx.save_photo()
            except MediaError as error:
                return self._waiting(ctx, escalation, photo_error_text(ctx, error))
        elif ctx.msg.kind is not MessageKind.TEXT or not text:
            return self._waiting(ctx, escalation, ctx.t("handoff.text_or_photo"))
        await ctx.uow.escalations.add_message(
            escalation.id, MESSAGE_FROM_USER, ctx.now, text, photo
        )
        return self._waiting(ctx, escalation, ctx.t("handoff.forwarded"))

    def _waiting(self, ctx: Context, escalation: Escalation, text: str) -> Outcome:
        end = Button(ctx.t("handoff.button_end"), "handoff:end")
        return Outcome(
            [Reply(text, buttons=button_rows([end]))],
            next_step="waiting",
            data={"escalation_id": escalation.id},
        )
