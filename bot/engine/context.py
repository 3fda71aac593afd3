"""What a flow step gets to work with: the message, the account, one transaction, the services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.engine.ports import ChannelGateway, MediaError
from bot.engine.types import IncomingMessage, MessageKind
from bot.i18n import Texts
from bot.media import MediaStore
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.domain.conversation import ConversationState
    from bot.domain.roster import Account
    from bot.domain.rules import CompanyRules
    from bot.faq import FaqMatcher, MissLog
    from bot.storage.uow import UnitOfWork
    from bot.understanding import Understander


@dataclass
class Services:
    """Long-lived collaborators, built once in `bot.app.bootstrap`."""

    settings: Settings
    rules: CompanyRules
    texts: Texts
    media: MediaStore
    faq: FaqMatcher
    faq_misses: MissLog
    clock: Callable[[], datetime]
    understanding: Understander
    #: The signed web page of a survey, valid until the given time (bot.pages.surveys).
    survey_link: Callable[[int, datetime], str]
    gateways: dict[str, ChannelGateway] = field(default_factory=dict)


@dataclass
class Context:
    msg: IncomingMessage
    account: Account
    uow: UnitOfWork
    services: Services
    now: datetime
    #: The conversation being routed; flows read paused drafts from it.
    state: ConversationState
    #: What the owner already said when a flow starts from free text (the router fills it from
    #: the understanding step): description, category, location, photos, smalltalk kind.
    prefill: dict[str, Any] = field(default_factory=dict)
    #: The photo of this message, downloaded before the transaction began (see `fetch_photo`).
    photo: bytes | MediaError | None = None

    @property
    def lang(self) -> str:
        return self.account.language

    @property
    def rules(self) -> CompanyRules:
        return self.services.rules

    def t(self, key: str, **values: Any) -> str:
        return self.services.texts.get(key, self.lang, **values)

    def local_now(self) -> datetime:
        return self.now.astimezone(self.services.settings.tz)

    async def save_photo(self) -> str:
        """Check and store the photo of this message.

        Raises MediaError (reason `too_large`, `not_image`, `unavailable`) for the step to
        explain to the owner; nothing of the draft is lost.
        """
        if isinstance(self.photo, MediaError):
            raise MediaError(self.photo.reason)
        if self.photo is None:
            raise MediaError("unavailable")
        return self.services.media.save_image(self.photo)


async def fetch_photo(services: Services, msg: IncomingMessage) -> bytes | MediaError | None:
    """The photo of a message, fetched from its channel before the engine opens the flow's
    transaction: a download (and a WeChat access_token refresh, which writes to the database
    when there is no Redis) must not run while that transaction holds SQLite's write lock."""
    if msg.kind is not MessageKind.PHOTO or not msg.media_ref:
        return None
    gateway = services.gateways.get(msg.channel)
    if gateway is None:
        return MediaError("unavailable")
    try:
        return await gateway.fetch_media(msg.media_ref, services.media.max_bytes)
    except MediaError as exc:
        return exc
