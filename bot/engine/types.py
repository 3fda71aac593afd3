"""Channel-neutral message types.

Channel adapters translate platform updates into `IncomingMessage` and render `Reply` back;
everything between (engine, handlers, domain) speaks only these types, so a flow is written
once and works in Telegram, WeChat and the console alike.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: Payload of an UNSUPPORTED message that was speech we cannot read: the owner is asked to type.
VOICE = "voice"


class MessageKind(enum.StrEnum):
    TEXT = "text"
    PHOTO = "photo"
    CONTACT = "contact"
    BUTTON = "button"
    EVENT = "event"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class IncomingMessage:
    """One platform update, reduced to what the flows need.

    `update_key` is the platform's own id for the update (Telegram update_id, WeChat MsgId or
    FromUserName+CreateTime+Event+EventKey): the engine records it once, so a redelivered update
    is never handled twice.
    """

    channel: str
    user_id: str
    update_key: str
    kind: MessageKind
    text: str = ""
    #: Button data (for BUTTON), event name (for EVENT, e.g. "subscribe"), or None.
    payload: str | None = None
    #: Platform reference of a photo (Telegram file_id, WeChat MediaId, console file path).
    media_ref: str | None = None
    #: Phone number shared through the platform's contact button.
    phone: str | None = None
    #: Platform language hint such as "zh-hans" or "en-US".
    language: str | None = None
    display_name: str | None = None
    received_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if v is not None}
        data["kind"] = self.kind.value
        if self.received_at is not None:
            data["received_at"] = self.received_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IncomingMessage:
        values = dict(data)
        values["kind"] = MessageKind(values["kind"])
        if "received_at" in values:
            values["received_at"] = datetime.fromisoformat(values["received_at"])
        return cls(**values)


@dataclass(frozen=True)
class Button:
    label: str
    #: Compact data routed back to the flow on press; never trusted for authorisation.
    data: str


@dataclass(frozen=True)
class Reply:
    """One outgoing message. Channels render buttons natively or as numbered options."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    #: Path of an image under MEDIA_DIR to send along.
    photo_path: str | None = None
    #: Ask the platform for the owner's phone number (Telegram contact button).
    request_contact: bool = False
    #: The web page this message is about (a survey's own page): where a channel that can
    #: only send a link (a WeChat template message) leads, one tap instead of two.
    link: str | None = None

    def flat_buttons(self) -> list[Button]:
        return [button for row in self.buttons for button in row]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "buttons": [[[b.label, b.data] for b in row] for row in self.buttons],
            "photo_path": self.photo_path,
            "request_contact": self.request_contact,
            "link": self.link,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        rows = tuple(
            tuple(Button(label, value) for label, value in row) for row in data.get("buttons", [])
        )
        return cls(
            text=data["text"],
            buttons=rows,
            photo_path=data.get("photo_path"),
            request_contact=bool(data.get("request_contact", False)),
            link=data.get("link"),
        )


def button_rows(*rows: list[Button] | tuple[Button, ...]) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(row) for row in rows if row)


def offered_buttons(replies: list[Reply]) -> list[list[str]]:
    """[[label, data], ...] of the buttons a typed number presses: those of the last reply
    that has any (WeChat numbers only these; `ConversationState.offered` keeps them)."""
    for reply in reversed(replies):
        if reply.buttons:
            return [[button.label, button.data] for button in reply.flat_buttons()]
    return []
