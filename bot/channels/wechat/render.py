"""Neutral replies as 公众号 messages.

A 公众号 has no inline keyboards: the buttons of the last reply that has any become numbered
options ("回复 1 报修"), and the engine maps a typed number back to the button
(`conversation.offered` holds the same list). Earlier replies' buttons are not shown, because
their numbers would not mean what they say. Within the 客服 window the options can instead be a
`msgmenu`, whose click arrives as that same number. Texts of consecutive replies travel as one
message as long as they fit, so the owner gets one bubble instead of five.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.engine.types import Reply
from bot.i18n import Texts

#: WeChat cuts or refuses longer text messages (passive and 客服: 2048 bytes of UTF-8).
TEXT_LIMIT_BYTES = 2000


@dataclass(frozen=True)
class TextOut:
    text: str


@dataclass(frozen=True)
class MenuOut:
    """A 客服 `msgmenu`: the text, then tappable options numbered 1…n."""

    head: str
    options: tuple[str, ...]
    tail: str


@dataclass(frozen=True)
class ImageOut:
    #: Path under MEDIA_DIR, as `Reply.photo_path`.
    path: str


Outgoing = TextOut | MenuOut | ImageOut


def render(replies: Sequence[Reply], texts: Texts, lang: str, *, menus: bool) -> list[Outgoing]:
    """The messages that carry `replies`, in order; `menus` only within the 客服 window."""
    last_with_buttons = max((i for i, r in enumerate(replies) if r.buttons), default=-1)
    items: list[Outgoing] = []
    for index, reply in enumerate(replies):
        labels = tuple(b.label for b in reply.flat_buttons()) if index == last_with_buttons else ()
        if labels and menus and _fits(reply.text):
            _add_menu(items, MenuOut(reply.text, labels, texts.get("wechat.menu_tail", lang)))
        else:
            _add_text(items, _with_options(reply.text, labels, texts, lang))
        if reply.photo_path:
            items.append(ImageOut(reply.photo_path))
    return items


def as_text(menu: MenuOut, texts: Texts, lang: str) -> str:
    """The same menu as numbered text, for accounts that may not send `msgmenu`."""
    return _with_options(menu.head, menu.options, texts, lang)


def _with_options(text: str, labels: Sequence[str], texts: Texts, lang: str) -> str:
    lines = [
        texts.get("wechat.option", lang, number=n, label=label) for n, label in enumerate(labels, 1)
    ]
    return "\n".join([text, *lines]) if text else "\n".join(lines)


def _add_menu(items: list[Outgoing], menu: MenuOut) -> None:
    """Fold a preceding text into the menu's head when both fit in one message."""
    if items and isinstance(items[-1], TextOut):
        head = f"{items[-1].text}\n\n{menu.head}"
        if _fits(head):
            items[-1] = MenuOut(head, menu.options, menu.tail)
            return
    items.append(menu)


def _add_text(items: list[Outgoing], text: str) -> None:
    if not text:
        return
    if items and isinstance(items[-1], TextOut):
        joined = f"{items[-1].text}\n\n{text}"
        if _fits(joined):
            items[-1] = TextOut(joined)
            return
    items.extend(TextOut(chunk) for chunk in split_text(text))


def split_text(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """Chunks of at most `limit` UTF-8 bytes, cut at line ends where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if _fits(candidate, limit):
            current = candidate
            continue
        if current:
            chunks.append(current)
        current = ""
        while not _fits(line, limit):
            cut = _longest_prefix(line, limit)
            chunks.append(line[:cut])
            line = line[cut:]
        current = line
    if current:
        chunks.append(current)
    return chunks


def _longest_prefix(line: str, limit: int) -> int:
    size = 0
    for index, char in enumerate(line):
        size += len(char.encode("utf-8"))
        if size > limit:
            return max(index, 1)
    return len(line)


def _fits(text: str, limit: int = TEXT_LIMIT_BYTES) -> bool:
    return len(text.encode("utf-8")) <= limit
