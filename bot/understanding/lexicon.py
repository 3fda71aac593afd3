"""The patterns of config/understanding/understanding.yaml, compiled once.

A property company extends them without a code change: a wrong answer an owner reports becomes a
pattern (or a typo) here, checked by the unit tests over the tuning set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import ConfigError, load_mapping

Patterns = tuple[re.Pattern[str], ...]
NAVIGATION = ("back", "cancel", "menu", "end_human")
SMALLTALK_KINDS = ("greeting", "thanks", "ack", "bye")
#: How many households a complaint concerns, as the complaint form's options (the first wins).
HOUSEHOLDS = ("many", "some", "one")
_SECTIONS = (
    "typos",
    "navigation",
    "smalltalk",
    "emergency",
    "human",
    "complaint",
    "complaint_topics",
    "households",
    "tickets",
    "certificate",
    "repair",
    "categories",
    "places",
    "urgent",
    "question",
    "topics",
)


@dataclass(frozen=True)
class Lexicon:
    typos: Mapping[str, str]  # variant → the form the patterns use
    navigation: Mapping[str, Patterns]  # whole-message words per navigation intent
    smalltalk: Mapping[str, tuple[str, ...]]  # kind → phrases
    emergency: Patterns
    human: Patterns
    complaint: Patterns
    complaint_topics: Mapping[str, Patterns]  # in order: the first match wins
    households: Mapping[str, Patterns]  # many, some, one: the first match wins
    tickets: Patterns
    certificate: Patterns
    repair_request: Patterns
    repair_problem: Patterns
    categories: Mapping[str, Patterns]  # in order: the first match wins
    places: Mapping[str, Patterns]
    urgent: Patterns
    question: Patterns
    topics: Patterns


def load_lexicon(path: Path) -> Lexicon:
    """Read and compile the file; ConfigError names the file and the bad pattern."""
    raw = load_mapping(path)
    unknown = sorted(set(raw) - set(_SECTIONS))
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {', '.join(unknown)}")
    try:
        return _build(raw)
    except (KeyError, TypeError, re.error) as exc:
        raise ConfigError(f"{path}: {exc!r}") from exc


def _build(raw: Mapping[str, Any]) -> Lexicon:
    repair = raw["repair"]
    return Lexicon(
        typos={
            str(variant): str(canonical)
            for canonical, variants in raw["typos"].items()
            for variant in variants
        },
        navigation={name: _compile(raw["navigation"][name]) for name in NAVIGATION},
        smalltalk={kind: tuple(str(p) for p in raw["smalltalk"][kind]) for kind in SMALLTALK_KINDS},
        emergency=_compile(raw["emergency"]),
        human=_compile(raw["human"]),
        complaint=_compile(raw["complaint"]),
        complaint_topics=_table(raw["complaint_topics"]),
        households={kind: _compile(raw["households"][kind]) for kind in HOUSEHOLDS},
        tickets=_compile(raw["tickets"]),
        certificate=_compile(raw["certificate"]),
        repair_request=_compile(repair["request"]),
        repair_problem=_compile(repair["problem"]),
        categories=_table(raw["categories"]),
        places=_table(raw["places"]),
        urgent=_compile(raw["urgent"]),
        question=_compile(raw["question"]),
        topics=_compile(raw["topics"]),
    )


def _table(raw: Mapping[str, Any]) -> dict[str, Patterns]:
    return {str(key): _compile(texts) for key, texts in raw.items()}


def _compile(texts: Sequence[str]) -> Patterns:
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise TypeError(f"expected a list of patterns, got {texts!r}")
    return tuple(re.compile(str(text)) for text in texts)


def matches(patterns: Patterns, text: str) -> bool:
    return any(pattern.search(text) for pattern in patterns)


def first_key(table: Mapping[str, Patterns], text: str) -> str | None:
    """The first entry (in file order) one of whose patterns matches."""
    return next((key for key, patterns in table.items() if matches(patterns, text)), None)
