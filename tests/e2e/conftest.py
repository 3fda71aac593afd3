"""Fixtures of the end-to-end suites."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.testing.fake_telegram import FakeTelegram


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    """The fake Bot API on loopback, in its own thread, for one test."""
    server = FakeTelegram().start()
    yield server
    server.stop()
