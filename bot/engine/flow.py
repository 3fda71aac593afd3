"""The contract every conversation flow in `bot/handlers/` follows.

A flow is a small state machine over neutral types: a step takes the owner's input, validates
it, updates the draft and returns replies plus the next step. The engine persists
`(flow, step, flow_version, data)` between messages, so steps keep no state of their own.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from bot.engine.types import Button, IncomingMessage, MessageKind, Reply

if TYPE_CHECKING:
    from bot.engine.context import Context


@dataclass
class Outcome:
    """What a step decided.

    `next_step=None` ends the flow; `start_flow` hands the conversation to another flow (its
    `start` runs right after, and its replies follow these).
    """

    replies: list[Reply] = field(default_factory=list)
    next_step: str | None = None
    data: dict[str, Any] | None = None
    start_flow: str | None = None


class Leaving(enum.Enum):
    """What happens to the flow the owner is in when this flow starts."""

    PAUSE = "pause"  # its draft is kept; starting it again offers to continue
    DISCARD = "discard"  # /cancel
    KEEP = "keep"  # /help: answer and stay where you were


StepHandler = Callable[["Context", dict[str, Any]], Awaitable[Outcome]]


class Flow:
    """Base class: subclasses set `name` and define `start` and `step_<name>` methods.

    `commands` (first word, e.g. "/repair", "绑定"; the rest is the argument) and `shortcuts`
    (whole-message texts such as "报修", "repair") start the flow from anywhere; so does a button
    whose data is `flow:<name>`, and the platform events listed in `events` ("subscribe",
    "scan", "unsubscribe", "contact"). Button data of a flow starts with `<name>:`.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1
    commands: ClassVar[tuple[str, ...]] = ()
    shortcuts: ClassVar[tuple[str, ...]] = ()
    events: ClassVar[tuple[str, ...]] = ()
    requires_binding: ClassVar[bool] = True
    leaving: ClassVar[Leaving] = Leaving.PAUSE
    #: Steps whose answer is the owner's own words (a description): a typed message there is
    #: the answer unless it is a navigation word or a question the FAQ can answer.
    free_text_steps: ClassVar[frozenset[str]] = frozenset()
    #: Every typed message belongs to the flow (hand-off: it goes to staff), except navigation.
    keeps_text: ClassVar[bool] = False
    #: Typed text leaves the flow and is understood afresh (a menu of choices, the FAQ).
    releases_text: ClassVar[bool] = False
    #: Steps that take every message, commands and shortcuts included, and never idle out:
    #: the hand-off while a person answers, where "报修" is something to tell that person.
    exclusive_steps: ClassVar[frozenset[str]] = frozenset()

    async def start(self, ctx: Context, argument: str) -> Outcome:
        raise NotImplementedError

    async def press(self, ctx: Context, value: str) -> Outcome | None:
        """A button of this flow pressed while the owner is not in it (an older message).

        Flows whose buttons stay valid (FAQ answers, a ticket's detail) override this; None
        tells the owner the button has expired.
        """
        return None

    async def ask_again(self, ctx: Context, step: str, data: dict[str, Any]) -> Outcome | None:
        """The question of `step` once more (after answering a question in between); None when
        the flow cannot repeat it, and the owner is told to carry on."""
        return None

    async def navigate(self, ctx: Context, intent: str, data: dict[str, Any]) -> Outcome | None:
        """A typed navigation word (back, cancel, menu, end_human) inside this flow; None lets
        the router apply the default (cancel discards, the others go to the menu)."""
        return None

    async def step(self, ctx: Context, step: str, data: dict[str, Any]) -> Outcome:
        handler: StepHandler | None = getattr(self, f"step_{step}", None)
        if handler is None:
            return await self.start(ctx, "")
        return await handler(ctx, data)


def start_button(label: str, flow_name: str) -> Button:
    return Button(label, f"flow:{flow_name}")


def pressed(msg: IncomingMessage, prefix: str) -> str | None:
    """The value of a button press `prefix:value`, or None when the message is something else."""
    if msg.kind is MessageKind.BUTTON and msg.payload and msg.payload.startswith(prefix + ":"):
        return msg.payload[len(prefix) + 1 :]
    return None
