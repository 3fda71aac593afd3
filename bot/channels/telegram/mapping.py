"""Telegram shapes ↔ neutral types: an `Update` becomes an `IncomingMessage`, a `Reply` becomes
the messages Telegram can take (≤ 4096 characters, one keyboard each, ≤ 64-byte button data).

Pure functions without I/O, so every rule here is tested on real PTB objects without a network.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
    User,
)
from telegram.constants import ChatType

from bot.engine.types import VOICE, Button, IncomingMessage, MessageKind, Reply

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup


@dataclass(frozen=True)
class PressedButton:
    """What is needed to stop the button's spinner and take its keyboard away."""

    callback_id: str
    chat_id: int
    message_id: int


@dataclass(frozen=True)
class Outgoing:
    """One Telegram message: a text, or a photo with an optional caption."""

    text: str
    photo: Path | None = None
    markup: Markup | None = None


@dataclass(frozen=True)
class ContactTexts:
    """The contact button's label and, when a reply has buttons too, the line that carries it."""

    button: str
    prompt: str


# -- incoming --------------------------------------------------------------------------------


def to_incoming(update: Update) -> IncomingMessage | None:
    """The neutral message of an update, or None for what owner flows must not see
    (groups and channels, service messages, inline queries)."""
    if update.callback_query is not None:
        return _button_press(update)
    message = update.message or update.edited_message
    if message is None or message.chat.type != ChatType.PRIVATE or message.from_user is None:
        return None
    if update.edited_message is not None:
        # An edit is a new text; live-location edits and the like carry none and are dropped.
        text = message.text or message.caption or ""
        return (
            _incoming(update, message.from_user, message, MessageKind.TEXT, text=text)
            if text
            else None
        )
    return _message(update, message, message.from_user)


def pressed_button(update: Update) -> PressedButton | None:
    query = update.callback_query
    if query is None or query.message is None:
        return None
    return PressedButton(query.id, query.message.chat.id, query.message.message_id)


def _message(update: Update, message: Message, sender: User) -> IncomingMessage | None:
    if message.text is not None:
        return _incoming(
            update, sender, message, MessageKind.TEXT, text=_strip_bot_name(message.text)
        )
    caption = message.caption or ""
    if message.photo:
        largest = max(message.photo, key=lambda size: size.width * size.height)
        return _incoming(
            update, sender, message, MessageKind.PHOTO, text=caption, media_ref=largest.file_id
        )
    document = message.document
    if document is not None and (document.mime_type or "").startswith("image/"):
        # Owners often send a photo "as a file" to keep its quality; it is still a photo.
        return _incoming(
            update, sender, message, MessageKind.PHOTO, text=caption, media_ref=document.file_id
        )
    if message.contact is not None:
        return _contact(update, message, sender)
    if message.voice is not None or message.audio is not None:
        return _incoming(update, sender, message, MessageKind.UNSUPPORTED, payload=VOICE)
    if message.effective_attachment is not None:
        return _incoming(update, sender, message, MessageKind.UNSUPPORTED)
    return None


def _contact(update: Update, message: Message, sender: User) -> IncomingMessage:
    """Only the sender's own number may bind: a forwarded card of someone else is refused."""
    contact = message.contact
    assert contact is not None
    if contact.user_id != sender.id:
        log.info("update %s: contact of another user refused", update.update_id)
        return _incoming(update, sender, message, MessageKind.UNSUPPORTED)
    return _incoming(update, sender, message, MessageKind.CONTACT, phone=contact.phone_number)


def _button_press(update: Update) -> IncomingMessage | None:
    query = update.callback_query
    assert query is not None
    if query.message is None or query.message.chat.type != ChatType.PRIVATE or query.data is None:
        return None
    return _incoming(update, query.from_user, None, MessageKind.BUTTON, payload=query.data)


def _incoming(
    update: Update,
    sender: User,
    message: Message | None,
    kind: MessageKind,
    *,
    text: str = "",
    payload: str | None = None,
    media_ref: str | None = None,
    phone: str | None = None,
) -> IncomingMessage:
    return IncomingMessage(
        channel=CHANNEL,
        user_id=str(sender.id),
        update_key=str(update.update_id),
        kind=kind,
        text=text,
        payload=payload,
        media_ref=media_ref,
        phone=phone,
        language=sender.language_code,
        display_name=sender.full_name,
        received_at=message.date if message is not None else None,
    )


def _strip_bot_name(text: str) -> str:
    """`/start@OwnerServiceBot CODE` → `/start CODE`; in a private chat the bot is always meant."""
    if not text.startswith("/"):
        return text
    command, space, rest = text.partition(" ")
    return command.partition("@")[0] + space + rest


# -- outgoing --------------------------------------------------------------------------------


def render(reply: Reply, photo: Path | None, contact: ContactTexts) -> list[Outgoing]:
    """The Telegram messages for one reply; the keyboard goes with the last text."""
    texts = split_text(reply.text)
    messages: list[Outgoing] = []
    if photo is not None:
        caption = texts.pop(0) if texts and utf16_len(texts[0]) <= MAX_CAPTION else ""
        messages.append(Outgoing(caption, photo=photo))
    messages.extend(Outgoing(text) for text in texts)
    keyboard = inline_keyboard(reply.buttons)
    if keyboard is not None:
        messages = _with_markup_on_last(messages, keyboard, fallback_text=contact.prompt)
    if reply.request_contact:
        contact_keyboard = ReplyKeyboardMarkup(
            [[KeyboardButton(contact.button, request_contact=True)]],
            one_time_keyboard=True,
            resize_keyboard=True,
        )
        if keyboard is None:
            messages = _with_markup_on_last(
                messages, contact_keyboard, fallback_text=contact.prompt
            )
        else:
            # A message holds one keyboard: the contact button follows on a line of its own.
            messages.append(Outgoing(contact.prompt, markup=contact_keyboard))
    return messages


def _with_markup_on_last(
    messages: list[Outgoing], markup: Markup, fallback_text: str
) -> list[Outgoing]:
    if not messages:
        return [Outgoing(fallback_text, markup=markup)]
    last = messages[-1]
    return [*messages[:-1], Outgoing(last.text, photo=last.photo, markup=markup)]


def inline_keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """Buttons whose data Telegram would refuse (> 64 bytes) are dropped and logged, so one
    bad button never costs the owner the whole message."""
    keyboard = []
    for row in rows:
        kept = [InlineKeyboardButton(b.label, callback_data=b.data) for b in row if _fits(b)]
        if kept:
            keyboard.append(kept)
    return InlineKeyboardMarkup(keyboard) if keyboard else None


def _fits(button: Button) -> bool:
    size = len(button.data.encode())
    if 1 <= size <= MAX_CALLBACK_DATA:
        return True
    log.error("button %r dropped: callback data is %d bytes (1-64 allowed)", button.label, size)
    return False


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut a long text into messages at line ends; a single over-long line is cut hard.

    Telegram counts UTF-16 code units, so an emoji takes two of the 4096.
    """
    if not text.strip():
        return []
    chunks: list[str] = []
    current, size = "", 0
    for line in text.splitlines(keepends=True):
        for piece in _hard_split(line, limit):
            piece_size = utf16_len(piece)
            if current and size + piece_size > limit:
                chunks.append(current)
                current, size = "", 0
            current += piece
            size += piece_size
    chunks.append(current)
    return [chunk.rstrip("\n") for chunk in chunks if chunk.strip()]


def _hard_split(line: str, limit: int) -> list[str]:
    if utf16_len(line) <= limit:
        return [line]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = utf16_len(char)
        if size + width > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    return [*pieces, "".join(current)]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
