"""My tickets (我的工单): list (open first), detail with timeline, comment or photo, "fixed" /
"not fixed" when completed, cancel before dispatch. Diagram: docs/flows.md.

Every ticket id comes from a button and is never trusted: each action loads the ticket through
`get_for_owner`, which only finds tickets of units this owner is bound to.
"""

from __future__ import annotations

from bot.domain.ids import parse_id
from bot.domain.tickets import (
    OWNER_MOVES,
    Actor,
    ActorKind,
    EventKind,
    Ticket,
    TicketError,
    TicketEvent,
    TicketStatus,
    can_comment,
    sort_for_owner,
)
from bot.engine.context import Context
from bot.engine.flow import Flow, Outcome, pressed, start_button
from bot.engine.ports import MediaError
from bot.engine.types import Button, MessageKind, Reply, button_rows
from bot.handlers.common import (
    DONE_WORDS,
    category_label,
    local_time,
    owner_id,
    photo_error_text,
    warranty_text,
)
from bot.services.tickets import add_ticket_comment, change_ticket_status

LIST_LIMIT = 10
#: Owner actions on one ticket; each button carries the ticket id: `tickets:<action>:<id>`.
ACTIONS = ("show", "comment", "fixed", "notfixed", "cancel", "cancelyes")


def owner_actor(ctx: Context) -> Actor:
    return Actor(ActorKind.OWNER, str(owner_id(ctx)))


