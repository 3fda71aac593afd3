"""What every console page shares: who is signed in (and may they), the language, the CSRF
check of every form, rendering, and turning the services' refusals into a message on the page
the person came from. Pages call use cases only (bot/services/), never repositories."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData

from bot.domain.certificates import CertificateError
from bot.domain.complaints import ComplaintError, EscalationError
from bot.domain.conversation import StaleConversation
from bot.domain.staff import StaffError, StaffRole, StaffUser
from bot.domain.tickets import TicketError
from bot.engine.context import Services
from bot.engine.ports import MediaError
from bot.i18n import MissingText
from bot.services.staff import staff_for_token
from bot.services.surveys import SurveyError
from bot.staff.console.session import (
    LANG_COOKIE,
    SESSION_COOKIE,
    csrf_ok,
    csrf_token,
    language,
    secure_cookies,
)
from bot.storage.uow import UnitOfWork

T = TypeVar("T")
HERE = Path(__file__).parent
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"])
)
#: Refusals a form shows as a message instead of failing (their `reason` is a locale key).
REFUSALS = (
    EscalationError,
    TicketError,
    ComplaintError,
    CertificateError,
    StaffError,
    MediaError,
    StaleConversation,
    SurveyError,
)
#: Content-Security-Policy: our own scripts and styles only, no inline ones, never framed.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class NotSignedIn(Exception):
    """No valid session: pages send the person to the sign-in form."""


class Forbidden(Exception):
    """Signed in, but the role is too low (the same roles as the API's) or the form's CSRF
    token is wrong: 403."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Page:
    """One request's view of the console: the texts, the person, the form token."""

    console: Console
    lang: str
    user: StaffUser | None = None
    csrf: str = ""
    path: str = "/console"
    #: The refusal (explained) or success of the form that led here, from the query.
    error: str = ""
    done: bool = False

    def t(self, key: str, **values: Any) -> str:
        return self.console.services.texts.get(f"console.{key}", self.lang, **values)

    def x(self, key: str, **values: Any) -> str:
        """A text of another namespace (a repair category's name, say)."""
        return self.console.services.texts.get(key, self.lang, **values)

    def may(self, role: str) -> bool:
        return self.user is not None and self.user.role.allows(StaffRole(role))

    def local(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        return f"{moment.astimezone(self.console.services.settings.tz):%Y-%m-%d %H:%M}"

    def render(self, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        html = TEMPLATES.get_template(template).render(page=self, t=self.t, **values)
        return HTMLResponse(html, status_code)


class Console:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], services: Services) -> None:
        self.uow = uow_factory
        self.services = services
        self.secret = services.settings.secret_key
        self.secure = secure_cookies(services.settings.public_base_url)

    def now(self) -> datetime:
        return self.services.clock()

    def anonymous(self, request: Request) -> Page:
        page = Page(self, language(request.cookies.get(LANG_COOKIE)), path=_here(request))
        code = request.query_params.get("error", "")[:60]
        if code:
            try:
                page.error = page.t(f"error_{code}")
            except MissingText:
                page.error = page.t("error_other", code=code)
        page.done = request.query_params.get("done") == "1"
        return page

    async def page(self, request: Request, role: StaffRole = StaffRole.AGENT) -> Page:
        """The signed-in person's page, or NotSignedIn / Forbidden."""
        session = request.cookies.get(SESSION_COOKIE, "")
        user = None
        if session:
            async with self.uow() as uow:
                user = await staff_for_token(uow, self.secret, session, self.now())
        if user is None:
            raise NotSignedIn()
        if not user.role.allows(role):
            raise Forbidden(f"needs_role_{role.value}")
        page = self.anonymous(request)
        page.user, page.csrf = user, csrf_token(self.secret, session)
        return page

    async def form(
        self, request: Request, role: StaffRole = StaffRole.AGENT
    ) -> tuple[Page, StaffUser, FormData]:
        """A POSTed form of a signed-in person (who) with the right role and this session's
        token."""
        page = await self.page(request, role)
        form = await request.form()
        sent = form.get("csrf")
        if not isinstance(sent, str) or not csrf_ok(
            self.secret, request.cookies.get(SESSION_COOKIE, ""), sent
        ):
            raise Forbidden("csrf")
        assert page.user is not None
        return page, page.user, form

    async def act(
        self, back: str, work: Callable[[UnitOfWork], Awaitable[object]]
    ) -> RedirectResponse:
        """Run one staff action in its transaction, then show where it came from (with the
        refusal's code when the rules say no; nothing is written then)."""
        try:
            async with self.uow() as uow:
                await work(uow)
                await uow.commit()
        except REFUSALS as exc:
            reason = str(getattr(exc, "reason", "changed_meanwhile"))
            if isinstance(exc, MediaError):
                reason = f"photo_{reason}"
            return redirect(back, error=reason)
        return redirect(back, done="1")

    async def read(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        async with self.uow() as uow:
            return await work(uow)

    async def photo(self, upload: object) -> str | None:
        """Store an uploaded photo (checked to be an image, size-limited); None when the form
        field was left empty."""
        read = getattr(upload, "read", None)
        if read is None or not getattr(upload, "filename", ""):
            return None
        data = await read(self.services.media.max_bytes + 1)
        if not data:
            return None
        return self.services.media.save_image(data)


def text_field(form: FormData, name: str, limit: int = 4000) -> str:
    """A text field as typed (NUL, which PostgreSQL cannot store, removed; cut at `limit`
    only beyond what any service accepts, so the service still refuses too-long input)."""
    value = form.get(name)
    return value.replace("\x00", "")[:limit] if isinstance(value, str) else ""


def redirect(target: str, **query: str) -> RedirectResponse:
    if query:
        target = f"{target}{'&' if '?' in target else '?'}{urlencode(query)}"
    return RedirectResponse(target, status_code=303)


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def refused(console: Console, request: Request, exc: Exception) -> Response:
    """The answer to NotSignedIn (sign in first) and Forbidden (403 page)."""
    if isinstance(exc, NotSignedIn):
        if request.url.path.endswith(".json"):
            return Response(status_code=401)
        return redirect("/console/login", next=_here(request))
    page = console.anonymous(request)
    reason = getattr(exc, "reason", "forbidden")
    return page.render("forbidden.html", 403, reason=reason)
