"""FaqMatcher: from an owner's message to an answer, suggestions, "I don't know" or a person.

Thresholds were calibrated on config/faq_eval.yaml (see docs/faq.md): a confident answer needs a
high score *and* a clear lead over the runner-up, because a wrong confident answer costs more
trust than an honest "I'm not sure, did you mean…".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from pathlib import Path

from bot.faq.check import check_entries
from bot.faq.index import FeatureIndex, Scored, features
from bot.faq.intents import Intent, IntentRules, load_intents
from bot.faq.knowledge import (
    FEES_PLACEHOLDER,
    FaqConfigError,
    FaqEntry,
    load_company,
    read_entries,
    render_answers,
    render_fee_answers,
)
from bot.faq.normalize import Language, Normaliser, clauses, detect_language, load_synonyms
from bot.faq.types import FaqResult, FaqSuggestion

#: A message of more clauses is a story, not a question among context: not searched clause by
#: clause, which bounds the cost of one message (a search per clause, ~0.3 ms each).
MAX_CLAUSES = 8


@dataclass(frozen=True)
class Thresholds:
    """Score limits (0..100) for the three outcomes; calibration in docs/faq.md."""

    answer: float = 35.0  # at least this and `lead` ahead of the runner-up: answer
    lead: float = 0.15  # the runner-up must be this share of the best score behind it
    sure: float = 80.0  # at least this: a smaller lead will do…
    sure_lead: float = 0.05  # …but a near tie between two strong entries still means "ask"
    suggest: float = 28.0  # at least this: offer it as a choice…
    spread: float = 0.35  # …if within this share of the best score
    max_suggestions: int = 3
    #: Two close entries are told apart when the best has central words the question uses and
    #: the runner-up lacks, and the runner-up's own such words weigh at most this share of them.
    distinct_share: float = 0.3


def resolve_language(text: str, lang: str | None) -> Language:
    """The caller's language when it names zh or en (also "zh-hans", "en-US"); else detect."""
    hint = (lang or "").lower()
    if hint.startswith("zh"):
        return "zh"
    if hint.startswith("en"):
        return "en"
    return detect_language(text)


