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

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.settings import Settings, SettingsError
from bot.channels.console import ConsoleChannel
from bot.config import Rules, load_rules
from bot.domain.binding import BindingLimits
from bot.domain.certificates import CertificateRules
from bot.domain.complaints import ComplaintRules
from bot.domain.repair import RepairRules
from bot.engine.context import Services
from bot.engine.engine import Engine
from bot.engine.ports import ChannelAdapter, ChannelGateway
from bot.faq import FaqMatcher, MissLog
from bot.handlers import all_flows
from bot.i18n import Texts
from bot.media import MediaStore
from bot.pages.messages import message_link
from bot.scheduler.outbox import OutboxWorker
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)


class DatabaseUnreachable(SettingsError):
    """Reported like a bad setting (one line, exit 2): usually DATABASE_URL or a server down."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    db: AsyncEngine
    services: Services
    engine: Engine
    outbox: OutboxWorker
    channels: list[ChannelAdapter] = field(default_factory=list)
    #: The terminal chat of `demo` and `run --console`, when asked for.
    console: ConsoleChannel | None = None

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


def text_defaults(company: dict[str, object]) -> dict[str, object]:
    """Company values every text may use: {hotline}, {company_name} …"""
    values = dict(company)
    values["company_name"] = company.get("name", "")
    values["company_name_en"] = company.get("name_en", "")
    return values


def check_rules(rules: Rules) -> None:
    """Parse every section now: a mistake in rules.yaml stops start-up, not a conversation."""
    rules.parsed("binding", BindingLimits.from_config)
    rules.parsed("repair", RepairRules.from_config)
    rules.parsed("complaint", ComplaintRules.from_config)
    rules.parsed("certificate", CertificateRules.from_config)


def build_services(
    settings: Settings,
    clock: Callable[[], datetime] = utc_now,
    faq: FaqMatcher | None = None,
) -> Services:
    rules = load_rules(settings.config_dir)
    check_rules(rules)
    repair = rules.section("repair")
    return Services(
        settings=settings,
        rules=rules,
        texts=Texts.from_dir(settings.config_dir / "locales", text_defaults(dict(rules.company))),
        media=MediaStore(settings.media_dir, int(repair["max_photo_bytes"])),
        faq=faq or FaqMatcher.from_config(settings.config_dir),
        faq_misses=MissLog(settings.media_dir.parent / "faq_misses.jsonl"),
        clock=clock,
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
    engine = Engine(lambda: UnitOfWork(sessions), services, all_flows())
    channels = build_channels(settings, engine) if with_channels else []
    console = ConsoleChannel() if with_console else None
    gateways: list[ChannelGateway] = [*channels, *([console] if console else [])]
    for gateway in gateways:
        services.gateways[gateway.name] = gateway
    link = message_link(settings.public_base_url, settings.secret_key, clock)
    outbox = OutboxWorker(engine.uow_factory, services.gateways, clock, link)
    return Runtime(settings, db, services, engine, outbox, channels, console)


def build_channels(settings: Settings, engine: Engine) -> list[ChannelAdapter]:
    """Only configured channels start; each is imported only when configured."""
    channels: list[ChannelAdapter] = []
    if settings.telegram_enabled:
        from bot.channels.telegram.channel import TelegramChannel

        channels.append(TelegramChannel(settings, engine))
    if settings.wechat_enabled:
        from bot.channels.wechat.channel import WeChatChannel

        channels.append(WeChatChannel(settings, engine))
    return channels
