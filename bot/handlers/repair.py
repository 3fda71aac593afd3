"""Repair report (报修): home → category → (add to an open ticket?) → description → photos →
where in the home → when reachable → summary → ticket number. Diagram: docs/flows.md.

The warranty answer, urgency, deadlines and the repeat flag are domain decisions
(`bot.domain.repair`, `bot.domain.warranty`); this module only asks and shows.
"""

from __future__ import annotations

from bot.domain.roster import Home
from bot.domain.tickets import Actor, ActorKind, Ticket, TicketError
from bot.engine.context import Context
from bot.engine.flow import Outcome, pressed, start_button
from bot.engine.types import Button, MessageKind, Reply, button_rows
from bot.handlers.common import (
    Draft,
    category_label,
    choice,
    in_rows,
    local_time,
    owner_homes,
    owner_id,
    text_answer,
    warranty_text,
)
from bot.handlers.form import FormFlow
from bot.services.tickets import RepairReport, add_ticket_comment, submit_repair

LOCATIONS = ("kitchen", "bathroom", "living_room", "bedroom", "balcony", "whole_home")
CONTACT_TIMES = ("anytime", "weekday_daytime", "evening", "weekend")
#: Longest free-text answer for location and contact time (their columns' width).
MAX_SHORT_ANSWER = 200


def short_answer(ctx: Context, prefix: str, kind: str, options: tuple[str, ...]) -> str | None:
    """A pressed option (stored as its label in the owner's words) or a short typed answer."""
    option = choice(ctx, prefix, kind)
    if option in options:
        return ctx.t(f"{prefix}.{kind}_{option}")
    text = text_answer(ctx, min_length=1)
    return text if text is not None and len(text) <= MAX_SHORT_ANSWER else None


