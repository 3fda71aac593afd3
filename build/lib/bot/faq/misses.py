"""Questions the bot could not answer confidently, kept so the knowledge base can grow.

Stored as JSON lines (one object per question: time, text, lang, best score) in a plain file
rather than a database table: it keeps the FAQ independent of the storage layer and is easy to
inspect, ship to a spreadsheet or rotate. No owner identity is written: no user id, no channel,
and digit runs that look like phone or ID numbers and e-mail addresses are masked in the text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.faq.types import FaqResult

DEFAULT_MISS_PATH = Path("data/faq_misses.jsonl")
_LONG_NUMBER = re.compile(r"\d[\d\s-]{5,}[\dxX]")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def redact(text: str) -> str:
    """Mask what could identify an owner: phone and ID numbers, e-mail addresses."""
    return _LONG_NUMBER.sub("[number]", _EMAIL.sub("[email]", text))


@dataclass(frozen=True)
class Miss:
    time: str  # ISO 8601, UTC
    text: str
    lang: str
    score: float


@dataclass(frozen=True)
class MissGroup:
    """All misses whose normalised text is the same."""

    normalised: str
    count: int
    example: str  # the most recent original wording
    last_time: str
    best_score: float


class MissLog:
    """Appends unanswered questions to a JSON-lines file (created with its folder if missing)."""

    def __init__(self, path: Path = DEFAULT_MISS_PATH) -> None:
        self.path = path

    def record(self, text: str, result: FaqResult, now: datetime | None = None) -> bool:
        """Keep `text` if the FAQ had no confident answer and no hand-off; True if kept."""
        if result.matched or result.handoff or not text.strip():
            return False
        self.append(text, result.language, result.score, now)
        return True

    def append(self, text: str, lang: str, score: float, now: datetime | None = None) -> None:
        """Write one miss. One short write per line, so concurrent writers do not interleave."""
        moment = _as_utc(now or datetime.now(UTC))
        miss = Miss(moment.isoformat(timespec="seconds"), redact(text.strip()), lang, score)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(miss.__dict__, ensure_ascii=False) + "\n"
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)

    def read(self) -> list[Miss]:
        """All recorded misses, oldest first; unreadable lines are skipped."""
        if not self.path.exists():
            return []
        misses = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
                misses.append(
                    Miss(
                        str(data["time"]),
                        str(data["text"]),
                        str(data["lang"]),
                        float(data["score"]),
                    )
                )
            except (ValueError, KeyError, TypeError):
                continue
        return misses


def _as_utc(moment: datetime) -> datetime:
    """Times are stored in UTC so files from several servers sort together; naive means UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def group_misses(misses: Iterable[Miss], normalise: Callable[[str], str]) -> list[MissGroup]:
    """Misses grouped by normalised text, most frequent first (ties: most recent first)."""
    groups: dict[str, list[Miss]] = {}
    for miss in misses:
        key = normalise(miss.text).replace(" ", "") or miss.text
        groups.setdefault(key, []).append(miss)
    summary = [
        MissGroup(
            normalised=key,
            count=len(items),
            example=items[-1].text,
            last_time=max(m.time for m in items),
            best_score=max(m.score for m in items),
        )
        for key, items in groups.items()
    ]
    summary.sort(key=lambda g: g.last_time, reverse=True)
    summary.sort(key=lambda g: g.count, reverse=True)
    return summary
