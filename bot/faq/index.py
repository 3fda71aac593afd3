"""Scoring a normalised question against every entry, fast enough for a chat (< 1 ms).

Features are Chinese character bigrams, plus weaker single characters (they survive a typo that
breaks both bigrams around it), and English word stems. jieba segmentation was measured and left
out: with its words added, top-1 on the eval fell from 176 to 172 of 190 and loading took 1.8 s
instead of 0.2 s (its dictionary alone needs ~0.9 s).

Features are weighted by IDF over entries. An entry scores by three views of the evidence (0..1):
- coverage: how much of the question the entry's vocabulary explains, each word counted by how
  central it is to the entry (share of its sample questions using it; tags count fully). A
  question full of words the base has never seen (weather, schools) scores low;
- best overlap: weighted Dice between the question and the entry's closest sample question,
  which prefers an entry whose sample is *about* this over one that merely mentions it;
- edit similarity: rapidfuzz ratio against the closest sample question, for near-verbatim asks.
Postings of the question's rarest features pick a few candidate entries first, so the cost of a
question hardly grows with the size of the base.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass
from itertools import pairwise

from rapidfuzz import fuzz, process

from bot.faq.normalize import compact

_TOKENS = re.compile(r"[a-z]+|[^\sa-z]+")
# Particles that end or pad a Chinese sentence and mean nothing for matching.
_PARTICLES = frozenset("的了吗呢啊呀吧哦嘛哈啦呐么")
_STOPWORD_TEXT = """
a an the is are am be been was were do does did i my me we our us you your it its of to in on at
for and or with this that there please can could would will should shall may have has had get got
any some if so about
"""
_EN_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# Calibrated on config/faq_eval.yaml together with the matcher's thresholds (docs/faq.md).
UNIGRAM_WEIGHT = 0.35
WEAK_WEIGHT = 0.25  # features made only of "weak" characters (synonyms.yaml: weak)
UNKNOWN_WEIGHT = 0.6  # share of the rarest known feature's weight given to unseen features
COVERAGE_WEIGHT = 0.6
OVERLAP_WEIGHT = 0.25
SIMILARITY_WEIGHT = 0.15
ASSOC_FULL = 0.3  # a feature in this share of an entry's samples is fully associated with it
ASSOC_POWER = 0.5
CANDIDATES = 12
#: A message longer than this (characters of its compact normalised form) explains the owner's
#: situation: words the base has never seen are that story, not a topic the base lacks, so they
#: do not dilute its score (docs/faq.md, sixth round).
LONG_MESSAGE = 20
#: A feature this central to an entry (1.0: a tag, or in ASSOC_FULL of its samples) can tell it
#: apart from a close runner-up (FaqMatcher._is_confident).
DISTINCTIVE_ASSOCIATION = 1.0


def stem(word: str) -> str:
    """A crude English stem: enough to meet "leaks"/"leak", "charged"/"charge" and
    "services"/"service" (a final e goes, as "es" and "ed" take it with them)."""
    for suffix, replacement in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + replacement
            break
    return word[:-1] if word.endswith("e") and len(word) >= 4 else word


def features(normalised: str) -> set[str]:
    """Bigrams and single characters of Chinese runs, stems of English words."""
    found: set[str] = set()
    for token in _TOKENS.findall(normalised):
        if token.isascii() and token.isalpha():
            if token not in _EN_STOPWORDS:
                found.add(stem(token))
            continue
        chars = [ch for ch in token if ch not in _PARTICLES and not ch.isspace()]
        found.update("\u0001" + ch for ch in chars)  # \u0001 marks a single character
        found.update(a + b for a, b in pairwise(chars))
    return found


@dataclass(frozen=True)
class Scored:
    entry: int
    score: float  # 0..100


@dataclass(frozen=True)
class _EntrySamples:
    """An entry's sample questions, laid out for scoring many of them at once."""

    texts: list[str]  # compact normalised forms, for rapidfuzz
    weights: list[float]  # total feature weight of each sample, for Dice
    using: dict[str, list[int]]  # feature → samples that contain it
    found: list[frozenset[str]]  # the features of each sample

    @classmethod
    def build(
        cls,
        samples: Sequence[str],
        per_question: Sequence[set[str]],
        total: Callable[[Iterable[str]], float],
    ) -> _EntrySamples:
        using: dict[str, list[int]] = defaultdict(list)
        for number, found in enumerate(per_question):
            for feature in found:
                using[feature].append(number)
        return cls(
            [compact(q) for q in samples],
            [total(fs) for fs in per_question],
            dict(using),
            [frozenset(fs) for fs in per_question],
        )


