"""Our HTTP app: health check, the owners' message pages, the webhook routes of the configured
channels, and the staff REST API under /api/v1 and the staff web console under /console."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from bot.app.bootstrap import Runtime
from bot.pages import messages, surveys
from bot.staff import api as staff_api
from bot.staff.console import routes as console


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
    for channel in runtime.channels:
        router = channel.routes()
        if router is not None:
            app.include_router(router)
    return app
