"""Our HTTP app: health check, the owners' message pages, the webhook routes of the configured
channels, and the staff REST API under /api/v1 and the staff web console under /console."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import log_context
from bot.app.bootstrap import Runtime
from bot.metrics import ESCALATIONS, OUTBOX, OUTBOX_LAG
from bot.pages import messages, surveys
from bot.staff import api as staff_api
from bot.staff.console import routes as console
from bot.staff.console.web import SECURITY_HEADERS as CONSOLE_HEADERS
from bot.storage.migrate import migrations_current
from bot.storage.repositories.operations import Backlog, backlog

#: On every response: our pages run no script, load nothing from elsewhere (the one inline
#: stylesheet aside), may not be framed, and send no Referer carrying a signed link onwards.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


REQUEST_ID_HEADER = "X-Request-ID"
#: What an incoming id may look like to be kept (UUIDs, hex, a proxy's tokens); anything else,
#: too long or with spaces or control characters, is replaced rather than logged.
REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class EveryResponse:
    """Each request gets an id for its log lines (bot.log_context) and its response's
    X-Request-ID: the caller's own when it sends a sane one (a proxy's, to follow a request
    across services), else a new one. Each response gets the security headers a route did not
    set itself; under a prefix of `forced` (the console's stricter set) those headers replace
    the route's. Plain ASGI (not BaseHTTPMiddleware, which costs every request, WeChat's
    callbacks included, a task group and a memory stream): request bodies keep streaming
    untouched."""

    def __init__(self, app: ASGIApp, forced: Mapping[str, Mapping[str, str]]) -> None:
        self.app = app
        self.forced = forced

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = incoming if REQUEST_ID_SHAPE.fullmatch(incoming) else uuid.uuid4().hex
        path = scope["path"]
        forced = [h for prefix, h in self.forced.items() if path.startswith(prefix)]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for overriding in forced:
                    headers.update(overriding)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers[REQUEST_ID_HEADER] = request_id
            await send(message)

        with log_context.serving_request(request_id):
            await self.app(scope, receive, with_headers)


def create_app(runtime: Runtime) -> FastAPI:
    # /openapi.json documents the staff API (a contract); no interactive docs pages are served.
    app = FastAPI(title="Owner service bot", docs_url=None, redoc_url=None)
    app.state.runtime = runtime

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        body: dict[str, Any] = {"channels": [channel.name for channel in runtime.channels]}
        try:
            async with runtime.db.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means "not healthy", reported, not raised
            body.update(status="degraded", database=type(exc).__name__)
            return JSONResponse(body, status_code=503)
        body.update(status="ok", database="ok")
        return JSONResponse(body)

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        """Ready to serve: the database answers and its schema is the code's."""
        try:
            current = await migrations_current(runtime.db)
        except Exception as exc:  # any failure means "not ready", reported, not raised
            body = {"status": "not ready", "database": type(exc).__name__, "migrations": "?"}
            return JSONResponse(body, status_code=503)
        if not current:
            body = {"status": "not ready", "database": "ok", "migrations": "behind"}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ready", "database": "ok", "migrations": "current"})

    @app.get("/metrics")
    async def metrics() -> Response:
        """Prometheus text format; the shared backlog is read from the database now."""
        now = runtime.services.clock()
        try:
            async with runtime.uow() as uow:
                figures = await backlog(uow.session, now)
        except (SQLAlchemyError, OSError):
            figures = None  # the process's own counters are still worth scraping
        if figures is not None:
            set_backlog(figures, now)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    # The platforms' webhooks first: a request is matched against the routes in order, and
    # the callbacks of a burst (WeChat's, 100 at once) are what must be answered fastest; the
    # staff API, console and pages behind them are dozens of routes (py-spy: matching them cost a
    # tenth of a callback's CPU).
    for channel in runtime.channels:
        router = channel.routes()
        if router is not None:
            app.include_router(router)
    services = runtime.services
    app.include_router(
        messages.router(
            runtime.uow,
            services.texts,
            runtime.settings.secret_key,
            services.clock,
            runtime.settings.default_language,
            runtime.settings.tz,
        )
    )
    staff_api.mount(app, runtime.uow, services)
    app.include_router(
        surveys.router(
            surveys.SurveyPage(
                runtime.uow, services.texts, services.rules, runtime.settings, services.clock
            )
        )
    )
    console.mount(app, runtime.uow, services)
    # Added last, so outermost: every line of a request, its access log line included, has
    # the id.
    app.add_middleware(EveryResponse, forced={console.PREFIX: CONSOLE_HEADERS})
    return app


def set_backlog(figures: Backlog, now: datetime) -> None:
    OUTBOX.labels("due").set(figures.outbox_due)
    OUTBOX.labels("sent").set(figures.outbox_sent)
    OUTBOX.labels("failed").set(figures.outbox_failed)
    oldest = figures.oldest_due_at
    OUTBOX_LAG.set((now - oldest).total_seconds() if oldest is not None else 0.0)
    ESCALATIONS.labels("waiting").set(figures.escalations_waiting)
    ESCALATIONS.labels("overdue").set(figures.escalations_overdue)
