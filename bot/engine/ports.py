"""The two sides of the line between the engine and the channels.

Adapters in `bot/channels/` implement `ChannelGateway` (what the engine and the outbox need from
a platform) and talk to the engine only through `EnginePort` (record, process, catch up,
deactivate, the texts and the command list), which the composition root hands them. So a channel
never reaches into the engine's router, services or database, and the engine never learns which
platform it talks to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from bot.domain.media import MediaError
from bot.engine.types import IncomingMessage, Reply

__all__ = [
    "Answer",
    "ChannelAdapter",
    "ChannelGateway",
    "Delivered",
    "DeliveryError",
    "EnginePort",
    "EngineUnavailable",
    "MediaError",
    "Push",
    "Recorded",
    "ReplyRoute",
]

if TYPE_CHECKING:
    from fastapi import APIRouter

    from bot.i18n import Texts


class EngineUnavailable(Exception):
    """The database could not be reached: the adapter must not acknowledge the update."""


@dataclass(frozen=True)
class Answer:
    """The replies to one update and the language of the owner they are for (the channel's own
    wording around them, such as WeChat's option hints, must match)."""

    replies: list[Reply]
    lang: str
    #: The outbox row these replies are delivered from (None when the caller shows them).
    outbox_id: int | None = None


class ReplyRoute(Enum):
    """How the replies to an update reach the owner."""

    #: Stored with the update's outcome and sent from the outbox at once: they survive a
    #: crash and a flood (429) and keep each chat's order.
    OUTBOX = "outbox"
    #: Stored, but held back a few seconds while the channel answers passively in the HTTP
    #: response (WeChat); the channel then marks them answered, or releases them.
    HELD = "held"
    #: Returned only: the caller shows them itself (the terminal chat).
    CALLER = "caller"


@dataclass(frozen=True)
class Recorded:
    duplicate: bool
    #: For a duplicate already handled: the answer it got the first time.
    answer: Answer | None = None


class EnginePort(Protocol):
    """All a channel adapter may ask of the engine."""

    @property
    def texts(self) -> Texts: ...

    @property
    def default_language(self) -> str: ...

    async def record(self, msg: IncomingMessage) -> Recorded:
        """Persist the update in the inbox before it is acknowledged; tells a redelivery."""

    async def record_batch(self, msgs: Sequence[IncomingMessage]) -> list[Recorded]:
        """`record` for a page of updates in one transaction; a `Recorded` per message."""

    async def process(self, msg: IncomingMessage, route: ReplyRoute = ReplyRoute.OUTBOX) -> Answer:
        """Handle a recorded update exactly once (a repeat gets the first answer); the replies
        are queued in the outbox with the outcome unless `route` says otherwise."""

    async def process_pending(self, channel: str) -> list[tuple[IncomingMessage, Answer]]:
        """Handle what was recorded but never handled (a crash in between); the replies go
        through the outbox."""

    async def answered_passively(self, outbox_id: int) -> None:
        """A HELD reply went back in the HTTP response: the outbox sends nothing more."""

    async def release(self, outbox_id: int) -> None:
        """A HELD reply could not go passively: the outbox sends it now."""

    async def deactivate(self, channel: str, user_id: str) -> None:
        """The platform says the user is gone (blocked, unsubscribed): push nothing more."""

    def commands(self) -> list[str]:
        """The slash commands of the flows, for a platform's command menu."""


class DeliveryError(Exception):
    """A send failed. `permanent`: retrying cannot help (the user blocked us, unsubscribed)."""

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        delivered: Delivered | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        #: What went out before the failure: a retry sends only the rest.
        self.delivered = delivered or Delivered()


@dataclass(frozen=True)
class Delivered:
    """What a send delivered: how many of the replies went out whole, and the platform's ids
    of the messages sent (Telegram message_id, WeChat template msgid)."""

    replies: int = 0
    message_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Push:
    """Set when the bot starts the conversation (outbox), not when it answers a message.

    WeChat needs it: customer-service messages are allowed only within 48 hours of the owner's
    last message, beyond that a template message linking to `link_url` goes out instead.
    """

    purpose: str
    last_inbound_at: datetime | None
    link_url: str | None = None


class ChannelGateway(Protocol):
    name: str

    async def send(
        self, user_id: str, replies: Sequence[Reply], *, lang: str, push: Push | None = None
    ) -> list[str]:
        """Deliver replies to one platform user, in order, worded around in `lang`; returns
        the platform's ids of the messages sent (empty where it gives none); raise
        DeliveryError, saying what went out before the failure, when one fails."""

    async def fetch_media(self, media_ref: str, max_bytes: int) -> bytes:
        """Download a photo the user sent; raise MediaError when too large or unavailable."""


class ChannelAdapter(ChannelGateway, Protocol):
    """A channel as `bot.app.bootstrap` runs it: a gateway plus its HTTP routes and lifecycle."""

    def routes(self) -> APIRouter | None:
        """Webhook endpoints to mount in our HTTP app, if the channel has any."""

    async def start(self) -> None:
        """Begin receiving (polling loop, webhook registration); must return promptly."""

    async def stop(self) -> None:
        """Stop receiving and flush what is in flight."""
