"""Turning an owner's message into one canonical form before matching.

Owners write the same question in traditional or simplified characters, full- or half-width,
with typos from the input method and with different words for one thing (收楼 / 入伙 / 交房).
Matching compares canonical forms, so all of these meet. The typo and synonym lists are data
(config/faq/synonyms.yaml), not code, so the property company can extend them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import opencc
import yaml

from bot.faq.yamlnodes import Issue, compose_file, mapping_items, scalar_text, text_list

Language = Literal["zh", "en"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NOT_WORD = re.compile(r"[\W_]+")
_SPACES = re.compile(r"\s+")
# A space next to a non-ASCII character separates nothing in Chinese: drop it.
_SPACE_BY_NON_ASCII = re.compile(r" (?=[^\x00-\x7f])|(?<=[^\x00-\x7f]) ")
_ASCII_WORD = re.compile(r"[a-z0-9 ]+")
# Where one clause of a message ends: commas and sentence ends, not the enumeration comma "、"
# (门锁、窗户 is one list) nor a space (English words, "明天天气 how").
_CLAUSE_END = re.compile(r"(?:[,，。!！?？;；~～…\n]|\.(?!\d))+")
# The A-not-A question (修不修, 退不退, 有没有) asks the same as "修吗": keep the verb.
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")

_t2s = opencc.OpenCC("t2s")
# Marks both ends of a replaced term until normalise() or segment() resolves it (basic_form turns
# every control character into a space, so no message contains it).
_TERM = "\x02"


def detect_language(text: str) -> Language:
    """Any Chinese character means Chinese: owners who mix in English words still read Chinese."""
    return "zh" if _CJK.search(text) else "en"


def basic_form(text: str) -> str:
    """Script-, width- and case-folded text with punctuation turned into single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = _t2s.convert(text)
    text = text.casefold()
    text = _NOT_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def clauses(text: str) -> list[str]:
    """The parts of a message between commas and sentence ends, empty ones left out."""
    return [part for part in _CLAUSE_END.split(text) if part.strip()]


def compact(normalised: str) -> str:
    """The form used to tell whether two questions are "the same": no spaces at all."""
    return normalised.replace(" ", "")


@dataclass(frozen=True)
class SynonymTable:
    """What synonyms.yaml says.

    `replacements`: variant → canonical (canonical forms map to themselves); `fillers`: phrases to
    drop; `weak`: characters that mean little alone, used by the scorer to weigh features;
    `narrowing`: words that turn a topic into a narrower request (may it change, where, to whom),
    used by the matcher to tell a bare topic from a sample question that asks more.
    """

    replacements: Mapping[str, str] = field(default_factory=dict)
    fillers: tuple[str, ...] = ()
    weak: frozenset[str] = frozenset()
    narrowing: tuple[str, ...] = ()


class Normaliser:
    """Applies basic_form, then replaces variants and drops fillers in one longest-first pass."""

    def __init__(self, table: SynonymTable | None = None) -> None:
        table = table or SynonymTable()
        self.weak = table.weak
        replacements: dict[str, str] = dict(table.replacements)
        for filler in table.fillers:
            replacements.setdefault(filler, "")
        self._replacements = replacements
        # Variant lengths by first character, longest first: the scan tries few slices per position.
        lengths: dict[str, set[int]] = {}
        for variant in replacements:
            lengths.setdefault(variant[0], set()).add(len(variant))
        self._lengths = {ch: sorted(sizes, reverse=True) for ch, sizes in lengths.items()}
        self.narrowing = tuple(n for n in (self.normalise(w) for w in table.narrowing) if n)

    def normalise(self, text: str) -> str:
        """Canonical form of a message; empty when nothing meaningful is left."""
        return self.forms(text)[0]

    def segment(self, text: str) -> str:
        """The canonical form with a space wherever a known term (typos, synonyms) begins or
        ends, so no character bigram of it joins two terms: "房产证咋办理" → "产权证 怎么 办理",
        whose "证怎" is not a word and must not count as one when telling two entries apart."""
        return self.forms(text)[1]

    def forms(self, text: str) -> tuple[str, str]:
        """normalise() and segment() of one message, for the price of one."""
        marked = self._replace(_A_NOT_A.sub(r"\1", basic_form(text)))
        normalised = _SPACES.sub(" ", marked.replace(_TERM, " ")).strip()
        kept = _SPACE_BY_NON_ASCII.sub("", _SPACES.sub(" ", marked).strip())
        segmented = _SPACES.sub(" ", kept.replace(_TERM, " ")).strip()
        return _SPACE_BY_NON_ASCII.sub("", normalised), segmented

    def _replace(self, text: str) -> str:
        """Longest variant at each position wins (物业管理费 before 管理费); Latin ones whole."""
        pieces: list[str] = []
        position = 0
        size = len(text)
        while position < size:
            for length in self._lengths.get(text[position], ()):
                variant = text[position : position + length]
                if variant in self._replacements and _whole_word(text, position, length):
                    pieces.append(f"{_TERM}{self._replacements[variant]}{_TERM}")
                    position += length
                    break
            else:
                pieces.append(text[position])
                position += 1
        return "".join(pieces)