class FaqMatcher:
    """Answers owner questions from the knowledge base; build once, ask many times."""

    def __init__(
        self,
        entries: Sequence[FaqEntry],
        company: Mapping[str, str],
        normaliser: Normaliser | None = None,
        intents: IntentRules | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        self._entries = list(entries)
        self._normaliser = normaliser or Normaliser()
        self._intents = intents or IntentRules()
        self._thresholds = thresholds or Thresholds()
        self.company: Mapping[str, str] = dict(company)
        self._positions = {entry.id: i for i, entry in enumerate(self._entries)}
        self._covers = [
            frozenset(self._positions[c] for c in entry.covers if c in self._positions)
            for entry in self._entries
        ]
        self._answers = [render_answers(entry, company) for entry in self._entries]
        self._fee_answers = [render_fee_answers(entry, company) for entry in self._entries]
        self._index = FeatureIndex(
            [
                [self._normaliser.normalise(q) for lang in ("zh", "en") for q in e.questions[lang]]
                for e in self._entries
            ],
            [[self._normaliser.normalise(tag) for tag in e.tags] for e in self._entries],
            self._normaliser.weak,
            self._normaliser.narrowing,
        )

    @classmethod
    def from_config(cls, config_dir: Path) -> FaqMatcher:
        """Load config_dir/faq/*.yaml and the company values of config_dir/rules.yaml.

        Raises FaqConfigError listing every problem (the same ones `faq check` prints), so a
        broken knowledge base stops the bot at start-up instead of answering wrongly.
        """
        faq_dir = config_dir / "faq"
        synonyms, issues = load_synonyms(faq_dir / "synonyms.yaml")
        intents, intent_issues = load_intents(faq_dir / "intents.yaml")
        company, company_issues = load_company(config_dir / "rules.yaml")
        entries, entry_issues = read_entries(faq_dir)
        normaliser = Normaliser(synonyms)
        issues += intent_issues + company_issues + entry_issues
        issues += check_entries(entries, normaliser, company)
        if issues:
            raise FaqConfigError(issues)
        return cls(entries, company, normaliser, intents)

    @property
    def entries(self) -> Sequence[FaqEntry]:
        return tuple(self._entries)

    @property
    def normaliser(self) -> Normaliser:
        return self._normaliser

    @property
    def intents(self) -> IntentRules:
        return self._intents

    def normalise(self, text: str) -> str:
        """The canonical form matching works on (also used to group missed questions)."""
        return self._normaliser.normalise(text)

    def ask(self, text: str, lang: str | None = None) -> FaqResult:
        """Answer, suggest, decline or hand off; lang None → detect (CJK characters → zh)."""
        language = resolve_language(text, lang)
        normalised, segmented = self._normaliser.forms(text)
        if not any(character.isalpha() for character in normalised):
            # Digits alone ask nothing: a button number typed after its buttons went, a phone
            # number. "1" used to match the complaint grade a sample calls 1.
            return _not_matched(language, 0.0)
        intent = self._intents.classify(normalised)
        if intent is Intent.HANDOFF:
            return FaqResult(False, None, 0.0, "", True, (), language)
        if intent is not Intent.QUESTION:
            return _not_matched(language, 0.0)
        hits, chosen = self._decide(normalised, segmented)
        if not hits:
            return _not_matched(language, 0.0)
        if chosen is None:
            chosen = self._confirmed_by_a_clause(text, hits[0])
        if chosen is None:
            return _not_matched(language, hits[0].score, self._suggestions(hits, language))
        entry_id = self._entries[chosen.entry].id
        answer = self._answers[chosen.entry][language]
        return FaqResult(True, entry_id, _rounded(chosen.score), answer, False, (), language)

    def answer_for(self, entry_id: str, lang: str) -> str | None:
        """The filled-in answer of an entry (when the owner presses a suggestion)."""
        position = self._positions.get(entry_id)
        if position is None:
            return None
        return self._answers[position][resolve_language("", lang)]

    def fees_of(self, entry_id: str) -> tuple[str, ...]:
        """The fees an answer is about (none for most answers)."""
        position = self._positions.get(entry_id)
        return () if position is None else self._entries[position].fees

    def answer_with_fees(self, entry_id: str, lang: str, figures: str) -> str:
        """The answer about fees for an owner whose project sets them, `figures` in place."""
        wording = self._fee_answers[self._positions[entry_id]][resolve_language("", lang)]
        return wording.replace("{" + FEES_PLACEHOLDER + "}", figures)

    def question_for(self, entry_id: str, lang: str) -> str | None:
        """The entry's first sample question in that language (label of a suggestion button)."""
        position = self._positions.get(entry_id)
        if position is None:
            return None
        return self._entries[position].questions[resolve_language("", lang)][0]

    def _confirmed_by_a_clause(self, text: str, best: Scored) -> Scored | None:
        """The best entry of a long message when one of its clauses alone is answered with it
        and no clause with another. Owners bury the question among context ("通知上写的那天我要
        上班，收房日期可以往后挪一挪吗"), whose words dilute the whole message's score below the
        answer threshold; a clause that is confident on its own, and agrees with the whole, is
        the question. Calibrated on eval.yaml and tests/faq/tuning.yaml (docs/faq.md)."""
        parts = clauses(text)
        if not 2 <= len(parts) <= MAX_CLAUSES:
            return None
        confirmed: Scored | None = None
        for part in parts:
            _, chosen = self._decide(*self._normaliser.forms(part))
            if chosen is None:
                continue
            if chosen.entry != best.entry:
                return None  # the clauses disagree: the message asks more than one thing
            confirmed = confirmed or chosen
        return confirmed

    def _decide(self, normalised: str, segmented: str) -> tuple[list[Scored], Scored | None]:
        """The best entries for a normalised text and the one to answer with (None: ask)."""
        hits = self._index.search(normalised)
        return hits, self._choose(frozenset(features(segmented)), hits) if hits else None

    def _choose(self, words: Set[str], hits: Sequence[Scored]) -> Scored | None:
        """The entry to answer with, or None to ask. A confident wrong answer costs more than a
        question back, so the best score alone does not decide when the question's own words
        point elsewhere. Both checks below were calibrated on eval.yaml and tests/faq/tuning.yaml
        (docs/faq.md)."""
        if len(hits) < 2:
            return hits[0] if self._answers_confidently(words, hits) else None
        best, runner_up = hits[0], hits[1]
        if self._names_only(words, runner_up, best):
            return runner_up if runner_up.score >= self._thresholds.answer else None
        overview = self._overview(words, best, runner_up)
        if overview is not None:
            return overview if overview.score >= self._thresholds.answer else None
        if self._index.distinctive(words, best.entry, runner_up.entry) == 0 and (
            self._index.narrower(words, best.entry, runner_up.entry)
        ):
            return self._instead_of_narrower(words, hits[1:])
        return best if self._answers_confidently(words, hits) else None

    def _names_only(self, words: Set[str], named: Scored, other: Scored) -> bool:
        """The question uses words central to `named` that `other` never uses (more than a
        single character's worth), and hardly the reverse: "过保" names the paid-repair entry
        even when the rest of the question reads like "how do I report a repair"."""
        theirs = self._index.distinctive(words, named.entry, other.entry)
        mine = self._index.distinctive(words, other.entry, named.entry)
        share = self._thresholds.distinct_share
        return theirs > self._index.character_weight and mine <= share * theirs

    def _overview(self, words: Set[str], best: Scored, runner_up: Scored) -> Scored | None:
        """Of two close entries where one is the overview of the other (FaqEntry.covers), the
        overview, when the question uses no word of the narrower entry that the overview never
        uses: "保修几年" names the topic and no part, so the periods of every part answer it
        rather than a question back between them and the pipes entry."""
        for general, narrow in ((best, runner_up), (runner_up, best)):
            if narrow.entry in self._covers[general.entry] and not (
                self._index.uses_apart(words, narrow.entry, general.entry)
            ):
                return general
        return None

    def _instead_of_narrower(self, words: Set[str], rest: Sequence[Scored]) -> Scored | None:
        """The best entry only matched a sample asking more than the question (see
        FeatureIndex.narrower): the next entry answers if it is confident among the rest and
        not narrower itself; else ask."""
        if len(rest) > 1 and self._index.narrower(words, rest[0].entry, rest[1].entry):
            return None
        return rest[0] if self._answers_confidently(words, rest) else None

    def _answers_confidently(self, words: Set[str], hits: Sequence[Scored]) -> bool:
        return self._is_confident(hits) or self._tells_apart(words, hits)

    def _is_confident(self, hits: Sequence[Scored]) -> bool:
        """High enough, and clearly ahead of the next entry: two near-equal entries mean "ask"."""
        limits = self._thresholds
        best = hits[0].score
        runner_up = hits[1].score if len(hits) > 1 else 0.0
        if best >= limits.sure:
            return best - runner_up >= limits.sure_lead * best
        return best >= limits.answer and best - runner_up >= limits.lead * best

    def _tells_apart(self, words: Set[str], hits: Sequence[Scored]) -> bool:
        """A near tie broken by the question's own words: it names what is central to the best
        entry and absent from the runner-up, and hardly the reverse. Calibrated on eval.yaml and
        tests/faq/tuning.yaml (top-1 92.7 → 95.2 %, no new confident wrong answer)."""
        if len(hits) < 2 or hits[0].score < self._thresholds.answer:
            return False
        best, second = hits[0].entry, hits[1].entry
        mine = self._index.distinctive(words, best, second)
        theirs = self._index.distinctive(words, second, best)
        return mine > 0 and theirs <= self._thresholds.distinct_share * mine

    def _suggestions(self, hits: Sequence[Scored], language: Language) -> tuple[FaqSuggestion, ...]:
        limits = self._thresholds
        floor = max(limits.suggest, hits[0].score * (1 - limits.spread))
        return tuple(
            FaqSuggestion(
                self._entries[hit.entry].id, self._entries[hit.entry].questions[language][0]
            )
            for hit in hits[: limits.max_suggestions]
            if hit.score >= floor
        )


def _not_matched(
    language: Language, score: float, suggestions: tuple[FaqSuggestion, ...] = ()
) -> FaqResult:
    return FaqResult(False, None, _rounded(score), "", False, suggestions, language)


def _rounded(score: float) -> float:
    return round(min(max(score, 0.0), 100.0), 1)
