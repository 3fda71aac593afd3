"""Questions in free text: the FAQ answers when it is sure, offers its best guesses when it
is not, and says plainly that it does not know otherwise (domain §9: "若遇不确定信息,应坦诚告知").

It is the fallback: any text no other flow claims ends up here.
"""

from __future__ import annotations

from typing import Any

from bot.domain.fees import Fee
from bot.engine.context import Context
from bot.engine.flow import Flow, Outcome, pressed, start_button
from bot.engine.types import Button, Reply, button_rows
from bot.faq import FaqResult


class FaqFlow(Flow):
    name = "faq"
    commands = ("/faq",)
    shortcuts = ("常见问题", "问题", "faq", "questions")
    requires_binding = False
    releases_text = True

    async def start(self, ctx: Context, argument: str) -> Outcome:
        argument = argument or str(ctx.prefill.get("description", ""))
        if argument.strip() and argument.strip().lower() not in self.shortcuts:
            return await self._answer(ctx, argument)
        buttons = button_rows([start_button(ctx.t("faq.button_menu"), "menu")])
        return Outcome([Reply(ctx.t("faq.ask_prompt"), buttons=buttons)], next_step="ask")

    async def step_ask(self, ctx: Context, data: dict[str, Any]) -> Outcome:
        value = pressed(ctx.msg, self.name)
        if value is not None:
            return await self.press(ctx, value) or await self.start(ctx, "")
        return await self._answer(ctx, ctx.msg.text)

    async def press(self, ctx: Context, value: str) -> Outcome | None:
        action, _, entry_id = value.partition(":")
        if action == "show":
            answer = ctx.services.faq.answer_for(entry_id, ctx.lang)
            return await self._answer_reply(ctx, entry_id, answer) if answer else None
        if action == "up":
            return Outcome([Reply(ctx.t("faq.thanks"))])
        if action == "down":
            buttons = button_rows(
                [start_button(ctx.t("faq.button_human"), "handoff")],
                [start_button(ctx.t("faq.button_menu"), "menu")],
            )
            return Outcome([Reply(ctx.t("faq.sorry_not_helpful"), buttons=buttons)])
        return None

    async def _answer(self, ctx: Context, question: str) -> Outcome:
        result = ctx.services.faq.ask(question, ctx.lang)
        if result.handoff:
            return Outcome(start_flow="handoff")
        if result.matched and result.entry_id:
            return await self._answer_reply(ctx, result.entry_id, result.answer)
        ctx.services.faq_misses.record(question, result, ctx.now)
        if result.suggestions:
            return self._suggest(ctx, result)
        buttons = button_rows(
            [start_button(ctx.t("faq.button_human"), "handoff")],
            [start_button(ctx.t("faq.button_menu"), "menu")],
        )
        return Outcome([Reply(ctx.t("faq.unknown"), buttons=buttons)], next_step="ask")

    async def _answer_reply(self, ctx: Context, entry_id: str, answer: str) -> Outcome:
        answer = await with_project_fees(ctx, entry_id, answer)
        buttons = button_rows(
            [
                Button(ctx.t("faq.button_helpful"), f"faq:up:{entry_id}"),
                Button(ctx.t("faq.button_not_helpful"), f"faq:down:{entry_id}"),
            ],
            [start_button(ctx.t("faq.button_menu"), "menu")],
        )
        return Outcome([Reply(answer, buttons=buttons)], next_step="ask")

    def _suggest(self, ctx: Context, result: FaqResult) -> Outcome:
        rows = [[Button(s.question, f"faq:show:{s.entry_id}")] for s in result.suggestions[:3]]
        rows.append([start_button(ctx.t("faq.button_human"), "handoff")])
        return Outcome([Reply(ctx.t("faq.not_sure"), buttons=button_rows(*rows))])


async def with_project_fees(ctx: Context, entry_id: str, answer: str) -> str:
    """An answer about fees, to an owner whose project has them set (rules.yaml `fees:`),
    states the company's figures with the document each is written in; otherwise the answer
    as written, which says where the amount is and offers a person (never a sample figure)."""
    fee_ids = ctx.services.faq.fees_of(entry_id)
    if not fee_ids or ctx.account.owner_id is None:
        return answer
    homes = await ctx.uow.roster.homes_of_owner(ctx.account.owner_id)
    per_project = {home.project: ctx.rules.fees.of(home.project, fee_ids) for home in homes}
    if not any(per_project.values()):
        return answer
    blocks = [_project_block(ctx, project, fees) for project, fees in sorted(per_project.items())]
    return ctx.services.faq.answer_with_fees(entry_id, ctx.lang, "\n".join(blocks))


def _project_block(ctx: Context, project: str, fees: list[Fee]) -> str:
    if not fees:
        return ctx.t("fees.project_not_set", project=project)
    lines = [
        ctx.t(
            "fees.line",
            name=ctx.t(f"fees.name_{fee.id}"),
            amount=fee.amount,
            unit=fee.unit_en if ctx.lang == "en" else fee.unit,
            source=fee.source,
        )
        for fee in fees
    ]
    return "\n".join([ctx.t("fees.project", project=project), *lines])
