"""The FAQ knowledge base: entries read from config/faq/*.yaml plus the company's values.

Each topic file is a list of entries (id, answer zh/en, sample questions zh/en, tags, source).
Answers hold `{placeholders}` for company values (hotline, fees, deadlines) that live once in
config/rules.yaml, so a number is changed in one place and no answer can drift from it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.faq.normalize import Language
from bot.faq.yamlnodes import (
    SAFE_LOADER,
    Issue,
    compose_file,
    line_of,
    mapping_items,
    scalar_text,
    sequence_items,
    text_list,
)

LANGUAGES: tuple[Language, ...] = ("zh", "en")
#: Files in config/faq/ that hold matching data, not entries.
DATA_FILES = frozenset({"synonyms.yaml", "intents.yaml"})
ENTRY_KEYS = frozenset({"id", "answer", "questions", "tags", "source"})
#: An answer about fees: `fees` names them (bot.domain.fees.FEE_IDS), `answer_with_fees` is
#: the answer for an owner whose project has one set, `{fees}` where its figures go.
FEE_KEYS = frozenset({"fees", "answer_with_fees"})
#: What stands in an answer for the owner's project's fee figures.
FEES_PLACEHOLDER = "fees"
#: Fields an entry may leave out.
OPTIONAL_KEYS = FEE_KEYS | {"covers"}
MIN_QUESTIONS: Mapping[Language, int] = {"zh": 3, "en": 1}
_ID = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
_SOURCE = re.compile(r"^\d{3}(,\d{3})*$")


@dataclass(frozen=True)
class FaqEntry:
    """One question-and-answer pair; `answer` holds templates, filled by `render_answers`."""

    id: str
    answer: Mapping[Language, str]
    questions: Mapping[Language, tuple[str, ...]]
    tags: tuple[str, ...]
    source: str
    path: Path
    line: int
    answer_lines: Mapping[Language, int]
    question_lines: Mapping[Language, tuple[int, ...]]
    #: The fees the answer is about, and its wording when the owner's project sets them.
    fees: tuple[str, ...] = ()
    answer_with_fees: Mapping[Language, str] = field(default_factory=dict)
    #: Ids of the narrower entries whose facts this entry's answer already gives (an overview:
    #: the warranty periods of every part): a question that names none of their own words is
    #: answered by this entry instead of asked back (FaqMatcher._overview).
    covers: tuple[str, ...] = ()


class FaqConfigError(Exception):
    """The FAQ files have problems; the message lists each as `file:line: problem`."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


def entry_files(faq_dir: Path) -> list[Path]:
    """Topic files in a stable order (data files such as synonyms.yaml excluded)."""
    return sorted(p for p in faq_dir.glob("*.yaml") if p.name not in DATA_FILES)


def read_entries(faq_dir: Path) -> tuple[list[FaqEntry], list[Issue]]:
    """All well-formed entries of all topic files, and the problems found on the way."""
    entries: list[FaqEntry] = []
    issues: list[Issue] = []
    files = entry_files(faq_dir)
    if not files:
        issues.append(Issue(faq_dir, 0, "no FAQ files (*.yaml) found"))
    for path in files:
        root, file_issues = compose_file(path)
        issues.extend(file_issues)
        if root is None:
            continue
        for node in sequence_items(root, path, issues, "an FAQ file") or []:
            entry = _read_entry(node, path, issues)
            if entry is not None:
                entries.append(entry)
    return entries, issues


def _read_entry(node: yaml.Node, path: Path, issues: list[Issue]) -> FaqEntry | None:
    fields = mapping_items(node, path, issues, "an entry")
    if fields is None:
        return None
    before = len(issues)
    for key, (key_node, _) in fields.items():
        if key not in ENTRY_KEYS | OPTIONAL_KEYS:
            issues.append(Issue(path, line_of(key_node), f"unknown field '{key}'"))
    for missing in sorted(ENTRY_KEYS - fields.keys()):
        issues.append(Issue(path, line_of(node), f"entry lacks '{missing}'"))
    if ENTRY_KEYS - fields.keys():
        return None
    entry_id = scalar_text(fields["id"][1], path, issues, "id")
    if entry_id is not None and not _ID.match(entry_id):
        issues.append(Issue(path, line_of(fields["id"][1]), f"id '{entry_id}' is not snake_case"))
    answer, answer_lines = _read_answer(fields["answer"][1], path, issues)
    questions, question_lines = _read_questions(fields["questions"][1], path, issues)
    tags = [text for text, _ in text_list(fields["tags"][1], path, issues, "tags")]
    source = scalar_text(fields["source"][1], path, issues, "source")
    covers = (
        [text for text, _ in text_list(fields["covers"][1], path, issues, "covers")]
        if "covers" in fields
        else []
    )
    if source is not None and not _SOURCE.match(source.replace(" ", "")):
        issues.append(
            Issue(path, line_of(fields["source"][1]), f"source '{source}' is not like \"000,002\"")
        )
    fees, answer_with_fees = _read_fee_answer(fields, path, issues)
    if len(issues) > before or entry_id is None or source is None:
        return None
    return FaqEntry(
        id=entry_id,
        answer=answer,
        questions=questions,
        tags=tuple(tags),
        source=source.replace(" ", ""),
        path=path,
        line=line_of(node),
        answer_lines=answer_lines,
        question_lines=question_lines,
        fees=fees,
        answer_with_fees=answer_with_fees,
        covers=tuple(covers),
    )


