"""What the engine and the outbox need from a channel adapter.

Adapters in `bot/channels/` implement `ChannelGateway`; the engine never learns which platform
it talks to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from bot.engine.types import Reply

if TYPE_CHECKING:
    from fastapi import APIRouter


class DeliveryError(Exception):
    """A send failed. `permanent`: retrying cannot help (the user blocked us, unsubscribed)."""

    def __init__(
        self, reason: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class MediaError(Exception):
    """A photo could not be fetched or is not acceptable; `reason` is a locale key suffix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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

    async def send(self, user_id: str, replies: Sequence[Reply], push: Push | None = None) -> None:
        """Deliver replies to one platform user, in order; raise DeliveryError on failure."""

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
