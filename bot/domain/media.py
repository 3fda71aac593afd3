"""Why an owner's photo was not taken: the reason is a locale key suffix the flow words."""

from __future__ import annotations


class MediaError(Exception):
    """A photo could not be fetched or is not acceptable (`too_large`, `not_image`,
    `unavailable`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
