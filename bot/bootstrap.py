"""The one composition root: settings in, a running set of collaborators out.

Nothing connects to a database or reads the environment at import time; tests build a Runtime
with their own settings and clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Rules, load_rules
from bot.domain.binding import BindingLimits
from bot.domain.certificates import CertificateRules
from bot.domain.complaints import ComplaintRules
from bot.domain.repair import RepairRules
from bot.engine.context import Services
from bot.engine.engine import Engine
from bot.engine.ports import ChannelAdapter
from bot.faq import FaqMatcher, MissLog
from bot.handlers import all_flows
from bot.i18n import Texts
from bot.media import MediaStore
from bot.pages.messages import message_link
from bot.scheduler.outbox import OutboxWorker
from bot.settings import Settings
from bot.storage.db import create_engine, session_factory
from bot.storage.uow import UnitOfWork
from bot.understanding import Understander


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

    def uow(self) -> UnitOfWork:
        return self.engine.uow_factory()

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
        understanding=Understander.from_config(settings.config_dir),
    )


def build_runtime(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    with_channels: bool = True,
    faq: FaqMatcher | None = None,
) -> Runtime:
    """`faq` lets tests share one loaded knowledge base instead of reading it per test."""
    db = create_engine(settings.database_url)
    sessions = session_factory(db)
    services = build_services(settings, clock, faq)
    engine = Engine(lambda: UnitOfWork(sessions), services, all_flows())
    channels = build_channels(settings, engine) if with_channels else []
    for channel in channels:
        services.gateways[channel.name] = channel
    link = message_link(settings.public_base_url, settings.secret_key, clock)
    outbox = OutboxWorker(engine.uow_factory, services.gateways, clock, link)
    return Runtime(settings, db, services, engine, outbox, channels)


def build_channels(settings: Settings, engine: Engine) -> list[ChannelAdapter]:
    """Only configured channels start; each is imported only when configured."""
    channels: list[ChannelAdapter] = []
    if settings.telegram_enabled:
        from bot.channels.telegram import TelegramChannel

        channels.append(TelegramChannel(settings, engine))
    if settings.wechat_enabled:
        from bot.channels.wechat import WeChatChannel

        channels.append(WeChatChannel(settings, engine))
    return channels
