"""Mount the console: sign-in and out, the language switch, the pages, the static files, the
security headers of every console answer, and what a missing session or role turns into."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path as FilePath

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from bot.engine.context import Services
from bot.services.staff import TooManyAttempts, authenticate, issue_token
from bot.staff.console import (
    admin_pages,
    campaign_pages,
    case_pages,
    dashboard_pages,
    escalation_pages,
    ticket_pages,
)
from bot.staff.console.session import (
    LANG_COOKIE,
    LANGUAGES,
    SESSION_COOKIE,
    csrf_ok,
    csrf_token,
    end_session,
    safe_next,
    set_session,
)
from bot.staff.console.web import (
    Console,
    Forbidden,
    NotSignedIn,
    redirect,
    refused,
    text_field,
)
from bot.storage.uow import UnitOfWork

#: Where the console lives; its answers carry web.SECURITY_HEADERS (bot.app.http adds them).
PREFIX = "/console"
STATIC = FilePath(__file__).parent / "static"
#: Set before sign-in so the sign-in form carries a CSRF token too (login CSRF).
PRE_COOKIE = "console_pre"


def mount(app: FastAPI, uow_factory: Callable[[], UnitOfWork], services: Services) -> None:
    console = Console(uow_factory, services)
    app.include_router(sign_in_router(console))
    app.include_router(escalation_pages.router(console))
    app.include_router(ticket_pages.router(console))
    app.include_router(case_pages.router(console))
    app.include_router(dashboard_pages.router(console))
    app.include_router(admin_pages.router(console))
    app.include_router(campaign_pages.router(console))
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")

    async def on_refusal(request: Request, exc: Exception) -> Response:
        return refused(console, request, exc)

    app.add_exception_handler(NotSignedIn, on_refusal)
    app.add_exception_handler(Forbidden, on_refusal)


def sign_in_router(console: Console) -> APIRouter:
    routes = APIRouter(prefix=PREFIX)

    @routes.get("")
    @routes.get("/")
    async def home() -> Response:
        return redirect("/console/inbox")

    @routes.get("/login")
    async def login_form(request: Request, next: str = "/console/inbox") -> Response:
        page = console.anonymous(request)
        pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
        response = page.render(
            "login.html",
            401 if page.error else 200,
            next=safe_next(next),
            csrf=csrf_token(console.secret, f"pre:{pre}"),
        )
        response.set_cookie(
            PRE_COOKIE, pre, path="/console", httponly=True, samesite="lax", secure=console.secure
        )
        return response

    @routes.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        target = safe_next(text_field(form, "next", 500))
        sent = text_field(form, "csrf", 200)
        if not csrf_ok(console.secret, f"pre:{request.cookies.get(PRE_COOKIE, '')}", sent):
            raise Forbidden("csrf")
        address = request.client.host if request.client else "-"
        now = console.now()
        try:
            async with console.uow() as uow:
                user = await authenticate(
                    uow,
                    text_field(form, "username", 200),
                    text_field(form, "password", 1024),
                    address,
                    now,
                )
                await uow.commit()
        except TooManyAttempts as exc:
            page = console.anonymous(request)
            minutes = int(exc.retry_after.total_seconds()) // 60
            page.error = page.t("error_too_many_attempts", minutes=minutes)
            refusal = page.render("login.html", 429, next=target, csrf=sent)
            refusal.headers["Retry-After"] = str(int(exc.retry_after.total_seconds()))
            return refusal
        if user is None:
            return redirect("/console/login", next=target, error="bad_credentials")
        response = redirect(target)
        set_session(response, issue_token(console.secret, user, now), console.secure)
        return response

    @routes.post("/logout")
    async def logout(request: Request) -> Response:
        await console.form(request)
        response = redirect("/console/login")
        end_session(response, console.secure)
        return response

    @routes.get("/lang/{lang}")
    async def switch_language(lang: str, next: str = "/console/inbox") -> Response:
        """Only a preference cookie changes (nothing on the server), so a link does it."""
        response = redirect(safe_next(next))
        if lang in LANGUAGES:
            response.set_cookie(
                LANG_COOKIE,
                lang,
                max_age=365 * 86400,
                path="/console",
                samesite="lax",
                secure=console.secure,
            )
        return response

    return routes


__all__ = ["SESSION_COOKIE", "mount"]
