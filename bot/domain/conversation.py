"""Conversation state as the engine persists it between messages."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: The key of `paused` under which one-time nudges are remembered ({"english": ISO time}). No
#: flow has this name, and `paused` outlives every flow (`clear` keeps it), so what the owner
#: was already offered is remembered for the account without a column of its own.
NUDGES = "~nudges"


class StaleConversation(Exception):
    """Another message for the same account changed the state first; the engine retries."""


@dataclass
class ConversationState:
    account_id: int
    flow: str | None = None
    step: str | None = None
    flow_version: int = 1
    data: dict[str, Any] = field(default_factory=dict)
    #: [[label, data], ...] of the buttons last shown, for numbered answers.
    offered: list[list[str]] = field(default_factory=list)
    #: Drafts of flows left for another flow: {flow: {"step": ..., "data": ..., "at": iso}};
    #: under `NUDGES`, when each one-time nudge was last shown.
    paused: dict[str, Any] = field(default_factory=dict)
    version: int = 0
    updated_at: datetime | None = None

    @property
    def in_flow(self) -> bool:
        return self.flow is not None

    def snapshot(self) -> tuple[Any, ...]:
        """What saving writes, copied (flows change `data` in place): two equal snapshots mean
        the state has nothing new to save."""
        persisted = (self.flow, self.step, self.flow_version, self.data, self.offered, self.paused)
        return copy.deepcopy(persisted)

    def clear(self) -> None:
        self.flow = None
        self.step = None
        self.data = {}

    def pause(self, at: str) -> None:
        """Keep the current flow's draft so the owner can continue it later."""
        if self.flow is not None and self.step is not None:
            self.paused[self.flow] = {"step": self.step, "data": self.data, "at": at}
        self.clear()

    def take_paused(self, flow: str) -> dict[str, Any] | None:
        draft: dict[str, Any] | None = self.paused.pop(flow, None)
        return draft

    def nudged_at(self, nudge: str) -> datetime | None:
        """When the owner was last shown this one-time nudge (None: never)."""
        at = self.paused.get(NUDGES, {}).get(nudge)
        return datetime.fromisoformat(at) if at else None

    def note_nudge(self, nudge: str, at: datetime) -> None:
        self.paused.setdefault(NUDGES, {})[nudge] = at.isoformat()
