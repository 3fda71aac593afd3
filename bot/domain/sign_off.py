"""Values in rules.yaml that still await the company's sign-off.

A value is a DEFAULT (proposed by us, not in any source), a SAMPLE (copied from a source's
example or template, e.g. "如每天 8:00 18:00") or UNSIGNED (a project's fee the company entered,
bot.domain.fees, until its `signed_off` names who confirmed it). Owners hold the company to
what the bot says, so each such value is listed with where owners see it until the company
confirms it and deletes its line from the `awaiting_sign_off` section (or signs the fee off).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.domain.errors import ConfigError


class Basis(enum.StrEnum):
    DEFAULT = "default"
    SAMPLE = "sample"
    #: Entered by the company for a project (a fee), not yet signed off.
    UNSIGNED = "unsigned"


@dataclass(frozen=True)
class PendingValue:
    #: Dotted path into rules.yaml; a list item is named by its `id`, e.g.
    #: "repair.categories.structure.deadlines.normal.resolve_working_days".
    key: str
    basis: Basis
    value: object
    #: Where owners meet it, in the company's words (texts that name it are found separately).
    owners_see: str


def pending_values(raw: Mapping[str, Any]) -> tuple[PendingValue, ...]:
    """The `awaiting_sign_off` section, each key checked against the file itself."""
    entries = raw.get("awaiting_sign_off") or {}
    if not isinstance(entries, Mapping):
        raise ConfigError("awaiting_sign_off: must map keys to {basis, owners_see}")
    pending = []
    for key, entry in entries.items():
        try:
            basis, owners_see = Basis(entry["basis"]), str(entry["owners_see"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"awaiting_sign_off: {key}: {exc!r}") from exc
        pending.append(PendingValue(str(key), basis, value_at(raw, str(key)), owners_see))
    return tuple(pending)


def value_at(raw: Mapping[str, Any], key: str) -> object:
    """The value a dotted key names; a ConfigError when the file has no such value."""
    node: object = raw
    for part in key.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list):
            node = next((i for i in node if isinstance(i, Mapping) and i.get("id") == part), None)
            if node is None:
                raise ConfigError(f"awaiting_sign_off: {key}: no item with id {part!r}")
        else:
            raise ConfigError(f"awaiting_sign_off: {key}: no value {part!r}")
    return node
