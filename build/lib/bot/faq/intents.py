"""Messages the FAQ must not answer from the knowledge base.

Before looking for an answer the matcher asks: is this an insult, a request for a person, a
complaint being made (not a question about complaints), or a topic the sources say nothing about?
The patterns are data (config/faq/intents.yaml) applied to the normalised message.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.faq.yamlnodes import Issue, compose_file, line_of, mapping_items, text_list


class Intent(enum.Enum):
    QUESTION = "question"
    ABUSE = "abuse"
    HANDOFF = "handoff"
    DECLINE = "decline"


@dataclass(frozen=True)
class IntentRules:
    abuse: tuple[re.Pattern[str], ...] = ()
    handoff: tuple[re.Pattern[str], ...] = ()
    complaint_intent: tuple[re.Pattern[str], ...] = ()
    complaint_topic: tuple[re.Pattern[str], ...] = ()
    complaint_question: tuple[re.Pattern[str], ...] = ()
    decline: tuple[re.Pattern[str], ...] = ()

    def classify(self, normalised: str) -> Intent:
        """What kind of message this is; QUESTION means "look it up in the knowledge base".

        A request for a person wins over an insult: an angry owner who asks for staff gets staff.
        """
        if _any(self.handoff, normalised) or self._is_complaint(normalised):
            return Intent.HANDOFF
        if _any(self.abuse, normalised):
            return Intent.ABUSE
        if _any(self.decline, normalised):
            return Intent.DECLINE
        return Intent.QUESTION

    def _is_complaint(self, normalised: str) -> bool:
        """ "我要投诉物业" is a complaint; "投诉后多久处理" is a question about complaints."""
        if _any(self.complaint_intent, normalised):
            return True
        return _any(self.complaint_topic, normalised) and not _any(
            self.complaint_question, normalised
        )


def _any(patterns: Sequence[re.Pattern[str]], text: str) -> bool:
    return any(pattern.search(text) for pattern in patterns)


_SECTIONS = ("abuse", "handoff", "complaint", "decline")
_COMPLAINT_PARTS = ("intent", "topic", "question")


def load_intents(path: Path) -> tuple[IntentRules, list[Issue]]:
    """Read intents.yaml; a missing file means no rules (every message is a question)."""
    if not path.exists():
        return IntentRules(), []
    root, issues = compose_file(path)
    if root is None:
        return IntentRules(), issues
    sections = mapping_items(root, path, issues, "intents file") or {}
    for name, (key_node, _) in sections.items():
        if name not in _SECTIONS:
            issues.append(Issue(path, line_of(key_node), f"unknown section '{name}'"))
    lists = {
        name: _patterns(sections, name, path, issues) for name in ("abuse", "handoff", "decline")
    }
    complaint: dict[str, tuple[re.Pattern[str], ...]] = {part: () for part in _COMPLAINT_PARTS}
    if "complaint" in sections:
        parts = mapping_items(sections["complaint"][1], path, issues, "complaint") or {}
        for part in _COMPLAINT_PARTS:
            complaint[part] = _patterns(parts, part, path, issues)
    rules = IntentRules(
        abuse=lists["abuse"],
        handoff=lists["handoff"],
        complaint_intent=complaint["intent"],
        complaint_topic=complaint["topic"],
        complaint_question=complaint["question"],
        decline=lists["decline"],
    )
    return rules, issues


def _patterns(
    sections: dict[str, tuple[yaml.Node, yaml.Node]], name: str, path: Path, issues: list[Issue]
) -> tuple[re.Pattern[str], ...]:
    if name not in sections:
        return ()
    compiled = []
    for text, line in text_list(sections[name][1], path, issues, name):
        try:
            compiled.append(re.compile(text))
        except re.error as exc:
            issues.append(Issue(path, line, f"bad pattern in {name}: {exc}"))
    return tuple(compiled)
