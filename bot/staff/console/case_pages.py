"""Complaints by grade with their deadlines (the 督办令 and the resolution) and a grade change
with its reason (supervisors, as in the API); certificate cases by home with a stage update for
one case or for all those ticked. Through services/complaints.py and services/certificates.py."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from bot.domain.complaints import ComplaintGrade
from bot.domain.staff import StaffRole
from bot.services import certificates, complaints
from bot.staff.console.web import Console, redirect, text_field

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_BULK = 1000


def router(console: Console) -> APIRouter:
    routes = APIRouter(prefix="/console")
    services = console.services
    rules = services.rules

    @routes.get("/complaints")
    async def complaint_list(request: Request, grade: ComplaintGrade | None = None) -> Response:
        page = await console.page(request)
        found = await console.read(lambda uow: complaints.list_complaints(uow, grade))
        return page.render(
            "complaints.html",
            complaints=found,
            grade=grade.value if grade else "",
            grades=list(ComplaintGrade),
            now=console.now(),
        )

    @routes.post("/complaints/{complaint_id}/grade")
    async def regrade(request: Request, complaint_id: Id) -> Response:
        _, user, form = await console.form(request, StaffRole.SUPERVISOR)
        back = "/console/complaints"
        try:
            grade = ComplaintGrade(text_field(form, "grade", 4))
        except ValueError:
            return redirect(back, error="bad_grade")
        reason = text_field(form, "reason", 1000)
        return await console.act(
            back,
            lambda uow: complaints.set_complaint_grade(
                uow, rules, complaint_id, grade, reason, user, console.now(), services.settings.tz
            ),
        )

    @routes.get("/certificates")
    async def case_list(
        request: Request,
        stage: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z0-9_]*$")] = None,
    ) -> Response:
        page = await console.page(request)
        found = await console.read(lambda uow: certificates.list_cases(uow, stage or None))
        return page.render(
            "certificates.html",
            cases=found,
            stage=stage or "",
            stages=[stage_id for stage_id, _ in rules.certificate.stages],
        )

    @routes.post("/certificates/stage")
    async def set_stage(request: Request) -> Response:
        """One case (its row's button) or every ticked one (all or none)."""
        _, user, form = await console.form(request)
        back = "/console/certificates"
        try:
            ids = [int(str(v)) for v in form.getlist("ids")[:MAX_BULK]]
            raw_date = text_field(form, "stage_date", 20)
            stage_date = date.fromisoformat(raw_date) if raw_date else None
        except ValueError:
            return redirect(back, error="bad_date")
        if not ids:
            return redirect(back, error="no_cases")
        change = certificates.StageChange(
            text_field(form, "stage", 40), stage_date, text_field(form, "note", 1000) or None
        )
        return await console.act(
            back,
            lambda uow: certificates.change_stages(
                uow,
                services.texts,
                rules.certificate,
                ids,
                change,
                user,
                console.now(),
                services.settings.tz,
            ),
        )

    return routes