class TicketsFlow(Flow):
    name = "tickets"
    commands = ("/tickets",)
    shortcuts = ("进度", "我的工单", "工单", "查进度", "维修进度", "tickets", "my tickets")
    free_text_steps = frozenset({"comment"})

    async def start(self, ctx: Context, argument: str) -> Outcome:
        return await self._list(ctx)

    async def press(self, ctx: Context, value: str) -> Outcome | None:
        """Ticket buttons stay valid in older messages and pushes (e.g. "fixed?")."""
        if not ctx.account.is_bound:
            return None
        if value == "list":
            return await self._list(ctx)
        action, _, raw_id = value.partition(":")
        ticket_id = parse_id(raw_id)
        if action not in ACTIONS or ticket_id is None:
            return None
        ticket = await ctx.uow.tickets.get_for_owner(ticket_id, owner_id(ctx))
        if ticket is None:
            return Outcome([Reply(ctx.t("tickets.not_found"), buttons=self._list_button(ctx))])
        handler = getattr(self, f"_on_{action}")
        outcome: Outcome = await handler(ctx, ticket)
        return outcome

    async def step_comment(self, ctx: Context, data: dict[str, object]) -> Outcome:
        """Each text or photo becomes one comment, so an album arrives whole; done ends it."""
        value = pressed(ctx.msg, self.name)
        if value is not None and value != "done":
            return await self.press(ctx, value) or await self._list(ctx)
        ticket = await ctx.uow.tickets.get_for_owner(int(str(data["ticket_id"])), owner_id(ctx))
        if ticket is None:
            return await self._list(ctx)
        if value == "done" or ctx.msg.text.strip().casefold() in DONE_WORDS:
            return await self._on_show(ctx, ticket)
        return await self._comment(ctx, ticket)

    async def step_detail(self, ctx: Context, data: dict[str, object]) -> Outcome:
        """Only buttons are meaningful here; anything else shows the list again."""
        value = pressed(ctx.msg, self.name)
        return (await self.press(ctx, value) if value else None) or await self._list(ctx)

    async def _list(self, ctx: Context) -> Outcome:
        tickets = sort_for_owner(await ctx.uow.tickets.list_for_owner(owner_id(ctx), LIST_LIMIT))
        if not tickets:
            buttons = button_rows([start_button(ctx.t("tickets.button_report"), "repair")])
            return Outcome([Reply(ctx.t("tickets.none"), buttons=buttons)])
        lines = [self._line(ctx, t) for t in tickets]
        rows = [
            [Button(f"{t.number} {category_label(ctx, t.category)}", f"tickets:show:{t.id}")]
            for t in tickets
        ]
        rows.append([start_button(ctx.t("tickets.button_menu"), "menu")])
        text = ctx.t("tickets.list", tickets="\n".join(lines))
        return Outcome([Reply(text, buttons=button_rows(*rows))])

    def _line(self, ctx: Context, ticket: Ticket) -> str:
        return ctx.t(
            "tickets.list_line",
            number=ticket.number,
            category=category_label(ctx, ticket.category),
            status=ctx.t(f"tickets.status_{ticket.status.value}"),
            date=local_time(ctx, ticket.created_at),
        )

    async def _on_show(self, ctx: Context, ticket: Ticket) -> Outcome:
        events = await ctx.uow.tickets.events(ticket.id)
        text = ctx.t(
            "tickets.detail",
            number=ticket.number,
            home=ticket.home_label,
            category=category_label(ctx, ticket.category),
            status=ctx.t(f"tickets.status_{ticket.status.value}"),
            description=ticket.description,
            location=ticket.location,
            photos=len(ticket.photos),
            warranty=warranty_text(ctx, ticket.warranty, ticket.category),
            deadlines=self._deadlines(ctx, ticket),
            timeline="\n".join(self._timeline_line(ctx, e) for e in events),
        )
        reply = Reply(text, buttons=self._detail_buttons(ctx, ticket))
        return Outcome([reply], next_step="detail", data={"ticket_id": ticket.id})

    def _deadlines(self, ctx: Context, ticket: Ticket) -> str:
        if not ticket.is_open:
            return ""
        complex_ = ctx.rules.repair.is_complex(ticket.category)
        return ctx.t(
            "tickets.deadlines_complex" if complex_ else "tickets.deadlines",
            respond_by=local_time(ctx, ticket.respond_by),
            visit_by=local_time(ctx, ticket.visit_by),
            resolve_by=local_time(ctx, ticket.resolve_by),
        )

    def _timeline_line(self, ctx: Context, event: TicketEvent) -> str:
        who = ctx.t(f"tickets.actor_{event.actor.kind.value}")
        at = local_time(ctx, event.at)
        if event.kind is EventKind.COMMENT or event.to_status is None:
            count = len(event.photos)
            photos = ctx.t("tickets.photos_suffix", count=count) if count else ""
            return ctx.t("tickets.event_comment", at=at, who=who, note=event.note, photos=photos)
        status = ctx.t(f"tickets.status_{event.to_status.value}")
        return ctx.t("tickets.event_status", at=at, who=who, status=status, note=event.note)

    def _detail_buttons(self, ctx: Context, ticket: Ticket) -> tuple[tuple[Button, ...], ...]:
        def button(key: str, action: str) -> Button:
            return Button(ctx.t(f"tickets.button_{key}"), f"tickets:{action}:{ticket.id}")

        moves = {new for current, new in OWNER_MOVES if current is ticket.status}
        return button_rows(
            [button("fixed", "fixed"), button("not_fixed", "notfixed")]
            if TicketStatus.CONFIRMED in moves
            else [],
            [button("comment", "comment")] if can_comment(ticket.status) else [],
            [button("cancel", "cancel")] if TicketStatus.CANCELLED in moves else [],
            [Button(ctx.t("tickets.button_list"), "tickets:list")],
        )

    async def _on_comment(self, ctx: Context, ticket: Ticket) -> Outcome:
        if not can_comment(ticket.status):
            return await self._refused(ctx, ticket, "closed_for_comments")
        return self._ask_comment(ctx, ticket, ctx.t("tickets.ask_comment", number=ticket.number))

    def _ask_comment(self, ctx: Context, ticket: Ticket, text: str) -> Outcome:
        done = Button(ctx.t("tickets.button_comment_done"), "tickets:done")
        reply = Reply(text, buttons=button_rows([done]))
        return Outcome([reply], next_step="comment", data={"ticket_id": ticket.id})

    async def _comment(self, ctx: Context, ticket: Ticket) -> Outcome:
        note = ctx.msg.text.strip()
        photos: tuple[str, ...] = ()
        if ctx.msg.kind is MessageKind.PHOTO:
            try:
                photos = (await ctx.save_photo(),)
            except MediaError as error:
                return self._ask_comment(ctx, ticket, photo_error_text(ctx, error))
        elif ctx.msg.kind is not MessageKind.TEXT or not note:
            return self._ask_comment(ctx, ticket, ctx.t("tickets.comment_hint"))
        try:
            await add_ticket_comment(ctx.uow, ticket, owner_actor(ctx), ctx.now, note, photos)
        except TicketError as error:
            return await self._refused(ctx, ticket, error.reason)
        return self._ask_comment(ctx, ticket, ctx.t("tickets.comment_added", number=ticket.number))

    async def _on_fixed(self, ctx: Context, ticket: Ticket) -> Outcome:
        """Confirming brings the repair's survey forward: it starts here and now."""
        refusal = await self._move(ctx, ticket, TicketStatus.CONFIRMED)
        if refusal is not None:
            return refusal
        survey = await ctx.uow.surveys.for_ticket(ticket.id)
        if survey is not None and survey.can_start(ctx.now):
            return Outcome(
                [Reply(ctx.t("tickets.confirmed", number=ticket.number))], start_flow="survey"
            )
        return self._done(ctx, ticket, "tickets.confirmed")

    async def _on_notfixed(self, ctx: Context, ticket: Ticket) -> Outcome:
        """Reopens, then asks what is still wrong: the answer goes to the same ticket."""
        refusal = await self._move(ctx, ticket, TicketStatus.REOPENED)
        return refusal or self._ask_comment(
            ctx, ticket, ctx.t("tickets.reopened", number=ticket.number)
        )

    async def _on_cancel(self, ctx: Context, ticket: Ticket) -> Outcome:
        buttons = button_rows(
            [Button(ctx.t("tickets.button_cancel_yes"), f"tickets:cancelyes:{ticket.id}")],
            [Button(ctx.t("tickets.button_cancel_no"), f"tickets:show:{ticket.id}")],
        )
        text = ctx.t("tickets.ask_cancel", number=ticket.number)
        return Outcome(
            [Reply(text, buttons=buttons)], next_step="detail", data={"ticket_id": ticket.id}
        )

    async def _on_cancelyes(self, ctx: Context, ticket: Ticket) -> Outcome:
        refusal = await self._move(ctx, ticket, TicketStatus.CANCELLED)
        return refusal or self._done(ctx, ticket, "tickets.cancelled")

    async def _move(self, ctx: Context, ticket: Ticket, new: TicketStatus) -> Outcome | None:
        """Apply an owner move; None when done, else the refusal with the ticket as it is."""
        texts = ctx.services.texts
        try:
            await change_ticket_status(
                ctx.uow,
                ticket.id,
                new,
                owner_actor(ctx),
                ctx.now,
                texts,
                survey_delay=ctx.services.settings.survey_delay,
            )
        except TicketError as error:
            return await self._refused(ctx, ticket, error.reason)
        return None

    def _done(self, ctx: Context, ticket: Ticket, key: str) -> Outcome:
        return Outcome([Reply(ctx.t(key, number=ticket.number), buttons=self._list_button(ctx))])

    async def _refused(self, ctx: Context, ticket: Ticket, reason: str) -> Outcome:
        current = await ctx.uow.tickets.get(ticket.id) or ticket
        shown = await self._on_show(ctx, current)
        return Outcome(
            [Reply(ctx.t(f"tickets.refused_{reason}")), *shown.replies], shown.next_step, shown.data
        )

    def _list_button(self, ctx: Context) -> tuple[tuple[Button, ...], ...]:
        return button_rows([Button(ctx.t("tickets.button_list"), "tickets:list")])
