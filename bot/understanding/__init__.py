"""Understanding an owner's free text before routing: an intent, a confidence and slots.

Pure: the only I/O is loading the patterns (config/understanding/understanding.yaml, the FAQ's
synonyms and hand-off patterns, and the repair categories' urgent words from rules.yaml).
"""

from bot.understanding.lexicon import Lexicon, load_lexicon
from bot.understanding.understand import Intent, Slots, Understander, Understanding

__all__ = ["Intent", "Lexicon", "Slots", "Understander", "Understanding", "load_lexicon"]
