"""Certificate progress (产权证/办证进度): the stages of the unit's case, the current one and its
date, what the owner still has to bring or pay, an ETA only when staff entered one, and what
comes next. One answer, no steps: an owner with several homes picks one by button, and that
button stays valid (the unit id in it is checked against the owner's own homes).
Diagram: docs/flows.md."""

from __future__ import annotations

from bot.domain.certificates import CertificateCase, progress
from bot.domain.roster import Home
from bot.engine.context import Context
from bot.engine.flow import Flow, Outcome, start_button
from bot.engine.types import Reply, button_rows
from bot.handlers.common import chosen_home, home_buttons, owner_homes, owner_id


def stage_label(ctx: Context, stage: str) -> str:
    return ctx.t(f"certificate.stage_{stage}")


class CertificateFlow(Flow):
    name = "certificate"
    commands = ("/certificate",)
    shortcuts = (
        "产权证",
        "办证进度",
        "办证",
        "房产证",
        "不动产证",
        "certificate",
        "property certificate",
    )

    async def start(self, ctx: Context, argument: str) -> Outcome:
        homes = await owner_homes(ctx)
        if not homes:
            return Outcome([Reply(ctx.t("certificate.no_homes"))])
        if len(homes) == 1:
            return await self._show(ctx, homes[0], several=False)
        buttons = button_rows(*home_buttons(self.name, homes))
        return Outcome([Reply(ctx.t("certificate.ask_home"), buttons=buttons)])

    async def press(self, ctx: Context, value: str) -> Outcome | None:
        if not ctx.account.is_bound:
            return None
        home = chosen_home(ctx, self.name, await owner_homes(ctx))
        if home is None:
            return Outcome([Reply(ctx.t("certificate.not_found"))])
        return await self._show(ctx, home, several=True)

    async def _show(self, ctx: Context, home: Home, *, several: bool) -> Outcome:
        rows = (
            [[start_button(ctx.t("certificate.button_other_home"), self.name)]] if several else []
        )
        rows.append([start_button(ctx.t("certificate.button_menu"), "menu")])
        case = await ctx.uow.certificates.for_owner_unit(home.unit_id, owner_id(ctx))
        if case is None:
            text = ctx.t("certificate.no_case", home=home.label)
        else:
            text = self._describe(ctx, home, case)
        return Outcome([Reply(text, buttons=button_rows(*rows))])

    def _describe(self, ctx: Context, home: Home, case: CertificateCase) -> str:
        view = progress(case, ctx.rules.certificate)
        stages = "\n".join(
            ctx.t(f"certificate.line_{state.value}", stage=stage_label(ctx, stage))
            for stage, state in view.stages
        )
        outstanding = [ctx.t(f"certificate.item_{item}") for item, open_ in view.checklist if open_]
        ours = [ctx.t(f"certificate.item_{item}") for item, open_ in view.company if open_]
        return ctx.t(
            "certificate.case",
            home=home.label,
            stage=stage_label(ctx, case.stage),
            date=case.stage_date.isoformat(),
            stages=stages,
            next=ctx.t("certificate.next", stage=stage_label(ctx, view.next_stage))
            if view.next_stage
            else ctx.t("certificate.all_done"),
            eta=ctx.t("certificate.eta", eta=case.eta.isoformat())
            if case.eta
            else ctx.t("certificate.no_eta"),
            checklist=ctx.t(
                "certificate.outstanding", items=ctx.t("certificate.separator").join(outstanding)
            )
            if outstanding
            else ctx.t("certificate.nothing_outstanding"),
            company=ctx.t("certificate.we_obtain", items=ctx.t("certificate.separator").join(ours))
            if ours
            else "",
            note=ctx.t("certificate.note", note=case.note) if case.note else "",
        )
