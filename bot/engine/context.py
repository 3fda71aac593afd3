"""What a flow step gets to work with: the message, the account, one transaction, the services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.engine.ports import ChannelGateway, MediaError
from bot.engine.types import IncomingMessage
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
        """Fetch the photo of this message from its channel, check it, store it.

        Raises MediaError (reason `too_large`, `not_image`, `unavailable`) for the step to
        explain to the owner; nothing of the draft is lost.
        """
        if not self.msg.media_ref:
            raise MediaError("unavailable")
        gateway = self.services.gateways.get(self.msg.channel)
        if gateway is None:
            raise MediaError("unavailable")
        data = await gateway.fetch_media(self.msg.media_ref, self.services.media.max_bytes)
        return self.services.media.save_image(data)
