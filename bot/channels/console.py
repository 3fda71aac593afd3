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

from bot.engine.engine import Engine, EngineUnavailable
from bot.engine.ports import MediaError, Push
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

    async def send(self, user_id: str, replies: Sequence[Reply], push: Push | None = None) -> None:
        for reply in replies:
            prefix = "📬 " if push else ""
            self.out.write(f"{prefix}bot> {render(reply)}\n\n")
        self.out.flush()

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
    engine: Engine,
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
            result = await engine.handle(to_message(line, user_id, language, counter))
        except EngineUnavailable:
            lang = engine.router.language_for(to_message("", user_id, language, counter))
            await channel.send(user_id, [Reply(engine.services.texts.get("engine.busy", lang))])
            continue
        await channel.send(user_id, result.replies)
        if after_each is not None:
            await after_each()


#: (flow, step) of a console user's conversation after a message, read from storage.
StateOf = Callable[[str], Awaitable[tuple[str | None, str | None]]]


async def chat_json(
    engine: Engine,
    lines: TextIO,
    out: TextIO,
    *,
    user_id: str,
    language: str | None,
    state_of: StateOf,
) -> None:
    """`demo --script FILE --json`: one JSON object per owner line, for tests and tuning:
    {"in", "intent", "flow", "step", "replies": [{"text", "buttons": [label, …]}]}. Button
    labels come in the order a typed number presses them."""
    understanding = engine.services.understanding
    for counter, raw in enumerate(lines):
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        msg = to_message(line, user_id, language, counter)
        try:
            result = await engine.handle(msg)
            replies = result.replies
        except EngineUnavailable:
            lang = engine.router.language_for(msg)
            replies = [Reply(engine.services.texts.get("engine.busy", lang))]
        intent = None
        if msg.kind is MessageKind.TEXT:
            intent = understanding.understand(line, language).intent.value
        flow, step = await state_of(user_id)
        record = {
            "in": line,
            "intent": intent,
            "flow": flow,
            "step": step,
            "replies": [
                {"text": r.text, "buttons": [b.label for b in r.flat_buttons()]} for r in replies
            ],
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
