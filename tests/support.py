"""Test helpers shared by the suites: a controllable clock and a chat driver that talks to the
real engine the way a channel adapter does."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.app.bootstrap import Runtime
from bot.engine.types import IncomingMessage, MessageKind, Reply

_update_ids = itertools.count(1)


@dataclass
class FakeClock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 2, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Chat:
    """One owner's chat: `await chat.say("报修")` returns the bot's replies."""

    runtime: Runtime
    user_id: str = "owner-1"
    channel: str = "console"
    language: str | None = "zh-hans"
    last: list[Reply] = field(default_factory=list)

    async def send(self, **fields: object) -> list[Reply]:
        msg = IncomingMessage(
            channel=self.channel,
            user_id=self.user_id,
            update_key=f"test-{next(_update_ids)}",
            language=self.language,
            **fields,  # type: ignore[arg-type]
        )
        result = await self.runtime.engine.handle(msg)
        self.last = result.replies
        return result.replies

    async def say(self, text: str) -> list[Reply]:
        return await self.send(kind=MessageKind.TEXT, text=text)

    async def press(self, data: str) -> list[Reply]:
        return await self.send(kind=MessageKind.BUTTON, payload=data)

    async def photo(self, path: str) -> list[Reply]:
        return await self.send(kind=MessageKind.PHOTO, media_ref=path)

    async def contact(self, phone: str) -> list[Reply]:
        return await self.send(kind=MessageKind.CONTACT, phone=phone)

    async def event(self, name: str, text: str = "") -> list[Reply]:
        return await self.send(kind=MessageKind.EVENT, payload=name, text=text)

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.last)

    @property
    def buttons(self) -> dict[str, str]:
        """label → data of every button in the last replies."""
        return {b.label: b.data for reply in self.last for b in reply.flat_buttons()}

    def button(self, fragment: str) -> str:
        """Data of the button whose label contains `fragment` (fails loudly when absent)."""
        matches = [data for label, data in self.buttons.items() if fragment in label]
        assert matches, f"no button like {fragment!r} in {list(self.buttons)}"
        return matches[0]


def run_cli(argv: list[str]) -> int:
    """A `python -m bot …` command in this process (its exit code), for tests of commands."""
    from bot.cli import build_parser

    args = build_parser(argv[0]).parse_args(argv)
    code: int = args.func(args)
    return code
