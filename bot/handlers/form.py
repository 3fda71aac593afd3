"""The base of every multi-step form (repair, complaint): back, cancel, resume, photos, homes.

A `FormFlow` asks each step with an `ask_<step>` method and answers it with `step_<step>`.
Moving forward pushes the step onto `draft["trail"]`, so "back" always returns to the question
the owner actually saw, also when steps were skipped. A draft paused by another flow (or by
the engine after a long silence) is offered back when the form starts again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, ClassVar

from bot.engine.context import Context
from bot.engine.flow import Flow, Outcome, pressed, start_button
from bot.engine.ports import MediaError
from bot.engine.types import Button, MessageKind, Reply, button_rows
from bot.handlers.common import (
    DONE_WORDS,
    Draft,
    chosen_home,
    home_buttons,
    local_time,
    owner_homes,
    photo_error_text,
)


def _unwrap(paused: dict[str, Any] | None) -> dict[str, Any] | None:
    """A form left while it offered to resume was paused at `resume`: the real draft is inside."""
    while paused is not None and paused.get("step") == "resume":
        paused = paused["data"].get("paused")
    return paused


class FormFlow(Flow):
    """Base for forms; subclasses define `begin`, `ask_<step>` and `step_<step>`.

    The shared `home` step (for owners with several homes) continues with `after_home`.
    """

    after_home: ClassVar[str]

    async def begin(self, ctx: Context) -> Outcome:
        raise NotImplementedError

    async def start(self, ctx: Context, argument: str) -> Outcome:
        """A form started from the owner's own words begins afresh with them; otherwise a
        paused draft is offered back."""
        paused = _unwrap(ctx.state.take_paused(self.name))
        if paused is None or ctx.prefill:
            return await self.begin(ctx)
        return self._offer_resume(ctx, paused)

    async def ask_again(self, ctx: Context, step: str, data: dict[str, Any]) -> Outcome | None:
        return await self.ask(ctx, step, data)

    async def navigate(self, ctx: Context, intent: str, data: dict[str, Any]) -> Outcome | None:
        """Typed "back" is the back button; cancel and menu are the router's."""
        return await self.back(ctx, data) if intent == "back" else None

    def prefilled(self, draft: Draft, key: str) -> tuple[Draft, Any]:
        """Take one answer the owner already gave in their first message (None if not)."""
        given = dict(draft.get("prefill") or {})
        value = given.pop(key, None)
        return {**draft, "prefill": given}, value

    def _offer_resume(self, ctx: Context, paused: dict[str, Any]) -> Outcome:
        text = ctx.t("form.resume_offer", at=local_time(ctx, datetime.fromisoformat(paused["at"])))
        buttons = button_rows(
            [
                Button(ctx.t("form.button_continue"), f"{self.name}:resume"),
                Button(ctx.t("form.button_start_over"), f"{self.name}:restart"),
            ],
            [self.cancel_button(ctx)],
        )
        # The draft travels in the offer's own data: leaving the offer pauses it again whole.
        return Outcome([Reply(text, buttons=buttons)], next_step="resume", data={"paused": paused})

    async def step_resume(self, ctx: Context, data: Draft) -> Outcome:
        answer, paused = pressed(ctx.msg, self.name), data["paused"]
        if answer == "restart":
            return await self.begin(ctx)
        if answer == "resume":
            return await self.ask(ctx, paused["step"], paused["data"])
        return self._offer_resume(ctx, paused)

    async def ask_home(self, ctx: Context, draft: Draft) -> Outcome:
        rows = home_buttons(self.name, await owner_homes(ctx))
        return self.question(ctx, "home", draft, ctx.t("form.ask_home"), *rows)

    async def step_home(self, ctx: Context, draft: Draft) -> Outcome:
        home = chosen_home(ctx, self.name, await owner_homes(ctx))
        if home is None:
            return await self.reask(ctx, "home", draft)
        return await self.forward(ctx, {**draft, "unit_id": home.unit_id}, "home", self.after_home)

    async def step(self, ctx: Context, step: str, data: dict[str, Any]) -> Outcome:
        if pressed(ctx.msg, self.name) == "back":
            return await self.back(ctx, data)
        return await super().step(ctx, step, data)

    async def ask(self, ctx: Context, step: str, draft: Draft) -> Outcome:
        asker: Callable[[Context, Draft], Awaitable[Outcome]] = getattr(self, f"ask_{step}")
        return await asker(ctx, draft)

    async def reask(self, ctx: Context, step: str, draft: Draft) -> Outcome:
        """The same question again, after saying that one of its options is wanted."""
        asked = await self.ask(ctx, step, draft)
        hint = Reply(ctx.t("form.use_buttons"))
        return Outcome([hint, *asked.replies], asked.next_step, asked.data, asked.start_flow)

    async def forward(self, ctx: Context, draft: Draft, current: str, next_step: str) -> Outcome:
        trail = [*draft.get("trail", []), current]
        return await self.ask(ctx, next_step, {**draft, "trail": trail})

    async def back(self, ctx: Context, draft: Draft) -> Outcome:
        """Back from the first question leaves the form for the menu."""
        trail = list(draft.get("trail", []))
        if not trail:
            return Outcome([Reply(ctx.t("form.left"))], start_flow="menu")
        previous = trail.pop()
        return await self.ask(ctx, previous, {**draft, "trail": trail})

    def question(
        self, ctx: Context, step: str, draft: Draft, text: str, *rows: list[Button]
    ) -> Outcome:
        """Ask `text` with the step's own buttons and the back / cancel row under them."""
        nav = [Button(ctx.t("form.button_back"), f"{self.name}:back"), self.cancel_button(ctx)]
        return Outcome([Reply(text, buttons=button_rows(*rows, nav))], next_step=step, data=draft)

    def cancel_button(self, ctx: Context) -> Button:
        return start_button(ctx.t("form.button_cancel"), "cancel")

    def done_button(self, ctx: Context) -> Button:
        return Button(ctx.t("form.button_photos_done"), f"{self.name}:done")

    async def photos_step(
        self, ctx: Context, draft: Draft, step: str, next_step: str, limit: int
    ) -> Outcome:
        """Collect photos one message at a time (a Telegram album arrives as one message per
        photo) until the owner says done; a refused photo leaves the draft as it was."""
        if ctx.msg.kind is MessageKind.PHOTO:
            draft, text = await self._take_photo(ctx, draft, limit)
            return self.question(ctx, step, draft, text, [self.done_button(ctx)])
        answer = ctx.msg.text.strip().casefold()
        if pressed(ctx.msg, self.name) == "done" or answer in DONE_WORDS:
            return await self.forward(ctx, draft, step, next_step)
        return self.question(ctx, step, draft, ctx.t("form.photo_hint"), [self.done_button(ctx)])

    async def _take_photo(self, ctx: Context, draft: Draft, limit: int) -> tuple[Draft, str]:
        photos = list(draft.get("photos", []))
        if len(photos) >= limit:
            return draft, ctx.t("form.photo_limit", limit=limit)
        try:
            path = await ctx.save_photo()
        except MediaError as error:
            return draft, photo_error_text(ctx, error)
        photos.append(path)
        return {**draft, "photos": photos}, ctx.t(
            "form.photo_received", count=len(photos), limit=limit
        )