class RepairFlow(FormFlow):
    name = "repair"
    commands = ("/repair",)
    shortcuts = ("报修", "我要报修", "维修", "repair", "report a repair")
    after_home = "category"

    free_text_steps = frozenset({"description", "location", "contact"})

    async def begin(self, ctx: Context) -> Outcome:
        homes = await owner_homes(ctx)
        if not homes:
            return Outcome([Reply(ctx.t("repair.no_homes"))])
        draft, intro = self._from_first_message(ctx)
        if len(homes) == 1:
            asked = await self.ask_category(ctx, {**draft, "unit_id": homes[0].unit_id})
        else:
            asked = await self.ask_home(ctx, draft)
        return Outcome([*intro, *asked.replies], asked.next_step, asked.data, asked.start_flow)

    def _from_first_message(self, ctx: Context) -> tuple[Draft, list[Reply]]:
        """What the owner already told us (a typed problem, a photo sent first): kept, shown
        back to them, and not asked again; the summary lets them check it before submitting."""
        given = ctx.prefill
        photos = list(given.get("photos", []))
        prefill: Draft = {}
        if given.get("description") and given.get("intent") in ("repair", "emergency"):
            prefill["description"] = given["description"]
            prefill["contact"] = ctx.t("repair.when_anytime")
        if ctx.rules.repair.category(given.get("category") or "") is not None:
            prefill["category"] = given["category"]
        if given.get("place") in LOCATIONS:
            prefill["location"] = ctx.t(f"repair.loc_{given['place']}")
        draft: Draft = {"prefill": prefill, **({"photos": photos} if photos else {})}
        if "description" not in prefill:
            return draft, []
        noted = ctx.t("understanding.repair_noted", description=prefill["description"])
        return draft, [Reply(noted)]

    async def ask_category(self, ctx: Context, draft: Draft) -> Outcome:
        draft, category = self.prefilled(draft, "category")
        if category is not None:
            return await self._with_category(ctx, draft, category, asked=False)
        buttons = [
            Button(category_label(ctx, c.id), f"repair:cat:{c.id}")
            for c in ctx.rules.repair.categories
        ]
        return self.question(
            ctx, "category", draft, ctx.t("repair.ask_category"), *in_rows(buttons)
        )

    async def step_category(self, ctx: Context, draft: Draft) -> Outcome:
        category = choice(ctx, self.name, "cat") or self._typed_category(ctx) or ""
        if ctx.rules.repair.category(category) is None:
            return await self.reask(ctx, "category", draft)
        return await self._with_category(ctx, draft, category, asked=True)

    def _typed_category(self, ctx: Context) -> str | None:
        """ "水管" or "the window" typed instead of pressing the button."""
        if ctx.msg.kind is not MessageKind.TEXT:
            return None
        return ctx.services.understanding.understand(ctx.msg.text, ctx.lang).slots.category

    async def _with_category(
        self, ctx: Context, draft: Draft, category: str, *, asked: bool
    ) -> Outcome:
        rules = ctx.rules.repair
        draft = {**draft, "category": category, "append_to": None}
        similar = await ctx.uow.tickets.open_similar(
            draft["unit_id"], category, ctx.now - rules.same_issue_window
        )
        next_step = "description" if similar is None else "similar"
        if similar is not None:
            draft = {**draft, "similar": similar.id}
        if asked:
            return await self.forward(ctx, draft, "category", next_step)
        return await self.ask(ctx, next_step, draft)

    async def ask_similar(self, ctx: Context, draft: Draft) -> Outcome:
        ticket = await ctx.uow.tickets.get_for_owner(draft["similar"], owner_id(ctx))
        if ticket is None:
            return await self.ask_description(ctx, draft)
        text = ctx.t(
            "repair.ask_similar",
            number=ticket.number,
            date=local_time(ctx, ticket.created_at),
            status=ctx.t(f"tickets.status_{ticket.status.value}"),
        )
        buttons = [
            Button(ctx.t("repair.button_add_to_similar"), "repair:similar:add"),
            Button(ctx.t("repair.button_new_report"), "repair:similar:new"),
        ]
        return self.question(ctx, "similar", draft, text, buttons)

    async def step_similar(self, ctx: Context, draft: Draft) -> Outcome:
        answer = choice(ctx, self.name, "similar")
        if answer not in {"add", "new"}:
            return await self.reask(ctx, "similar", draft)
        append_to = draft["similar"] if answer == "add" else None
        return await self.forward(ctx, {**draft, "append_to": append_to}, "similar", "description")

    async def ask_description(self, ctx: Context, draft: Draft) -> Outcome:
        draft, description = self.prefilled(draft, "description")
        if description is not None:
            return await self.ask_photos(ctx, {**draft, "description": description})
        key = (
            "repair.ask_description_append" if draft.get("append_to") else "repair.ask_description"
        )
        return self.question(ctx, "description", draft, ctx.t(key))

    async def step_description(self, ctx: Context, draft: Draft) -> Outcome:
        text = text_answer(ctx)
        if text is None:
            return self.question(ctx, "description", draft, ctx.t("repair.description_needed"))
        return await self.forward(ctx, {**draft, "description": text}, "description", "photos")

    async def ask_photos(self, ctx: Context, draft: Draft) -> Outcome:
        text = ctx.t("repair.ask_photos", limit=ctx.rules.repair.max_photos)
        return self.question(ctx, "photos", draft, text, [self.done_button(ctx)])

    async def step_photos(self, ctx: Context, draft: Draft) -> Outcome:
        next_step = "confirm" if draft.get("append_to") else "location"
        return await self.photos_step(ctx, draft, "photos", next_step, ctx.rules.repair.max_photos)

    async def ask_location(self, ctx: Context, draft: Draft) -> Outcome:
        draft, location = self.prefilled(draft, "location")
        if location is not None:
            return await self.ask_contact(ctx, {**draft, "location": location})
        buttons = [Button(ctx.t(f"repair.loc_{x}"), f"repair:loc:{x}") for x in LOCATIONS]
        return self.question(
            ctx, "location", draft, ctx.t("repair.ask_location"), *in_rows(buttons)
        )

    async def step_location(self, ctx: Context, draft: Draft) -> Outcome:
        location = short_answer(ctx, self.name, "loc", LOCATIONS)
        if location is None:
            return await self.ask_location(ctx, draft)
        return await self.forward(ctx, {**draft, "location": location}, "location", "contact")

    async def ask_contact(self, ctx: Context, draft: Draft) -> Outcome:
        draft, contact = self.prefilled(draft, "contact")
        if contact is not None:
            assumed = {**draft, "contact": contact, "contact_assumed": True}
            return await self.ask_confirm(ctx, assumed)
        buttons = [Button(ctx.t(f"repair.when_{x}"), f"repair:when:{x}") for x in CONTACT_TIMES]
        return self.question(ctx, "contact", draft, ctx.t("repair.ask_contact"), *in_rows(buttons))

    async def step_contact(self, ctx: Context, draft: Draft) -> Outcome:
        contact = short_answer(ctx, self.name, "when", CONTACT_TIMES)
        if contact is None:
            return await self.ask_contact(ctx, draft)
        return await self.forward(ctx, {**draft, "contact": contact}, "contact", "confirm")

    async def ask_confirm(self, ctx: Context, draft: Draft) -> Outcome:
        home = await self._home(ctx, draft)
        if home is None:
            return Outcome([Reply(ctx.t("repair.home_gone"))], start_flow="menu")
        rows = [[Button(ctx.t("repair.button_submit"), "repair:submit")]]
        if draft.get("contact_assumed"):
            # The contact time was not asked (a typed report): one press changes it.
            rows.append([Button(ctx.t("understanding.button_change_contact"), "repair:contact")])
        return self.question(ctx, "confirm", draft, self._summary(ctx, draft, home), *rows)

    async def step_confirm(self, ctx: Context, draft: Draft) -> Outcome:
        if pressed(ctx.msg, self.name) == "contact":
            asked = {**draft, "contact_assumed": False}
            return await self.forward(ctx, asked, "confirm", "contact")
        if pressed(ctx.msg, self.name) != "submit":
            return await self.reask(ctx, "confirm", draft)
        home = await self._home(ctx, draft)
        if home is None:
            return Outcome([Reply(ctx.t("repair.home_gone"))], start_flow="menu")
        if draft.get("append_to"):
            return await self._append(ctx, draft)
        return await self._submit(ctx, draft, home)

    async def _home(self, ctx: Context, draft: Draft) -> Home | None:
        """Checked again at the end: the owner may have been unbound from it meanwhile."""
        homes = await owner_homes(ctx)
        return next((home for home in homes if home.unit_id == draft["unit_id"]), None)

    def _summary(self, ctx: Context, draft: Draft, home: Home) -> str:
        rules = ctx.rules.repair
        values = {
            "home": home.label,
            "category": category_label(ctx, draft["category"]),
            "description": draft["description"],
            "photos": len(draft.get("photos", [])),
        }
        if draft.get("append_to"):
            return ctx.t("repair.summary_append", **values)
        decision = rules.warranty(
            draft["category"], home.handover_date, ctx.local_now().date(), project=home.project
        )
        urgency = rules.urgency(draft["category"], draft["description"])
        return ctx.t(
            "repair.summary",
            **values,
            location=draft["location"],
            contact=draft["contact"],
            warranty=warranty_text(ctx, decision, draft["category"]),
            urgency=ctx.t(f"repair.urgency_{urgency.value}"),
        )

    async def _submit(self, ctx: Context, draft: Draft, home: Home) -> Outcome:
        report = RepairReport(
            category=draft["category"],
            description=draft["description"],
            location=draft["location"],
            contact_time=draft["contact"],
            photos=tuple(draft.get("photos", [])),
        )
        ticket = await submit_repair(
            ctx.uow,
            ctx.rules,
            report,
            home,
            account_id=ctx.account.id,
            owner_id=owner_id(ctx),
            now=ctx.now,
            tz=ctx.services.settings.tz,
        )
        return Outcome([Reply(self._receipt(ctx, ticket), buttons=self._after_buttons(ctx))])

    def _receipt(self, ctx: Context, ticket: Ticket) -> str:
        return ctx.t(
            "repair.submitted",
            number=ticket.number,
            warranty=warranty_text(ctx, ticket.warranty, ticket.category),
            respond_by=local_time(ctx, ticket.respond_by),
            visit_by=local_time(ctx, ticket.visit_by),
            plan=ctx.t("repair.plan_note", plan_by=local_time(ctx, ticket.resolve_by))
            if ctx.rules.repair.is_complex(ticket.category)
            else "",
            repeat=ctx.t("repair.repeat_note") if ticket.is_repeat else "",
        )

    async def _append(self, ctx: Context, draft: Draft) -> Outcome:
        ticket = await ctx.uow.tickets.get_for_owner(draft["append_to"], owner_id(ctx))
        actor = Actor(ActorKind.OWNER, str(owner_id(ctx)))
        photos = tuple(draft.get("photos", []))
        try:
            if ticket is None:
                raise TicketError("not_found")
            await add_ticket_comment(ctx.uow, ticket, actor, ctx.now, draft["description"], photos)
        except TicketError:
            # Closed meanwhile: keep what the owner wrote and file it as a new report.
            notice = Reply(ctx.t("repair.similar_closed"))
            outcome = await self.forward(ctx, {**draft, "append_to": None}, "confirm", "location")
            return Outcome([notice, *outcome.replies], outcome.next_step, outcome.data)
        text = ctx.t("repair.appended", number=ticket.number)
        return Outcome([Reply(text, buttons=self._after_buttons(ctx))])

    def _after_buttons(self, ctx: Context) -> tuple[tuple[Button, ...], ...]:
        return button_rows(
            [start_button(ctx.t("repair.button_my_tickets"), "tickets")],
            [start_button(ctx.t("repair.button_menu"), "menu")],
        )
