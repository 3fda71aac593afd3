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
_SECTIONS = (
    "typos",
    "navigation",
    "smalltalk",
    "emergency",
    "human",
    "complaint",
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
        tickets=_compile(raw["tickets"]),
        certificate=_compile(raw["certificate"]),
        repair_request=_compile(repair["request"]),
        repair_problem=_compile(repair["problem"]),
        categories={str(k): _compile(v) for k, v in raw["categories"].items()},
        places={str(k): _compile(v) for k, v in raw["places"].items()},
        urgent=_compile(raw["urgent"]),
        question=_compile(raw["question"]),
        topics=_compile(raw["topics"]),
    )


def _compile(texts: Sequence[str]) -> Patterns:
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise TypeError(f"expected a list of patterns, got {texts!r}")
    return tuple(re.compile(str(text)) for text in texts)


def matches(patterns: Patterns, text: str) -> bool:
    return any(pattern.search(text) for pattern in patterns)


def first_key(table: Mapping[str, Patterns], text: str) -> str | None:
    """The first entry (in file order) one of whose patterns matches."""
    return next((key for key, patterns in table.items() if matches(patterns, text)), None)