class FeatureIndex:
    """Inverted index over the entries' sample questions and tags, built once at load time."""

    def __init__(
        self,
        entry_samples: Sequence[Sequence[str]],
        entry_keywords: Sequence[Sequence[str]],
        weak_chars: frozenset[str] = frozenset(),
        narrowing: Sequence[str] = (),
    ) -> None:
        """entry_samples[i] / entry_keywords[i]: normalised questions / tags of entry i;
        narrowing: normalised words that make a question narrower than its topic."""
        self._weak = weak_chars
        self._narrowing = [found for found in map(features, narrowing) if found]
        sample_features = [[features(q) for q in samples] for samples in entry_samples]
        vocab: list[set[str]] = []
        for per_question, keywords in zip(sample_features, entry_keywords, strict=True):
            words: set[str] = set().union(*per_question) if per_question else set()
            for keyword in keywords:
                words |= features(keyword)
            vocab.append(words)
        self._size = len(vocab)
        document_frequency: dict[str, int] = defaultdict(int)
        for words in vocab:
            for feature in words:
                document_frequency[feature] += 1
        self._weights = {
            f: self._idf(df) * self._kind_weight(f) for f, df in document_frequency.items()
        }
        self._unknown = self._idf(1) * UNKNOWN_WEIGHT
        self._association = [
            _association(per_question, keywords)
            for per_question, keywords in zip(sample_features, entry_keywords, strict=True)
        ]
        self._central = [
            frozenset(f for f, share in association.items() if share >= DISTINCTIVE_ASSOCIATION)
            for association in self._association
        ]
        self._samples = [
            _EntrySamples.build(samples, per_question, self._total)
            for samples, per_question in zip(entry_samples, sample_features, strict=True)
        ]
        self._frequency = dict(document_frequency)
        self._rare_limit = max(3, self._size // 8)
        self._postings: dict[str, list[int]] = defaultdict(list)
        for entry, words in enumerate(vocab):
            for feature in words:
                self._postings[feature].append(entry)

    def _idf(self, document_frequency: int) -> float:
        return math.log(1 + self._size / document_frequency)

    def _weight(self, feature: str) -> float:
        known = self._weights.get(feature)
        if known is not None:
            return known
        return self._unknown * self._kind_weight(feature)

    def _total(self, found: Iterable[str]) -> float:
        return sum(self._weight(f) for f in found)

    def search(self, normalised: str, limit: int = 4) -> list[Scored]:
        """The best entries for a normalised question, best first (empty if nothing overlaps)."""
        query = features(normalised)
        if not query:
            return []
        text = compact(normalised)
        query_weight = self._query_weight(query, long=len(text) > LONG_MESSAGE)
        scored = [
            Scored(entry, self._score(entry, text, query, query_weight))
            for entry in self._candidates(query)
        ]
        scored.sort(key=lambda s: s.score, reverse=True)
        return scored[:limit]

    def _query_weight(self, query: set[str], *, long: bool) -> float:
        """The weight a question's score is a share of: every feature, or in a long message only
        the ones the base knows (a long message with none of them has no candidates)."""
        if not long:
            return self._total(query)
        return sum(self._weights.get(feature, 0.0) for feature in query)

    def distinctive(self, words: Set[str], entry: int, other: int) -> float:
        """Weight of the question's words that are central to `entry` (a tag, or in a good
        share of its samples) and that `other` never uses: what tells two close entries apart
        ("水管" for the pipes entry against the general warranty one). `words`: the features of
        the question as Normaliser.segment gives it, so a bigram joining two terms is no word."""
        theirs = self._association[other]
        return sum(
            self._weights[feature]
            for feature in words & self._central[entry]
            if feature not in theirs
        )

    def uses_apart(self, words: Set[str], entry: int, other: int) -> float:
        """Weight of the question's words that `entry` uses at all (central or not) and `other`
        never uses: even a part one sample of `entry` mentions ("承重墙") sets it apart from an
        overview of the topic."""
        mine, theirs = self._association[entry], self._association[other]
        return sum(self._weights[f] for f in words if f in mine and f not in theirs)

    @property
    def character_weight(self) -> float:
        """The weight of the rarest single character: evidence that outweighs it names a word."""
        return self._idf(1) * UNIGRAM_WEIGHT

    def narrower(self, words: Set[str], entry: int, other: int) -> bool:
        """Whether `entry` matches the question only through samples that ask more than it.

        True when some samples of `entry` contain every word of the question (`words`, as for
        distinctive) and each of them adds a narrowing word (synonyms.yaml:
        narrowing) that the question lacks and `other` never uses: "装修押金" inside
        "装修押金能退吗" asks for the topic, not whether it may be refunded.
        """
        samples = self._samples[entry]
        containing = [found for found in samples.found if words <= found]
        theirs = self._association[other]
        asks = [w for w in self._narrowing if not w <= words and not w <= theirs.keys()]
        return bool(containing) and all(any(w <= found for w in asks) for found in containing)

    def _candidates(self, query: set[str]) -> list[int]:
        """Entries sharing the most weight of the question's rarest features.

        Rare features have short postings, so this is cheap; common ones ("怎么", "多久") are only
        consulted while too few candidates have been found.
        """
        if self._size <= CANDIDATES:
            return list(range(self._size))
        votes: dict[int, float] = defaultdict(float)
        known = sorted((f for f in query if f in self._frequency), key=self._frequency.__getitem__)
        for feature in known:
            if len(votes) >= CANDIDATES and self._frequency[feature] > self._rare_limit:
                break
            weight = self._weights[feature]
            for entry in self._postings[feature]:
                votes[entry] += weight
        return sorted(votes, key=votes.__getitem__, reverse=True)[:CANDIDATES]

    def _score(self, entry: int, text: str, query: set[str], query_weight: float) -> float:
        association = self._association[entry]
        coverage = sum(self._weights[f] * association[f] for f in query if f in association)
        samples = self._samples[entry]
        shared = [0.0] * len(samples.texts)
        for feature in query:
            for sample in samples.using.get(feature, ()):
                shared[sample] += self._weights[feature]
        best_overlap = max(
            (
                2 * common / (query_weight + weight)
                for common, weight in zip(shared, samples.weights, strict=True)
            ),
            default=0.0,
        )
        closest = process.extractOne(text, samples.texts, scorer=fuzz.ratio)
        best_similarity = closest[1] / 100 if closest else 0.0
        return 100 * (
            COVERAGE_WEIGHT * coverage / query_weight
            + OVERLAP_WEIGHT * best_overlap
            + SIMILARITY_WEIGHT * best_similarity
        )

    def _kind_weight(self, feature: str) -> float:
        """Single characters and function-word features count for less than content bigrams."""
        weight = UNIGRAM_WEIGHT if feature.startswith("\u0001") else 1.0
        if all(ch in self._weak for ch in feature.lstrip("\u0001")):
            weight *= WEAK_WEIGHT
        return weight


def _association(per_question: Sequence[set[str]], keywords: Sequence[str]) -> dict[str, float]:
    """How central each feature is to an entry: the share of its sample questions using it.

    A word in a third of the samples (or in a tag) counts fully; a word that one sample out of
    twelve happens to use counts for less, so it cannot make the entry look like a match alone.
    """
    counts: dict[str, int] = defaultdict(int)
    for found in per_question:
        for feature in found:
            counts[feature] += 1
    size = max(len(per_question), 1)
    association = {
        f: min(1.0, count / (ASSOC_FULL * size)) ** ASSOC_POWER for f, count in counts.items()
    }
    for keyword in keywords:
        for feature in features(keyword):
            association[feature] = 1.0
    return association
