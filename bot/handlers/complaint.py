"""Complaint intake (投诉): repair or complaint? → (home) → description → topic → households
affected → photos → summary → a Complaint with its provisional grade and 督办令 deadline, and an
Escalation waiting for staff. Diagram: docs/flows.md.

"投诉" also means a repair request to many owners (domain §12.5: "应当及时向房地产开发商投诉,
要求开发商进行维修整改"), so the first question is which one the owner means.
"""

from __future__ import annotations

from bot.domain.complaints import ComplaintGrade, ComplaintRules
from bot.domain.ids import parse_id
from bot.engine.context import Context
from bot.engine.flow import Outcome, pressed, start_button
from bot.engine.types import Button, Reply, button_rows
from bot.handlers.common import (
    Draft,
    choice,
    in_rows,
    local_time,
    owner_homes,
    owner_id,
    text_answer,
)
from bot.handlers.form import FormFlow
from bot.services.complaints import ComplaintReport, file_complaint


def households_options(rules: ComplaintRules) -> dict[int, str]:
    """Button value → label key; the values are the grading thresholds themselves."""
    return {
        1: "complaint.households_one",
        rules.group_households_g2: "complaint.households_some",
        rules.group_people_g1: "complaint.households_many",
    }


class ComplaintFlow(FormFlow):
    name = "complaint"
    commands = ("/complaint",)
    shortcuts = ("投诉", "我要投诉", "complaint", "complain")
    after_home = "description"
    free_text_steps = frozenset({"description"})

    async def begin(self, ctx: Context) -> Outcome:
        """A complaint typed in the owner's words skips "repair or complaint?" and keeps them as
        the description, and the topic and households they imply are not asked again (the
        summary shows them to confirm or change); the provisional grade is proposed when filed."""
        typed = ctx.prefill.get("description") if ctx.prefill.get("intent") == "complaint" else None
        if not typed:
            return await self.ask_kind(ctx, {})
        noted = Reply(ctx.t("understanding.complaint_noted", description=typed))
        prefill = {"description": typed, **self._implied(ctx)}
        asked = await self._after_kind(ctx, {"prefill": prefill}, asked=False)
        return Outcome([noted, *asked.replies], asked.next_step, asked.data, asked.start_flow)

    def _implied(self, ctx: Context) -> Draft:
        """The topic and the households option the typed complaint names, when valid."""
        rules = ctx.rules.complaint
        implied: Draft = {}
        if ctx.prefill.get("topic") in rules.topics:
            implied["topic"] = ctx.prefill["topic"]
        by_kind = {
            key.rpartition("_")[2]: value for value, key in households_options(rules).items()
        }
        if ctx.prefill.get("households") in by_kind:
            implied["households"] = by_kind[ctx.prefill["households"]]
        return implied

    async def ask_kind(self, ctx: Context, draft: Draft) -> Outcome:
        buttons = [
            Button(ctx.t("complaint.button_is_repair"), "complaint:kind:repair"),
            Button(ctx.t("complaint.button_is_complaint"), "complaint:kind:complaint"),
        ]
        return self.question(ctx, "kind", draft, ctx.t("complaint.ask_kind"), buttons)

    async def step_kind(self, ctx: Context, draft: Draft) -> Outcome:
        kind = choice(ctx, self.name, "kind")
        if kind == "repair":
            return Outcome(start_flow="repair")
        if kind != "complaint":
            return await self.reask(ctx, "kind", draft)
        return await self._after_kind(ctx, draft, asked=True)

    async def _after_kind(self, ctx: Context, draft: Draft, *, asked: bool) -> Outcome:
        homes = await owner_homes(ctx)
        next_step = "home" if len(homes) > 1 else "description"
        if len(homes) <= 1:
            draft = {**draft, "unit_id": homes[0].unit_id if homes else None}
        if asked:
            return await self.forward(ctx, draft, "kind", next_step)
        return await self.ask(ctx, next_step, draft)

    async def ask_description(self, ctx: Context, draft: Draft) -> Outcome:
        draft, description = self.prefilled(draft, "description")
        if description is not None:
            return await self.ask_topic(ctx, {**draft, "description": description})
        return self.question(ctx, "description", draft, ctx.t("complaint.ask_description"))

    async def step_description(self, ctx: Context, draft: Draft) -> Outcome:
        text = text_answer(ctx)
        if text is None:
            return self.question(ctx, "description", draft, ctx.t("complaint.description_needed"))
        return await self.forward(ctx, {**draft, "description": text}, "description", "topic")

    async def ask_topic(self, ctx: Context, draft: Draft) -> Outcome:
        draft, topic = self.prefilled(draft, "topic")
        if topic is not None:
            return await self.ask_households(ctx, {**draft, "topic": topic, "assumed": True})
        buttons = [
            Button(ctx.t(f"complaint.topic_{topic}"), f"complaint:topic:{topic}")
            for topic in ctx.rules.complaint.topics
        ]
        return self.question(ctx, "topic", draft, ctx.t("complaint.ask_topic"), *in_rows(buttons))

    async def step_topic(self, ctx: Context, draft: Draft) -> Outcome:
        topic = choice(ctx, self.name, "topic")
        if topic not in ctx.rules.complaint.topics:
            return await self.reask(ctx, "topic", draft)
        return await self.forward(ctx, {**draft, "topic": topic}, "topic", "households")

    async def ask_households(self, ctx: Context, draft: Draft) -> Outcome:
        draft, households = self.prefilled(draft, "households")
        if households is not None:
            assumed = {**draft, "households": households, "assumed": True}
            return await self.ask_photos(ctx, assumed)
        options = households_options(ctx.rules.complaint)
        buttons = [
            [Button(ctx.t(key, n=value), f"complaint:households:{value}")]
            for value, key in options.items()
        ]
        return self.question(ctx, "households", draft, ctx.t("complaint.ask_households"), *buttons)

    async def step_households(self, ctx: Context, draft: Draft) -> Outcome:
        households = parse_id(choice(ctx, self.name, "households") or "")
        if households is None or households not in households_options(ctx.rules.complaint):
            return await self.reask(ctx, "households", draft)
        return await self.forward(ctx, {**draft, "households": households}, "households", "photos")

    async def ask_photos(self, ctx: Context, draft: Draft) -> Outcome:
        text = ctx.t("complaint.ask_photos", limit=ctx.rules.complaint.max_photos)
        return self.question(ctx, "photos", draft, text, [self.done_button(ctx)])

    async def step_photos(self, ctx: Context, draft: Draft) -> Outcome:
        limit = ctx.rules.complaint.max_photos
        return await self.photos_step(ctx, draft, "photos", "confirm", limit)

    async def ask_confirm(self, ctx: Context, draft: Draft) -> Outcome:
        homes = {home.unit_id: home.label for home in await owner_homes(ctx)}
        text = ctx.t(
            "complaint.summary",
            home=homes.get(draft.get("unit_id") or 0, ctx.t("complaint.no_home")),
            description=draft["description"],
            topic=ctx.t(f"complaint.topic_{draft['topic']}"),
            households=ctx.t(
                households_options(ctx.rules.complaint)[draft["households"]],
                n=draft["households"],
            ),
            photos=len(draft.get("photos", [])),
        )
        rows = [[Button(ctx.t("complaint.button_submit"), "complaint:submit")]]
        if draft.get("assumed"):
            # Topic or households were taken from the owner's words: one press asks them.
            rows.append([Button(ctx.t("complaint.button_change"), "complaint:change")])
        return self.question(ctx, "confirm", draft, text, *rows)

    async def step_confirm(self, ctx: Context, draft: Draft) -> Outcome:
        if pressed(ctx.msg, self.name) == "change":
            asked = {**draft, "assumed": False, "prefill": {}}
            return await self.forward(ctx, asked, "confirm", "topic")
        if pressed(ctx.msg, self.name) != "submit":
            return await self.reask(ctx, "confirm", draft)
        report = ComplaintReport(
            unit_id=draft.get("unit_id"),
            description=draft["description"],
            topic=draft["topic"],
            households=draft["households"],
            photos=tuple(draft.get("photos", [])),
        )
        complaint, _ = await file_complaint(
            ctx.uow,
            ctx.rules,
            report,
            owner_id(ctx),
            ctx.account.id,
            ctx.now,
            ctx.services.settings.tz,
        )
        g1 = complaint.details.proposal.grade is ComplaintGrade.G1
        text = ctx.t(
            "complaint.filed_g1" if g1 else "complaint.filed",
            number=complaint.id,
            order_due=local_time(ctx, complaint.details.order_due),
        )
        buttons = button_rows(
            [start_button(ctx.t("complaint.button_talk_now"), "handoff")],
            [start_button(ctx.t("complaint.button_menu"), "menu")],
        )
        return Outcome([Reply(text, buttons=buttons)])
