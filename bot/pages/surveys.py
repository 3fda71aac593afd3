"""`GET|POST /s/{id}?t=…`: a survey on a phone, without login, behind a signed link that expires
with the invitation. WeChat template messages (outside the 48-hour window) lead here, and every
invitation offers it. Answers count exactly as in the chat (the same use case).

Server-rendered, no script: radio buttons styled as score buttons. A form with a missing score
comes back with the error and every choice kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.domain.rules import CompanyRules
from bot.domain.signing import sign, verify
from bot.domain.surveys import InvalidAnswer, Survey
from bot.i18n import Texts
from bot.pages.messages import TEMPLATES, not_found
from bot.services.survey_answers import Via, submit_answers
from bot.services.surveys import describe, hint_key, open_now
from bot.settings import Settings
from bot.storage.uow import UnitOfWork

#: Content-Security-Policy of the page: no script at all, styles inline, forms only to us.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
#: Bigger bodies are not a survey (the comment is at most a few thousand characters).
MAX_BODY = 20_000


def subject(survey_id: int) -> str:
    return f"survey:{survey_id}"


def survey_link(base_url: str, secret: str) -> Callable[[int, datetime], str]:
    """The signed URL of a survey's page, valid until the invitation expires."""

    def link(survey_id: int, expires_at: datetime) -> str:
        token = sign(secret, subject(survey_id), expires_at)
        return f"{base_url.rstrip('/')}/s/{survey_id}?t={token}"

    return link


def router(page: SurveyPage) -> APIRouter:
    routes = APIRouter()

    @routes.get("/s/{survey_id}", response_class=HTMLResponse)
    async def show(survey_id: int, t: str = "") -> HTMLResponse:
        return await page.show(survey_id, t)

    @routes.post("/s/{survey_id}", response_class=HTMLResponse)
    async def answer(survey_id: int, request: Request, t: str = "") -> HTMLResponse:
        body = await request.body()
        if len(body) > MAX_BODY:
            return await page.show(survey_id, t)
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return await page.answer(survey_id, t, form)

    return routes


class SurveyPage:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        texts: Texts,
        rules: CompanyRules,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        self._uow_factory = uow_factory
        self._texts = texts
        self._rules = rules
        self._settings = settings
        self._clock = clock

    async def show(self, survey_id: int, token: str) -> HTMLResponse:
        now = self._clock()
        async with self._uow_factory() as uow:
            found = await self._find(uow, survey_id, token, now)
            if found is None:
                return not_found(self._texts, self._settings.default_language)
            survey, lang = found
            if not survey.can_start(now):
                return self._message(lang, self._texts.get("survey.closed", lang))
            await open_now(uow, self._rules.survey, survey, now)
            html = await self._form(uow, survey, lang, {}, "")
            await uow.commit()
        return _html(html)

    async def answer(self, survey_id: int, token: str, form: Mapping[str, str]) -> HTMLResponse:
        now = self._clock()
        async with self._uow_factory() as uow:
            found = await self._find(uow, survey_id, token, now)
            if found is None:
                return not_found(self._texts, self._settings.default_language)
            survey, lang = found
            try:
                result = await submit_answers(
                    uow,
                    self._texts,
                    self._rules,
                    self._settings,
                    survey,
                    form,
                    via=Via.PAGE,
                    account_id=None,
                    lang=lang,
                    now=now,
                )
            except InvalidAnswer:
                error = self._texts.get("survey.page_missing", lang)
                return _html(await self._form(uow, survey, lang, form, error), status=422)
            await uow.commit()
        return self._message(lang, result.text(self._texts, lang, self._settings.tz))

    async def _find(
        self, uow: UnitOfWork, survey_id: int, token: str, now: datetime
    ) -> tuple[Survey, str] | None:
        """The survey and its owner's language; only a valid, unexpired signature finds one,
        and every bad link gets the same answer."""
        if not verify(self._settings.secret_key, subject(survey_id), token, now):
            return None
        survey = await uow.surveys.get(survey_id)
        if survey is None:
            return None
        accounts = await uow.accounts.active_accounts_of_owner(survey.owner_id)
        return survey, accounts[0].language if accounts else self._settings.default_language

    async def _form(
        self, uow: UnitOfWork, survey: Survey, lang: str, given: Mapping[str, str], error: str
    ) -> str:
        t, scale = self._texts, self._rules.survey.scale
        questions = [
            {
                "id": q.id,
                "scored": q.scored,
                "text": t.get(f"survey.q_{q.id}", lang),
                "hint": t.get(hint_key(t, q, lang), lang, scale=scale) if q.scored else "",
                "value": given.get(q.id, ""),
            }
            for q in self._rules.survey.questions(survey.kind)
        ]
        return TEMPLATES.get_template("survey.html").render(
            lang=lang,
            title=t.get("survey.page_title", lang),
            about=await describe(uow, t, survey, lang),
            questions=questions,
            scores=[str(n) for n in range(1, scale + 1)],
            placeholder=t.get("survey.page_comment_placeholder", lang),
            submit=t.get("survey.page_submit", lang),
            error=error,
            contact=t.get("pages.contact", lang),
        )

    def _message(self, lang: str, message: str) -> HTMLResponse:
        html = TEMPLATES.get_template("gone.html").render(
            lang=lang,
            title=self._texts.get("survey.page_title", lang),
            message=message,
            contact=self._texts.get("pages.contact", lang),
        )
        return _html(html)


def _html(html: str, status: int = 200) -> HTMLResponse:
    headers = {"Cache-Control": "no-store", "Content-Security-Policy": CSP}
    return HTMLResponse(html, status_code=status, headers=headers)
