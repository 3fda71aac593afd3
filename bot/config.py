"""Reads the YAML a property company edits (`config/rules.yaml`). Domain modules parse their own
sections (`Rules.parsed(section, parse)`), so adding a rule never touches this loader; each
section is parsed once, not at every conversation step."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import yaml

T = TypeVar("T")


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Rules:
    raw: Mapping[str, Any]
    _parsed: dict[tuple[str, object], object] = field(
        default_factory=dict, compare=False, repr=False
    )

    def parsed(self, name: str, parse: Callable[[Mapping[str, Any]], T]) -> T:
        """The section `name` as `parse` reads it, parsed on first use and kept."""
        key = (name, parse)
        if key not in self._parsed:
            self._parsed[key] = parse(self.section(name))
        return cast(T, self._parsed[key])

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.raw.get(name)
        if not isinstance(value, Mapping):
            raise ConfigError(f"config/rules.yaml has no section {name!r}")
        return value

    @property
    def company(self) -> Mapping[str, Any]:
        return self.section("company")


def load_rules(config_dir: Path) -> Rules:
    return Rules(load_mapping(config_dir / "rules.yaml"))


def load_mapping(path: Path) -> Mapping[str, Any]:
    """A YAML file whose top level is a mapping; ConfigError names the file otherwise."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path} must be a mapping")
    return raw
