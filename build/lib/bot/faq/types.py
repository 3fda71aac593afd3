"""What the FAQ hands back to the engine: plain frozen data, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FaqSuggestion:
    """A candidate the owner can press when the bot is not sure."""

    entry_id: str
    question: str  # the entry's first sample question in the asked language


@dataclass(frozen=True)
class FaqResult:
    """The outcome of one question.

    Three outcomes: `matched` with an `answer`; not matched with `suggestions` to choose from;
    or not matched and no suggestions, meaning "I don't know" (offer a person). `handoff` is set
    when the owner asked for a person or is making a complaint; then nothing else is filled in.
    """

    matched: bool
    entry_id: str | None
    score: float  # 0..100
    answer: str  # the filled-in answer when matched, "" otherwise
    handoff: bool
    suggestions: tuple[FaqSuggestion, ...]
    language: str  # "zh" or "en" actually used
