"""Errors the pure rules raise; the loaders and the composition root say where they came from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ConfigError(Exception):
    """A company rule that cannot be given meaning: start-up stops with it."""


def whole(section: Mapping[str, Any], key: str) -> int:
    """`section[key]` as an int; a bad value names its key (KeyError already does)."""
    value = section[key]
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a whole number, not {value!r}") from None


def amount(section: Mapping[str, Any], key: str) -> float:
    """`section[key]` as a number of hours, minutes …; a bad value names its key."""
    value = section[key]
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a number, not {value!r}") from None
