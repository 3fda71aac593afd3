"""The one composition root: settings in, a running set of collaborators out.

Only this module wires things: it builds the services, the engine, the configured channels and
the outbox worker, and registers each channel as a gateway once; nothing changes the wiring
afterwards. Nothing connects to a database or reads the environment at import time; tests build
a Runtime with their own settings and clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.console import ConsoleChannel
from bot.config import load_rules
from bot.domain.delivery import QuietHours, QuietHoursError, parse_quiet_hours
from bot.engine.context import Services
from bot.engine.engine import Engine
from bot.engine.ports import ChannelAdapter, ChannelGateway
from bot.faq import FaqMatcher, MissLog
from bot.handlers import all_flows
from bot.i18n import Texts
from bot.media import MediaStore
from bot.pages.messages import message_link
from bot.pages.surveys import survey_link
from bot.scheduler.deadlines import DeadlineWatcher
from bot.scheduler.outbox import OutboxWorker
from bot.scheduler.surveys import SurveyJobs
from bot.services.staff_group import StaffDesk
from bot.settings import Settings, SettingsError
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.storage.uow import UnitOfWork
from bot.storage.wechat_tokens import DatabaseTokenStore
from bot.understanding import Understander

log = logging.getLogger(__name__)


class DatabaseUnreachable(SettingsError):
    """Reported like a bad setting (one line, exit 2): usually DATABASE_URL or a server down."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class Ticking(Protocol):
    """A job the scheduler runs every few seconds."""

    async def run_once(self) -> object: ...


@dataclass
class Runtime:
    settings: Settings
    db: AsyncEngine
    services: Services
    engine: Engine
    outbox: OutboxWorker
    surveys: SurveyJobs
    deadlines: DeadlineWatcher
    channels: list[ChannelAdapter] = field(default_factory=list)
    #: The terminal chat of `demo` and `run --console`, when asked for.
    console: ConsoleChannel | None = None
    #: The Telegram staff group's relay (topics, owner messages, alerts), when configured.
    staff_group: Ticking | None = None

    def uow(self) -> UnitOfWork:
        return self.engine.uow_factory()

    @property
    def flow_names(self) -> set[str]:
        return set(self.engine.router.flows)

    async def upgrade_database(self) -> None:
        """Migrate; a database that cannot be reached stops the command in one line."""
        try:
            async with self.db.connect():
                pass
        except (OSError, SQLAlchemyError) as exc:
            where = self.db.url.render_as_string(hide_password=True)
            raise DatabaseUnreachable(
                f"DATABASE_URL: cannot connect to {where} ({type(exc).__name__}); "
                "is the database running and the URL right?"
            ) from None
        await upgrade(self.db)

    async def start_channels(self) -> None:
        for channel in self.channels:
            await channel.start()

    async def stop_channels(self) -> None:
        """Each channel stops even when another fails to (they share nothing)."""
        for channel in self.channels:
            try:
                await channel.stop()
            except Exception:
                log.exception("channel %s did not stop cleanly", channel.name)

    async def close(self) -> None:
        await self.db.dispose()


def build_services(
    settings: Settings,
    clock: Callable[[], datetime] = utc_now,
    faq: FaqMatcher | None = None,
) -> Services:
    """Every rule is parsed here, once: a mistake in rules.yaml stops start-up, not a
    conversation."""
    rules = load_rules(settings.config_dir)
    return Services(
        settings=settings,
        rules=rules,
        texts=Texts.from_dir(settings.config_dir / "locales", rules.company.text_values()),
        media=MediaStore(settings.media_dir, rules.max_photo_bytes),
        faq=faq or FaqMatcher.from_config(settings.config_dir),
        faq_misses=MissLog(settings.media_dir.parent / "faq_misses.jsonl"),
        clock=clock,
        understanding=Understander.from_config(settings.config_dir),
        survey_link=survey_link(settings.public_base_url, settings.secret_key),
    )


def build_runtime(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    with_channels: bool = True,
    with_console: bool = False,
    faq: FaqMatcher | None = None,
) -> Runtime:
    """`with_console` adds the terminal chat as a channel; `faq` lets tests share one loaded
    knowledge base instead of reading it per test."""
    db = create_engine(settings.database_url)
    sessions = session_factory(db)
    services = build_services(settings, clock, faq)

    def uow_factory() -> UnitOfWork:
        return UnitOfWork(sessions)

    link = message_link(settings.public_base_url, settings.secret_key, clock)
    outbox = OutboxWorker(
        uow_factory,
        services.gateways,
        clock,
        link,
        quiet=_quiet_hours(settings),
        timezone=settings.tz,
    )
    engine = Engine(uow_factory, services, all_flows(), on_queued=outbox.wake, direct=outbox)
    channels = build_channels(settings, engine, engine.uow_factory) if with_channels else []
    console = ConsoleChannel() if with_console else None
    gateways: list[ChannelGateway] = [*channels, *([console] if console else [])]
    for gateway in gateways:
        services.gateways[gateway.name] = gateway
    surveys = SurveyJobs(engine.uow_factory, services)
    deadlines = DeadlineWatcher(engine.uow_factory, clock)
    # Only a Telegram channel built with a staff desk has one (channels are imported lazily,
    # so the attribute is asked for rather than the class).
    staff_group = next(
        (group for channel in channels if (group := getattr(channel, "staff_group", None))),
        None,
    )
    return Runtime(
        settings,
        db,
        services,
        engine,
        outbox,
        surveys,
        deadlines,
        channels,
        console,
        staff_group,
    )


def _quiet_hours(settings: Settings) -> QuietHours | None:
    try:
        return parse_quiet_hours(settings.quiet_hours)
    except QuietHoursError as exc:
        raise SettingsError(f"invalid setting QUIET_HOURS: {exc}") from None


def build_channels(
    settings: Settings, engine: Engine, uow_factory: Callable[[], UnitOfWork]
) -> list[ChannelAdapter]:
    """Only configured channels start; each is imported only when configured."""
    channels: list[ChannelAdapter] = []
    if settings.telegram_enabled:
        from bot.channels.telegram.channel import TelegramChannel

        channels.append(
            TelegramChannel(
                settings,
                engine,
                staff_desk=staff_desk(settings, engine, uow_factory),
                max_photo_bytes=engine.services.rules.max_photo_bytes,
            )
        )
    if settings.wechat_enabled:
        from bot.channels.wechat.channel import WeChatChannel

        channels.append(
            WeChatChannel(
                settings,
                engine,
                database_tokens=DatabaseTokenStore(uow_factory, settings.wechat_app_id or ""),
                clock=engine.services.clock,
                media_path=engine.services.media.path_of,
            )
        )
    return channels


def staff_desk(
    settings: Settings, engine: Engine, uow_factory: Callable[[], UnitOfWork]
) -> StaffDesk | None:
    """The staff group's use cases, when STAFF_TELEGRAM_CHAT_ID names one."""
    if settings.staff_telegram_chat_id is None:
        return None
    services = engine.services
    return StaffDesk(
        uow_factory, services.rules, services.texts, services.media, services.clock, settings.tz
    )
