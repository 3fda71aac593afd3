"""What the engine and the outbox need from a channel adapter.

Adapters in `bot/channels/` implement `ChannelGateway`; the engine never learns which platform
it talks to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.engine.types import Reply


class DeliveryError(Exception):
    """A send failed. `permanent` means retrying cannot help (user blocked the bot, unsubscribed)."""

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


class ChannelGateway(Protocol):
    name: str

    async def send(self, user_id: str, replies: Sequence[Reply]) -> None:
        """Deliver replies to one platform user, in order; raise DeliveryError on failure."""

    async def fetch_media(self, media_ref: str, max_bytes: int) -> bytes:
        """Download a photo the user sent; raise MediaError when too large or unavailable."""
