"""Offering English to an owner who types English in a Chinese conversation.

WeChat gives no language hint, so every WeChat owner starts in Chinese, and an English speaker
who types "my kitchen pipe is leaking" is answered in Chinese and may never find the language
button. When a typed message reads as an English sentence while the conversation is in Chinese,
the message is handled as usual and its replies end with one bilingual line and the language
flow's own button (`language:en`), at most once per account every `OFFER_ENGLISH_EVERY`.

The button goes last among the buttons a typed number presses, so "1", "2"… still mean what
the step's own options say; when the only way to number it would hijack a step's typed answer
(a step with no buttons, such as the last 4 ID characters), the offer waits for a later message.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.engine.types import Button, Reply, offered_buttons

if TYPE_CHECKING:
    from bot.domain.conversation import ConversationState
    from bot.engine.context import Context

#: The language flow (bot/handlers/language.py) and its button that switches to English.
LANGUAGE_FLOW = "language"
SWITCH_TO_ENGLISH = f"{LANGUAGE_FLOW}:en"
#: The nudge's name in the conversation's memory of shown nudges.
ENGLISH = "english"
#: An owner who ignored the offer reads Chinese well enough: ask again only after this long.
#: DEFAULT (not in source).
OFFER_ENGLISH_EVERY = timedelta(days=30)
#: Fewer distinct words are "ok", "hi", "thank you": also typed by Chinese owners.
MIN_WORDS = 3

# Han, kana, hangul (and their compatibility and extension blocks): any one of them means the
# owner writes Chinese, also when English words are mixed in ("物业fee多少").
_CJK = re.compile(
    "[\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u31a0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]"
)
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")
_EDGES = string.punctuation + "“”‘’…。、《》「」【】"


def reads_as_english(text: str) -> bool:
    """An English sentence: no CJK character and at least `MIN_WORDS` distinct Latin words.

    Commands (/repair), ticket numbers, invite codes and typed button numbers are not words,
    so they never count as English.
    """
    text = unicodedata.normalize("NFKC", text).strip().casefold().replace("’", "'")
    if not text or text.startswith("/") or _CJK.search(text):
        return False
    words = {token.strip(_EDGES) for token in text.split()}
    return len({word for word in words if _WORD.fullmatch(word)}) >= MIN_WORDS


def leads_to_language(button: Button) -> bool:
    """The menu's language button, the chooser's, or this offer's."""
    return button.data == f"flow:{LANGUAGE_FLOW}" or button.data.startswith(f"{LANGUAGE_FLOW}:")


def with_english_offer(
    ctx: Context, state: ConversationState, typed: str, replies: list[Reply]
) -> list[Reply]:
    """`replies` with the offer of English added when `typed` calls for it (and the state
    remembering it was shown); `replies` unchanged otherwise."""
    if ctx.lang != "zh" or not replies or not reads_as_english(typed):
        return replies
    shown = state.nudged_at(ENGLISH)
    if shown is not None and ctx.now - shown < OFFER_ENGLISH_EVERY:
        return replies
    offered = _offered(ctx, state, replies)
    if offered is None:
        return replies
    state.note_nudge(ENGLISH, ctx.now)
    state.offered = offered_buttons(offered)
    return offered


def _offered(ctx: Context, state: ConversationState, replies: list[Reply]) -> list[Reply] | None:
    """The replies with the offer placed, or None when it has no good place in them."""
    if state.offered != offered_buttons(replies):
        # These replies show no buttons and the step's options still answer a typed number
        # ("too long"): a new button would be numbered differently from what the owner sees.
        return None
    line = Reply(ctx.t("engine.english_offer"))
    button = Button(ctx.t("engine.button_english"), SWITCH_TO_ENGLISH)
    with_buttons = [index for index, reply in enumerate(replies) if reply.buttons]
    if not with_buttons:
        if state.step is not None:
            return None  # the step reads typed text: "1" must stay the owner's answer
        return [*replies, replace(line, buttons=((button,),))]
    index = with_buttons[-1]
    target = replies[index]
    if any(leads_to_language(shown) for shown in target.flat_buttons()):
        return [*replies, line]  # the menu already shows its "🌐 English"
    extended = replace(target, buttons=(*target.buttons, (button,)))
    return [*replies[:index], extended, *replies[index + 1 :], line]
