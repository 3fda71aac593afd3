"""What a flow step gets to work with: the message, the account, one transaction, the services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.config import Rules
from bot.engine.ports import ChannelGateway, MediaError
from bot.engine.types import IncomingMessage, Reply
from bot.i18n import Texts
from bot.media import MediaStore
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.domain.roster import Account
    from bot.faq import FaqMatcher
    from bot.storage.uow import UnitOfWork


@dataclass
class Services:
    """Long-lived collaborators, built once in `bot.bootstrap`."""

    settings: Settings
    rules: Rules
    texts: Texts
    media: MediaStore
    faq: FaqMatcher
    clock: Callable[[], datetime]
    gateways: dict[str, ChannelGateway] = field(default_factory=dict)


@dataclass
class Context:
    msg: IncomingMessage
    account: Account
    uow: UnitOfWork
    services: Services
    now: datetime

    @property
    def lang(self) -> str:
        return self.account.language

    @property
    def rules(self) -> Rules:
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

    async def notify_owner(
        self,
        owner_id: int,
        key: str,
        *,
        purpose: str,
        idempotency_key: str,
        link_path: str | None = None,
        delay: timedelta = timedelta(0),
        **values: Any,
    ) -> int:
        """Queue a push to every active account of an owner, each in its own language.

        The outbox worker delivers it (and survives restarts); returns how many were queued.
        """
        queued = 0
        for account in await self.uow.accounts.active_accounts_of_owner(owner_id):
            text = self.services.texts.get(key, account.language, **values)
            added = await self.uow.outbox.add(
                account_id=account.id,
                purpose=purpose,
                idempotency_key=f"{idempotency_key}:{account.id}",
                replies=[Reply(text).to_dict()],
                link_path=link_path,
                due_at=self.now + delay,
                now=self.now,
            )
            queued += int(added)
        return queued
