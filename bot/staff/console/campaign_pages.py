"""Revisit campaigns (domain §5: "恶劣天气后…须针对性回访一次"): choose a project and its
buildings, see how many owners and chat accounts it would reach, start it, then follow each
campaign's progress (sent, answered). The same use cases as `python -m bot surveys campaign`
(services/surveys.py). Everyone may look; starting one (it messages many owners) is for
supervisors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from bot.domain.staff import StaffRole
from bot.services.surveys import (
    CampaignProgress,
    Reach,
    SurveyError,
    campaign_choices,
    campaign_kinds,
    campaign_progress,
    preview_campaign,
    start_campaign,
)
from bot.staff.console.web import Console, Page, redirect, text_field
from bot.storage.uow import UnitOfWork

#: Campaigns the page lists, newest first.
MAX_CAMPAIGNS = 50
#: More buildings than any project has.
MAX_BUILDINGS = 200
Text = Annotated[str, Query(max_length=100)]


@dataclass(frozen=True)
class Choice:
    """What staff picked in the form (kept when the page comes back)."""

    project: str
    kind: str
    buildings: list[str]
    #: As typed in the datetime-local field ("" = now).
    due: str


@dataclass(frozen=True)
class Loaded:
    projects: dict[str, list[str]]
    campaigns: list[CampaignProgress]
    reach: Reach | None


def router(console: Console) -> APIRouter:
    routes = APIRouter(prefix="/console")
    rules = console.services.rules.survey

    @routes.get("/campaigns")
    async def campaigns(
        request: Request,
        project: Text = "",
        kind: Text = "",
        due: Annotated[str, Query(max_length=20)] = "",
        buildings: Annotated[list[str] | None, Query(max_length=MAX_BUILDINGS)] = None,
        preview: bool = False,
    ) -> Response:
        """The form and the campaigns; with `preview`, who the chosen campaign would reach."""
        page = await console.page(request)
        choice = Choice(project, kind, buildings or [], due)
        wants_preview = preview and page.may(StaffRole.SUPERVISOR.value)

        async def load(uow: UnitOfWork) -> Loaded:
            reach = None
            if wants_preview:
                try:
                    _due_at(console, due)
                    reach = await preview_campaign(
                        uow, rules, kind=kind, project=project, buildings=choice.buildings
                    )
                except SurveyError as exc:
                    page.error = page.t(f"error_{exc.reason}")
                except ValueError:
                    page.error = page.t("error_bad_date")
            return Loaded(
                await campaign_choices(uow), await campaign_progress(uow, MAX_CAMPAIGNS), reach
            )

        loaded = await console.read(load)
        return _render(page, choice, loaded, 422 if page.error else 200)

    @routes.post("/campaigns")
    async def start(request: Request) -> Response:
        """Start the previewed campaign; nothing is created when any choice is wrong."""
        _, user, form = await console.form(request, StaffRole.SUPERVISOR)
        back = "/console/campaigns"
        try:
            due_at = _due_at(console, text_field(form, "due", 20))
        except ValueError:
            return redirect(back, error="bad_date")
        buildings = [str(name) for name in form.getlist("buildings")[:MAX_BUILDINGS]]
        return await console.act(
            back,
            lambda uow: start_campaign(
                uow,
                rules,
                kind=text_field(form, "kind", 100),
                project=text_field(form, "project", 100),
                buildings=buildings,
                due_at=due_at,
                by=f"staff:{user.username}",
                now=console.now(),
            ),
        )

    return routes


def _due_at(console: Console, typed: str) -> datetime:
    """The local time typed in the form, or now; ValueError when it is not a time."""
    if not typed:
        return console.now()
    return datetime.fromisoformat(typed).replace(tzinfo=console.services.settings.tz)


def _render(page: Page, choice: Choice, loaded: Loaded, status: int) -> Response:
    kinds = campaign_kinds(page.console.services.rules.survey)
    project = choice.project or next(iter(loaded.projects), "")
    return page.render(
        "campaigns.html",
        status,
        choice=Choice(project, choice.kind or kinds[0], choice.buildings, choice.due),
        projects=loaded.projects,
        kinds=kinds,
        reach=loaded.reach,
        campaigns=loaded.campaigns,
    )
