"""Which typed messages read as English (bot/engine/nudges.py): sentences do; short words,
numbers, codes, commands and Chinese with English words mixed in do not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.conversation import ConversationState
from bot.engine.nudges import reads_as_english


@pytest.mark.parametrize(
    "text",
    [
        "my kitchen pipe is leaking",
        "How much is the property fee?",
        "I can't open the door!",
        "ｍｙ ｐｉｐｅ ｉｓ ｂｒｏｋｅｎ",  # full-width, as some keyboards type
        "call me at 13800001234 please",
        "water is leaking。",  # a Chinese full stop is punctuation, not Chinese
    ],
)
def test_english_sentences(text: str) -> None:
    assert reads_as_english(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ok",
        "hi",
        "thanks",
        "thank you",
        "ok ok ok",
        "物业fee多少",
        "my 水管 is leaking",
        "/repair my kitchen please",
        "BX-20261123-0001",
        "bind DEMA2345",
        "13800001234",
        "1 2 3",
        "水管漏水",
        "ドアが壊れた the door",
    ],
)
def test_not_english_sentences(text: str) -> None:
    assert not reads_as_english(text)


def test_a_shown_nudge_is_remembered_beside_the_drafts_and_outlives_the_flow() -> None:
    state = ConversationState(account_id=1, flow="repair", step="photos")
    assert state.nudged_at("english") is None
    at = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    state.note_nudge("english", at)
    state.pause(at.isoformat())
    state.clear()
    assert state.nudged_at("english") == at
    assert state.take_paused("repair") is not None  # the draft is where it was
