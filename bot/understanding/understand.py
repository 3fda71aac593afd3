"""`Understander.understand(text, lang)`: what an owner's message is about, before routing.

Rules over two normalised forms of the message (never the raw text): the FAQ normaliser (so the
FAQ's hand-off and complaint patterns in config/faq/intents.yaml apply unchanged) and a lighter
one with this step's own typo table. Checks run from the most pressing to the least: navigation
words, small talk, danger, complaints, a person, the owner's own cases, a repair, a question.
Each path has a fixed confidence; a message that could be two things carries the other as
`alternative`, and the router asks the owner instead of guessing.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.config import load_rules
from bot.faq.intents import IntentRules, load_intents
from bot.faq.knowledge import FaqConfigError
from bot.faq.normalize import Normaliser, SynonymTable, detect_language, load_synonyms
from bot.understanding.lexicon import Lexicon, first_key, load_lexicon, matches


class Intent(enum.StrEnum):
    REPAIR = "repair"
    EMERGENCY = "emergency"
    TICKETS = "tickets"
    CERTIFICATE = "certificate"
    COMPLAINT = "complaint"
    HUMAN = "human"
    FAQ = "faq"
    SMALLTALK = "smalltalk"
    UNKNOWN = "unknown"
    BACK = "back"
    CANCEL = "cancel"
    MENU = "menu"
    END_HUMAN = "end_human"

    @property
    def is_navigation(self) -> bool:
        return self in NAVIGATION_INTENTS


NAVIGATION_INTENTS = frozenset({Intent.BACK, Intent.CANCEL, Intent.MENU, Intent.END_HUMAN})

# Confidence of each decision path (0..1). A router acts alone from SURE; below it, with an
# alternative, it asks.
NAVIGATION_CONFIDENCE = 0.95
SURE = 0.9
OWN_CASE = 0.85
SOFT_COMPLAINT = 0.8
REPAIR_DESCRIBED = 0.75
REPAIR_QUESTION = 0.55
GROUP_PROBLEM = 0.55
QUESTION = 0.7
TOPIC_ONLY = 0.5
UNKNOWN = 0.3

#: A problem these households share may be a group complaint rather than one home's repair.
GROUP_HOUSEHOLDS = frozenset({"some", "many"})

#: Questions about how repairs work ("水管坏了保修吗"), not reports.
_POLICY = re.compile(
    r"保修|保几年|质保|收费|要钱|收钱|免费|多久|几天|多长时间|流程|怎么报|谁负责|归谁|找谁|谁管|赔"
    r"|(?<![a-z])(warranty|covered|charge\w*|free|how long|who)(?![a-z])"
)
#: "报修 厨房水管漏水": the request word is not part of the problem's description.
_REPORT_PREFIX = re.compile(
    r"^\s*(我要|我想|帮我)?(报修|报个修|维修|報修)[\s,，:：、。!！]*"
    r"|^\s*repair( pls| please)?[\s,:]+",
    re.IGNORECASE,
)
_PARTICLES = "啊呀哈呢吧哦嘛啦呐噢喔哟 "
#: Particles that may end a navigation word ("上一步吧", "算了吧") without changing it.
_TRAILING = "吧啊呀哦嘛呢 "


@dataclass(frozen=True)
class Slots:
    """What the owner said, as the flows use it; None where the message does not say."""

    description: str = ""
    category: str | None = None  # a config/rules.yaml repair category id
    place: str | None = None  # kitchen, bathroom, living_room, bedroom, balcony, whole_home
    urgency: str | None = None  # "urgent" or "normal", for repairs and emergencies
    smalltalk: str | None = None  # greeting, thanks, ack, bye
    topic: str | None = None  # a complaint's topic (config/rules.yaml complaint.topics)
    households: str | None = None  # how many a complaint concerns: one, some, many

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value is not None}


@dataclass(frozen=True)
class Understanding:
    intent: Intent
    confidence: float
    slots: Slots = field(default_factory=Slots)
    #: The other reading of a message that could be two things (the router asks).
    alternative: Intent | None = None
    language: str = "zh"

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.slots.description,
            "intent": self.intent.value,
            "confidence": self.confidence,
            "slots": self.slots.to_dict(),
            "alternative": self.alternative.value if self.alternative else None,
        }


class Understander:
    def __init__(
        self,
        lexicon: Lexicon,
        faq_normaliser: Normaliser,
        faq_intents: IntentRules,
        urgent_words: Iterable[str] = (),
    ) -> None:
        self._lexicon = lexicon
        self._faq_normaliser = faq_normaliser
        self._faq_intents = faq_intents
        self._own = Normaliser(SynonymTable(replacements=dict(lexicon.typos)))
        self._urgent_words = tuple(
            sorted({self._own.normalise(w) for w in urgent_words} - {""}, key=len)
        )
        self._smalltalk = _smalltalk_pattern(lexicon, self._own)

    @classmethod
    def from_config(cls, config_dir: Path) -> Understander:
        """Raises ConfigError / FaqConfigError when a file is broken (stops start-up)."""
        lexicon = load_lexicon(config_dir / "understanding" / "understanding.yaml")
        synonyms, issues = load_synonyms(config_dir / "faq" / "synonyms.yaml")
        intents, intent_issues = load_intents(config_dir / "faq" / "intents.yaml")
        if issues or intent_issues:
            raise FaqConfigError(issues + intent_issues)
        repair = load_rules(config_dir).repair
        words = [word for category in repair.categories for word in category.urgent_keywords]
        return cls(lexicon, Normaliser(synonyms), intents, words)

    def understand(self, text: str, lang: str | None = None) -> Understanding:
        """The intent of one message; `lang` ("zh", "en", a platform hint) or None to detect."""
        description = text.strip()
        language = _language(description, lang)
        own = self._own.normalise(description)
        if not own:
            return Understanding(Intent.UNKNOWN, UNKNOWN, Slots(description), language=language)
        faq = self._faq_normaliser.normalise(own)
        intent, confidence, alternative = self._classify(
            own, faq, "?" in description or "？" in description
        )
        slots = self._slots(description, own, intent)
        if Intent.COMPLAINT in (intent, alternative):  # the complaint form takes these too
            topic = first_key(self._lexicon.complaint_topics, own)
            slots = replace(slots, topic=topic, households=self._households(own))
        return Understanding(intent, confidence, slots, alternative, language)

    def _classify(
        self, own: str, faq: str, question_mark: bool
    ) -> tuple[Intent, float, Intent | None]:
        lex, rules = self._lexicon, self._faq_intents
        navigation = first_key(lex.navigation, own.rstrip(_TRAILING))
        if navigation is not None:
            return Intent(navigation), NAVIGATION_CONFIDENCE, None
        if self._smalltalk.fullmatch(own):
            return Intent.SMALLTALK, SURE, None
        if matches(lex.emergency, own):
            return Intent.EMERGENCY, SURE, None
        if self._is_complaint(faq):
            return Intent.COMPLAINT, SURE, None
        if matches(rules.handoff, faq) or matches(lex.human, own):
            return Intent.HUMAN, SURE, None
        if matches(lex.certificate, own):
            return Intent.CERTIFICATE, OWN_CASE, None
        if matches(lex.tickets, own):
            return Intent.TICKETS, OWN_CASE, None
        if matches(lex.complaint, own) or matches(rules.abuse, faq):
            return Intent.COMPLAINT, SOFT_COMPLAINT, None
        return self._repair_or_question(own, question_mark)

    def _is_complaint(self, faq: str) -> bool:
        """Making a complaint (not asking how complaints work), as the FAQ decides it."""
        rules = self._faq_intents
        if matches(rules.complaint_intent, faq):
            return True
        return matches(rules.complaint_topic, faq) and not matches(rules.complaint_question, faq)

    def _repair_or_question(
        self, own: str, question_mark: bool
    ) -> tuple[Intent, float, Intent | None]:
        lex = self._lexicon
        asks = question_mark or matches(lex.question, own)
        request = matches(lex.repair_request, own)
        problem = matches(lex.repair_problem, own)
        named = first_key(lex.categories, own) is not None or first_key(lex.places, own)
        policy = asks and _POLICY.search(own) is not None
        if policy and (problem or request):
            # "水管坏了保修吗": a question first, but the owner may want the repair too.
            return Intent.FAQ, REPAIR_QUESTION, Intent.REPAIR
        if (problem or request) and not asks and self._households(own) in GROUP_HOUSEHOLDS:
            # "整栋楼外墙都在渗水，好多户都受影响": a repair, or a group complaint? Ask.
            return Intent.REPAIR, GROUP_PROBLEM, Intent.COMPLAINT
        if request and (problem or named or not asks):
            return Intent.REPAIR, SURE, None
        if problem and named:
            return Intent.REPAIR, SURE if not asks else REPAIR_DESCRIBED, None
        if problem and not asks:
            return Intent.REPAIR, REPAIR_DESCRIBED, None
        if asks:
            return Intent.FAQ, QUESTION, None
        if matches(lex.topics, own):
            return Intent.FAQ, TOPIC_ONLY, None
        return Intent.UNKNOWN, UNKNOWN, None

    def _slots(self, description: str, own: str, intent: Intent) -> Slots:
        lex = self._lexicon
        if intent is Intent.SMALLTALK:
            return Slots(description, smalltalk=self._smalltalk_kind(own))
        if intent not in (Intent.REPAIR, Intent.EMERGENCY):
            return Slots(description)
        # Only a described problem is a description ("报个修" asks for one, it is not one).
        described = intent is Intent.EMERGENCY or matches(lex.repair_problem, own)
        return Slots(
            _REPORT_PREFIX.sub("", description) if described else "",
            category=first_key(lex.categories, own),
            place=first_key(lex.places, own),
            urgency="urgent" if self._is_urgent(own, intent) else "normal",
        )

    def _households(self, own: str) -> str | None:
        return first_key(self._lexicon.households, own)

    def _is_urgent(self, own: str, intent: Intent) -> bool:
        """The same for every language and script: one normalised form, one word list."""
        if intent is Intent.EMERGENCY or matches(self._lexicon.urgent, own):
            return True
        return any(word in own for word in self._urgent_words)

    def _smalltalk_kind(self, own: str) -> str:
        for kind, phrases in self._lexicon.smalltalk.items():
            if any(self._own.normalise(phrase) in own for phrase in phrases):
                return kind
        return "greeting"


def _smalltalk_pattern(lexicon: Lexicon, normaliser: Normaliser) -> re.Pattern[str]:
    """A message made only of greeting / thanks / okay phrases and particles."""
    phrases = {normaliser.normalise(p) for group in lexicon.smalltalk.values() for p in group}
    alternatives = "|".join(re.escape(p) for p in sorted(phrases - {""}, key=len, reverse=True))
    particles = f"[{_PARTICLES}]*"
    return re.compile(f"{particles}(?:(?:{alternatives}){particles})+")


def _language(text: str, hint: str | None) -> str:
    folded = (hint or "").lower()
    if folded.startswith(("zh", "en")):
        return folded[:2]
    return detect_language(text)
