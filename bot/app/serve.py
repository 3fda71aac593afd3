"""`python -m bot run`: one process with the HTTP server, the configured channels, the outbox
worker ticked by APScheduler and, on a terminal, the console chat."""

from __future__ import annotations

import asyncio
import logging
import sys

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app.bootstrap import Runtime
from bot.app.http import create_app
from bot.app.outages import OutageLog
from bot.channels.console import chat

log = logging.getLogger(__name__)

OUTBOX_TICK_SECONDS = 2


async def serve(runtime: Runtime, *, console_user: str | None) -> None:
    await runtime.upgrade_database()
    scheduler = AsyncIOScheduler(timezone=runtime.settings.timezone)
    scheduler.add_job(
        OutageLog("outbox", runtime.outbox.run_once).tick,
        "interval",
        seconds=OUTBOX_TICK_SECONDS,
        max_instances=1,
        coalesce=True,
    )
    scheduler.start()
    await runtime.start_channels()
    _explain_channels(runtime)
    config = uvicorn.Config(
        create_app(runtime),
        host=runtime.settings.bot_host,
        port=runtime.settings.bot_port,
        # Request logs would interleave with the chat in the terminal.
        log_level="warning" if console_user else runtime.settings.log_level.lower(),
    )
    server = uvicorn.Server(config)
    tasks = [asyncio.create_task(server.serve())]
    if console_user is not None:
        tasks.append(asyncio.create_task(_console(runtime, console_user, server)))
    try:
        await asyncio.gather(*tasks)
    finally:
        scheduler.shutdown(wait=False)
        await runtime.stop_channels()
        await runtime.close()


async def _console(runtime: Runtime, user_id: str, server: uvicorn.Server) -> None:
    if runtime.console is None:
        raise RuntimeError("run --console needs a runtime built with_console=True")
    await chat(
        runtime.engine, runtime.console, sys.stdin, user_id=user_id, language=None, echo=False
    )
    server.should_exit = True


def _explain_channels(runtime: Runtime) -> None:
    settings = runtime.settings
    if not settings.telegram_enabled:
        log.info("Telegram is off: set TELEGRAM_TOKEN (see README, 'Telegram') to turn it on.")
    if not settings.wechat_enabled:
        log.info(
            "WeChat is off: set WECHAT_APP_ID, WECHAT_APP_SECRET and WECHAT_TOKEN "
            "(see README, 'WeChat') to turn it on."
        )
    log.info(
        "HTTP server on http://%s:%s (health: /healthz, readiness: /readyz)",
        settings.bot_host,
        settings.bot_port,
    )