def _read_fee_answer(
    fields: Mapping[str, tuple[yaml.Node, yaml.Node]], path: Path, issues: list[Issue]
) -> tuple[tuple[str, ...], dict[Language, str]]:
    """`fees` and `answer_with_fees`, both or neither; each wording has `{fees}`."""
    present = FEE_KEYS & fields.keys()
    if not present:
        return (), {}
    if present != FEE_KEYS:
        missing = next(iter(FEE_KEYS - present))
        issues.append(Issue(path, line_of(fields[next(iter(present))][0]), f"lacks '{missing}'"))
        return (), {}
    fees = tuple(text for text, _ in text_list(fields["fees"][1], path, issues, "fees"))
    answer, lines = _read_answer(fields["answer_with_fees"][1], path, issues)
    for lang, text in answer.items():
        if "{" + FEES_PLACEHOLDER + "}" not in text:
            issues.append(Issue(path, lines[lang], f"answer_with_fees.{lang} lacks {{fees}}"))
    return fees, answer


def _read_answer(
    node: yaml.Node, path: Path, issues: list[Issue]
) -> tuple[dict[Language, str], dict[Language, int]]:
    answer: dict[Language, str] = {}
    lines: dict[Language, int] = {}
    items = mapping_items(node, path, issues, "answer") or {}
    for key, (key_node, _) in items.items():
        if key not in LANGUAGES:
            issues.append(Issue(path, line_of(key_node), f"answer language '{key}' is not zh/en"))
    for lang in LANGUAGES:
        if lang not in items:
            issues.append(Issue(path, line_of(node), f"answer lacks '{lang}'"))
            continue
        text = scalar_text(items[lang][1], path, issues, f"answer.{lang}")
        if text is not None:
            answer[lang] = text
            lines[lang] = line_of(items[lang][1])
    return answer, lines


def _read_questions(
    node: yaml.Node, path: Path, issues: list[Issue]
) -> tuple[dict[Language, tuple[str, ...]], dict[Language, tuple[int, ...]]]:
    questions: dict[Language, tuple[str, ...]] = {}
    lines: dict[Language, tuple[int, ...]] = {}
    items = mapping_items(node, path, issues, "questions") or {}
    for key, (key_node, _) in items.items():
        if key not in LANGUAGES:
            issues.append(Issue(path, line_of(key_node), f"question language '{key}' is not zh/en"))
    for lang in LANGUAGES:
        listed = (
            text_list(items[lang][1], path, issues, f"questions.{lang}") if lang in items else []
        )
        if len(listed) < MIN_QUESTIONS[lang]:
            issues.append(
                Issue(path, line_of(node), f"questions.{lang} needs at least {MIN_QUESTIONS[lang]}")
            )
        questions[lang] = tuple(text for text, _ in listed)
        lines[lang] = tuple(line for _, line in listed)
    return questions, lines


def placeholders_in(template: str) -> list[str]:
    """Field names of a str.format template; raises ValueError on unbalanced braces."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def load_company(rules_path: Path) -> tuple[dict[str, str], list[Issue]]:
    """The `company:` section of rules.yaml as text values (what answers may reference)."""
    try:
        data = yaml.load(rules_path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        return {}, [Issue(rules_path, 1, f"cannot read company values: {exc}")]
    company = data.get("company") if isinstance(data, dict) else None
    if not isinstance(company, dict):
        return {}, [Issue(rules_path, 1, "rules file has no 'company:' mapping")]
    return {str(k): str(v) for k, v in company.items() if v is not None}, []


def company_values(company: Mapping[str, str], lang: Language) -> dict[str, str]:
    """Placeholder values for one language: an English answer prefers `<key>_en` when it exists."""
    values = dict(company)
    if lang == "en":
        for key in company:
            if f"{key}_en" in company:
                values[key] = company[f"{key}_en"]
    return values


def render_answers(entry: FaqEntry, company: Mapping[str, str]) -> dict[Language, str]:
    """The entry's answers with company values filled in (check_entries guarantees they exist)."""
    return {
        lang: template.format_map(company_values(company, lang))
        for lang, template in entry.answer.items()
    }


def render_fee_answers(entry: FaqEntry, company: Mapping[str, str]) -> dict[Language, str]:
    """The wordings for an owner whose project sets the fees, company values filled in and
    `{fees}` left for the figures."""
    keep = {FEES_PLACEHOLDER: "{" + FEES_PLACEHOLDER + "}"}
    return {
        lang: template.format_map(company_values(company, lang) | keep)
        for lang, template in entry.answer_with_fees.items()
    }
