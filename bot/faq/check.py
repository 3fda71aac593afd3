"""`faq check`: everything that can be wrong with the FAQ files, reported as `file:line: problem`.

Checks the entry schema (in knowledge.py), then across entries: duplicate ids, one sample question
(after normalisation) under two entries, placeholders that are not company values, company values
written literally instead of as placeholders, and the synonym and intent files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.domain.fees import FEE_IDS
from bot.faq.intents import load_intents
from bot.faq.knowledge import (
    FEES_PLACEHOLDER,
    LANGUAGES,
    FaqEntry,
    load_company,
    placeholders_in,
    read_entries,
)
from bot.faq.normalize import Normaliser, compact, load_synonyms
from bot.faq.yamlnodes import Issue, display_path

# Durations such as "24小时" also occur as source facts ("24小时内必须回访到户"), so a company value
# that is only a duration is not flagged when it appears literally.
_DURATION = re.compile(r"^\d+\s*(小时|天|个?工作日|hours?|days?|working days?)$")


def check_config(config_dir: Path) -> list[Issue]:
    """All problems of config_dir/faq/*.yaml, given config_dir/rules.yaml's company values."""
    faq_dir = config_dir / "faq"
    synonyms, issues = load_synonyms(faq_dir / "synonyms.yaml")
    issues += load_intents(faq_dir / "intents.yaml")[1]
    company, company_issues = load_company(config_dir / "rules.yaml")
    issues += company_issues
    entries, entry_issues = read_entries(faq_dir)
    issues += entry_issues
    issues += check_entries(entries, Normaliser(synonyms), company)
    return issues


def check_entries(
    entries: Sequence[FaqEntry], normaliser: Normaliser, company: Mapping[str, str]
) -> list[Issue]:
    """Problems that involve more than one entry, or an entry and the company values."""
    issues = _duplicate_ids(entries)
    issues += _duplicate_questions(entries, normaliser)
    issues += _unknown_covers(entries)
    for entry in entries:
        issues += _placeholder_problems(entry, company)
    return issues


def _unknown_covers(entries: Sequence[FaqEntry]) -> list[Issue]:
    """An overview must name entries that exist (and not itself), or the matcher could not
    prefer it over them."""
    ids = {entry.id for entry in entries}
    return [
        Issue(entry.path, entry.line, f"'{entry.id}' covers '{covered}', not another entry")
        for entry in entries
        for covered in entry.covers
        if covered not in ids or covered == entry.id
    ]


def _duplicate_ids(entries: Sequence[FaqEntry]) -> list[Issue]:
    seen: dict[str, FaqEntry] = {}
    issues = []
    for entry in entries:
        first = seen.setdefault(entry.id, entry)
        if first is not entry:
            where = f"{display_path(first.path)}:{first.line}"
            issues.append(
                Issue(entry.path, entry.line, f"duplicate id '{entry.id}' (first at {where})")
            )
    return issues


def _duplicate_questions(entries: Sequence[FaqEntry], normaliser: Normaliser) -> list[Issue]:
    """The same question under two entries makes the match a coin toss: forbid it."""
    seen: dict[str, tuple[FaqEntry, int]] = {}
    issues = []
    for entry in entries:
        for lang in LANGUAGES:
            for question, line in zip(
                entry.questions[lang], entry.question_lines[lang], strict=True
            ):
                key = compact(normaliser.normalise(question))
                if not key:
                    issues.append(Issue(entry.path, line, "question is empty after normalisation"))
                    continue
                first = seen.setdefault(key, (entry, line))
                if first[0] is entry and first[1] == line:
                    continue
                where = f"{display_path(first[0].path)}:{first[1]}"
                owner = "this entry" if first[0] is entry else f"'{first[0].id}'"
                issues.append(
                    Issue(entry.path, line, f"question '{question}' repeats {owner} at {where}")
                )
    return issues


def _placeholder_problems(entry: FaqEntry, company: Mapping[str, str]) -> list[Issue]:
    """Every answer wording names only company values (and a fee answer its `{fees}`), and
    writes none of them out literally; a fee answer names only fees a project can set."""
    wordings = [
        (f"answer.{lang}", text, entry.answer_lines[lang], company)
        for lang, text in entry.answer.items()
    ]
    with_fees = {**company, FEES_PLACEHOLDER: ""}
    wordings += [
        (f"answer_with_fees.{lang}", text, entry.line, with_fees)
        for lang, text in entry.answer_with_fees.items()
    ]
    issues = [
        Issue(entry.path, entry.line, f"fees: unknown fee '{fee}' (known: {', '.join(FEE_IDS)})")
        for fee in entry.fees
        if fee not in FEE_IDS
    ]
    for where, template, line, known in wordings:
        issues += _wording_problems(entry, where, template, line, known)
    return issues


def _wording_problems(
    entry: FaqEntry, where: str, template: str, line: int, known: Mapping[str, str]
) -> list[Issue]:
    try:
        names = placeholders_in(template)
    except ValueError as exc:
        return [Issue(entry.path, line, f"{where}: bad braces: {exc}")]
    issues = [
        Issue(
            entry.path,
            line,
            f"{where}: unknown placeholder {{{name}}} (company values: {', '.join(sorted(known))})",
        )
        for name in names
        if name not in known
    ]
    issues += [
        Issue(entry.path, line, f"{where}: write {{{key}}} instead of '{value}'")
        for key, value in known.items()
        if _is_distinctive(value) and value in template
    ]
    return issues


def _is_distinctive(value: str) -> bool:
    """A company value that can only mean that value when seen in an answer (a phone, a fee)."""
    has_marker = any(ch.isdigit() for ch in value) or "@" in value
    return len(value) >= 4 and has_marker and not _DURATION.match(value)
