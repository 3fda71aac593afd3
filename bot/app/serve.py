"""`python -m bot run`: one process with the HTTP server, the configured channels, the
continuous outbox worker (woken by every new reply and by an APScheduler job each
SCHEDULER_TICK_SECONDS, for rows that fall due by time) and, on a terminal, the console chat."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import Awaitable, Callable

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from uvicorn.config import LOGGING_CONFIG

from bot.app.bootstrap import Runtime
from bot.app.http import create_app
from bot.app.outages import OutageLog
from bot.channels.console import chat
from bot.domain.rules import CompanyRules

log = logging.getLogger(__name__)

#: How often due survey invitations, reminders and expiries are looked for.
SURVEY_TICK_SECONDS = 60
#: The daily revisit scan, local time: after the default quiet hours (QUIET_HOURS 21:00–08:00).
REVISIT_SCAN_HOUR = 9
#: The deadline watcher and the staff group's relay: a 一级 complaint or an emergency is alerted
#: within seconds, at any hour.
DEADLINE_TICK_SECONDS = 15
STAFF_GROUP_TICK_SECONDS = 3


async def serve(runtime: Runtime, *, console_user: str | None) -> None:
    if runtime.settings.environment == "production":
        _warn_unsigned(runtime.services.rules)
    await runtime.upgrade_database()
    await runtime.surveys.daily()
    scheduler = AsyncIOScheduler(timezone=runtime.settings.timezone)
    scheduler.add_job(
        runtime.outbox.tick,
        "interval",
        seconds=runtime.settings.scheduler_tick_seconds,
        max_instances=1,
        coalesce=True,
    )
    _survey_jobs(scheduler, runtime)
    _every(scheduler, runtime.deadlines.run_once, DEADLINE_TICK_SECONDS)
    if runtime.staff_group is not None:
        _every(scheduler, runtime.staff_group.run_once, STAFF_GROUP_TICK_SECONDS)
    scheduler.start()
    await runtime.start_channels()
    await runtime.outbox.start()
    _explain_channels(runtime)
    config = uvicorn.Config(
        create_app(runtime),
        host=runtime.settings.bot_host,
        port=runtime.settings.bot_port,
        # Request logs would interleave with the chat in the terminal.
        log_level="warning" if console_user else runtime.settings.log_level.lower(),
        # JSON lines: no handlers of uvicorn's own, its records reach our root handler.
        log_config=None if runtime.settings.log_format == "json" else LOGGING_CONFIG,
    )
    server = uvicorn.Server(config)
    _freeze_startup_objects()
    tasks = [asyncio.create_task(server.serve())]
    if console_user is not None:
        tasks.append(asyncio.create_task(_console(runtime, console_user, server)))
    try:
        await asyncio.gather(*tasks)
    finally:
        scheduler.shutdown(wait=False)
        # Sends in flight finish first (the channels' clients still open); replies queued
        # while the channels drain stay in the outbox for the next start.
        await runtime.outbox.stop()
        await runtime.stop_channels()
        await runtime.close()


def _freeze_startup_objects() -> None:
    """What start-up built (~200,000 objects: flows, FAQ index, ORM mappings, the app) lives as
    long as the process: kept out of the collector's sight, a full collection no longer scans
    it. Each full collection stopped the event loop for ~200 ms, a callback burst set off two
    (`bench wechat`, py-spy: 20 % of the samples in whatever frame allocated at that moment,
    p99 900 ms); frozen, one takes ~8 ms."""
    gc.collect()
    gc.freeze()


def _survey_jobs(scheduler: AsyncIOScheduler, runtime: Runtime) -> None:
    """The rows are the truth: a missed run is caught up by the next one (the daily scan also
    runs at start, before the server answers, so a restart never skips a day)."""
    jobs = runtime.surveys
    send_due = OutageLog("survey invitations", jobs.send_due).tick
    daily = OutageLog("revisit scan", jobs.daily).tick
    scheduler.add_job(
        send_due, "interval", seconds=SURVEY_TICK_SECONDS, max_instances=1, coalesce=True
    )
    scheduler.add_job(daily, "cron", hour=REVISIT_SCAN_HOUR, max_instances=1, coalesce=True)


def _every(scheduler: AsyncIOScheduler, job: Callable[[], Awaitable[object]], seconds: int) -> None:
    """One instance at a time; missed runs collapse into one (the rows are the truth)."""
    scheduler.add_job(job, "interval", seconds=seconds, max_instances=1, coalesce=True)


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


def _warn_unsigned(rules: CompanyRules) -> None:
    """One line at start-up in production: how many promises still rest on unsigned values."""
    count = len(rules.awaiting_sign_off)
    if count:
        log.warning(
            "%d value(s) in rules.yaml are DEFAULT or SAMPLE and await the company's sign-off; "
            "owners see them. List: python -m bot rules check",
            count,
        )
