"""Reads the YAML a property company edits (`config/rules.yaml`). Domain modules parse their own
sections from `Rules.section(...)`, so adding a rule never touches this loader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Rules:
    raw: Mapping[str, Any]

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.raw.get(name)
        if not isinstance(value, Mapping):
            raise ConfigError(f"config/rules.yaml has no section {name!r}")
        return value

    @property
    def company(self) -> Mapping[str, Any]:
        return self.section("company")


def load_rules(config_dir: Path) -> Rules:
    path = config_dir / "rules.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path} must be a mapping")
    return Rules(raw)
