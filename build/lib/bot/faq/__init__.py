"""Owner FAQ: a knowledge base in config/faq/*.yaml and a matcher that knows when it doesn't know.

The engine and other modules use only what is re-exported here.
"""

from bot.faq.knowledge import FaqConfigError
from bot.faq.matcher import FaqMatcher, Thresholds
from bot.faq.misses import MissLog
from bot.faq.types import FaqResult, FaqSuggestion

__all__ = [
    "FaqConfigError",
    "FaqMatcher",
    "FaqResult",
    "FaqSuggestion",
    "MissLog",
    "Thresholds",
]