def _whole_word(text: str, start: int, length: int) -> bool:
    """Latin variants must not start or end inside a word ("deed" is not in "deeds")."""
    if not _ASCII_WORD.fullmatch(text[start : start + length]):
        return True
    before = text[start - 1] if start > 0 else " "
    after = text[start + length] if start + length < len(text) else " "
    return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())


def load_synonyms(path: Path) -> tuple[SynonymTable, list[Issue]]:
    """Read synonyms.yaml (typos, synonyms, fillers, weak, narrowing); a missing file means none."""
    if not path.exists():
        return SynonymTable(), []
    root, issues = compose_file(path)
    if root is None:
        return SynonymTable(), issues
    sections = mapping_items(root, path, issues, "synonyms file")
    if sections is None:
        return SynonymTable(), issues
    replacements: dict[str, str] = {}
    origin: dict[str, int] = {}
    for name, (key_node, value_node) in sections.items():
        if name in ("typos", "synonyms"):
            _read_groups(value_node, path, issues, replacements, origin)
        elif name not in ("fillers", "weak", "narrowing"):
            issues.append(Issue(path, key_node.start_mark.line + 1, f"unknown section '{name}'"))
    fillers: list[str] = []
    if "fillers" in sections:
        for text, line in text_list(sections["fillers"][1], path, issues, "fillers"):
            filler = basic_form(text)
            if filler in replacements:
                issues.append(Issue(path, line, f"filler '{text}' is also a synonym"))
            fillers.append(filler)
    weak = ""
    if "weak" in sections:
        weak = basic_form(scalar_text(sections["weak"][1], path, issues, "weak") or "")
    narrowing: list[str] = []
    if "narrowing" in sections:
        narrowing = [
            text for text, _ in text_list(sections["narrowing"][1], path, issues, "narrowing")
        ]
    _report_chained_canonicals(replacements, origin, path, issues)
    table = SynonymTable(
        replacements, tuple(fillers), frozenset(weak.replace(" ", "")), tuple(narrowing)
    )
    return table, issues


def _read_groups(
    node: yaml.Node,
    path: Path,
    issues: list[Issue],
    replacements: dict[str, str],
    origin: dict[str, int],
) -> None:
    """Add `canonical: [variants]` groups, reporting a variant claimed twice."""
    groups = mapping_items(node, path, issues, "synonym section")
    if groups is None:
        return
    for key_node, variants_node in groups.values():
        raw_canonical = scalar_text(key_node, path, issues, "canonical form")
        if raw_canonical is None:
            continue
        canonical = basic_form(raw_canonical)
        _claim(
            canonical, canonical, key_node.start_mark.line + 1, path, issues, replacements, origin
        )
        for text, line in text_list(variants_node, path, issues, f"variants of '{raw_canonical}'"):
            variant = basic_form(text)
            if variant == canonical:
                issues.append(Issue(path, line, f"variant '{text}' equals its canonical form"))
                continue
            _claim(variant, canonical, line, path, issues, replacements, origin)


def _claim(
    variant: str,
    canonical: str,
    line: int,
    path: Path,
    issues: list[Issue],
    replacements: dict[str, str],
    origin: dict[str, int],
) -> None:
    previous = replacements.get(variant)
    if previous is not None and not (previous == canonical and variant == canonical):
        issues.append(
            Issue(
                path,
                line,
                f"'{variant}' is already mapped to '{previous}' (line {origin[variant]})",
            )
        )
        return
    replacements[variant] = canonical
    origin[variant] = line


def _report_chained_canonicals(
    replacements: Mapping[str, str], origin: Mapping[str, int], path: Path, issues: list[Issue]
) -> None:
    """A canonical form that is also a variant elsewhere would need two passes: forbid it."""
    canonicals = {c for v, c in replacements.items() if v == c}
    for variant, canonical in replacements.items():
        if variant != canonical and variant in canonicals:
            issues.append(
                Issue(path, origin[variant], f"'{variant}' is both a canonical form and a variant")
            )
