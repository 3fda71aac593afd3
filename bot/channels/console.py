"""The console channel: a terminal chat through the same engine and flows as the real channels.

Owners' lines become text messages; `photo: PATH` sends a photo, `contact: PHONE` shares a
phone number, and a number answers the numbered buttons (as in WeChat).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TextIO

from bot.engine.ports import Answer, EnginePort, EngineUnavailable, MediaError, Push, ReplyRoute
from bot.engine.types import IncomingMessage, MessageKind, Reply


def render(reply: Reply) -> str:
    """Buttons as numbered options, the way WeChat shows them too."""
    lines = [reply.text]
    if reply.photo_path:
        lines.append(f"[photo {reply.photo_path}]")
    options = reply.flat_buttons()
    if options:
        lines.append("  ".join(f"[{i}] {b.label}" for i, b in enumerate(options, start=1)))
    if reply.request_contact:
        lines.append("(contact: PHONE shares your phone number)")
    return "\n".join(lines)


def to_message(line: str, user_id: str, language: str | None, counter: int) -> IncomingMessage:
    kind, text, media_ref, phone = MessageKind.TEXT, line, None, None
    command, _, rest = line.partition(":")
    if command.strip() == "photo" and rest.strip():
        kind, text, media_ref = MessageKind.PHOTO, "", rest.strip()
    elif command.strip() == "contact" and rest.strip():
        kind, text, phone = MessageKind.CONTACT, "", rest.strip()
    return IncomingMessage(
        channel="console",
        user_id=user_id,
        update_key=f"{user_id}:{uuid.uuid4().hex}:{counter}",
        kind=kind,
        text=text,
        media_ref=media_ref,
        phone=phone,
        language=language,
    )


class ConsoleChannel:
    name = "console"

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out

    async def send(
        self, user_id: str, replies: Sequence[Reply], *, lang: str, push: Push | None = None
    ) -> list[str]:
        """A terminal has no message ids."""
        for reply in replies:
            prefix = "📬 " if push else ""
            self.out.write(f"{prefix}bot> {render(reply)}\n\n")
        self.out.flush()
        return []

    async def fetch_media(self, media_ref: str, max_bytes: int) -> bytes:
        return await asyncio.to_thread(_read_limited, media_ref, max_bytes)


def _read_limited(media_ref: str, max_bytes: int) -> bytes:
    path = Path(media_ref).expanduser()
    try:
        if path.stat().st_size > max_bytes:
            raise MediaError("too_large")
        return path.read_bytes()
    except OSError:
        raise MediaError("unavailable") from None


async def chat(
    engine: EnginePort,
    channel: ConsoleChannel,
    lines: TextIO,
    *,
    user_id: str,
    language: str | None,
    echo: bool,
    after_each: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Feed lines to the engine until EOF; `echo` prints the owner's lines (for scripts)."""
    for counter in itertools.count():
        if not echo:
            channel.out.write("you> ")
            channel.out.flush()
        # A thread, so the HTTP server and scheduler sharing this loop keep running.
        line = await asyncio.to_thread(lines.readline)
        if not line:
            return
        line = line.rstrip("\n")
        if echo:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            channel.out.write(f"you> {line}\n")
        try:
            answer = await _handle(engine, to_message(line, user_id, language, counter))
        except EngineUnavailable:
            lang = language or engine.default_language
            await channel.send(user_id, [Reply(engine.texts.get("engine.busy", lang))], lang=lang)
            continue
        await channel.send(user_id, answer.replies, lang=answer.lang)
        if after_each is not None:
            await after_each()


async def _handle(engine: EnginePort, msg: IncomingMessage) -> Answer:
    """Record, then process: a terminal has no redelivery, so a line is never a duplicate, and
    the answer is printed right here (nothing to persist for a terminal)."""
    await engine.record(msg)
    return await engine.process(msg, ReplyRoute.CALLER)


#: (flow, step) of a console user's conversation after a message, read from storage.
StateOf = Callable[[str], Awaitable[tuple[str | None, str | None]]]
#: The intent the understanding step gives a typed line.
IntentOf = Callable[[str], str]


async def chat_json(
    engine: EnginePort,
    lines: TextIO,
    out: TextIO,
    *,
    user_id: str,
    language: str | None,
    intent_of: IntentOf,
    state_of: StateOf,
) -> None:
    """`demo --script FILE --json`: one JSON object per owner line, for tests and tuning:
    {"in", "intent", "flow", "step", "replies": [{"text", "buttons": [label, …]}]}. Button
    labels come in the order a typed number presses them."""
    for counter, raw in enumerate(lines):
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        msg = to_message(line, user_id, language, counter)
        try:
            replies = (await _handle(engine, msg)).replies
        except EngineUnavailable:
            lang = language or engine.default_language
            replies = [Reply(engine.texts.get("engine.busy", lang))]
        flow, step = await state_of(user_id)
        record = {
            "in": line,
            "intent": intent_of(line) if msg.kind is MessageKind.TEXT else None,
            "flow": flow,
            "step": step,
            "replies": [
                {"text": r.text, "buttons": [b.label for b in r.flat_buttons()]} for r in replies
            ],
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
