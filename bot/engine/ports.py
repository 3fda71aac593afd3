"""The two sides of the line between the engine and the channels.

Adapters in `bot/channels/` implement `ChannelGateway` (what the engine and the outbox need from
a platform) and talk to the engine only through `EnginePort` (record, process, catch up,
deactivate, the texts and the command list), which the composition root hands them. So a channel
never reaches into the engine's router, services or database, and the engine never learns which
platform it talks to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from bot.domain.media import MediaError
from bot.engine.types import IncomingMessage, Reply

__all__ = [
    "Answer",
    "ChannelAdapter",
    "ChannelGateway",
    "DeliveryError",
    "EnginePort",
    "EngineUnavailable",
    "MediaError",
    "Push",
    "Recorded",
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

    async def process(self, msg: IncomingMessage) -> Answer:
        """Handle a recorded update exactly once (a repeat gets the first answer)."""

    async def process_pending(self, channel: str) -> list[tuple[IncomingMessage, Answer]]:
        """Handle what was recorded but never handled (a crash in between)."""

    async def deactivate(self, channel: str, user_id: str) -> None:
        """The platform says the user is gone (blocked, unsubscribed): push nothing more."""

    def commands(self) -> list[str]:
        """The slash commands of the flows, for a platform's command menu."""


class DeliveryError(Exception):
    """A send failed. `permanent`: retrying cannot help (the user blocked us, unsubscribed)."""

    def __init__(
        self, reason: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


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
    ) -> None:
        """Deliver replies to one platform user, in order, worded around in `lang`; raise
        DeliveryError on failure."""

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
