"""Reads the YAML a property company edits (`config/rules.yaml`) into one typed `CompanyRules`.
Domain modules give their own sections meaning; this loader only reads the file and names it in
every error, so a broken file stops start-up with the file and the key at fault."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.domain.errors import ConfigError
from bot.domain.rules import CompanyRules

__all__ = ["ConfigError", "load_mapping", "load_raw_rules", "load_rules", "read_yaml", "rules_path"]

#: libyaml's loader when installed (several times faster), else PyYAML's; both are "safe".
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def rules_path(config_dir: Path) -> Path:
    return config_dir / "rules.yaml"


def load_raw_rules(config_dir: Path) -> Mapping[str, Any]:
    """The file as written, for checks that look at values before they are given meaning."""
    return load_mapping(rules_path(config_dir))


def read_yaml(path: Path) -> Any:
    """A config file's content; a mistake is one line, `file:line:column: problem`, that the
    person who edited the file can act on (PyYAML's own message spans five lines)."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.context_mark or exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ConfigError(f"{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def load_mapping(path: Path) -> Mapping[str, Any]:
    """A YAML file whose top level is a mapping; ConfigError names the file otherwise."""
    raw = read_yaml(path)
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path} must be a mapping")
    return raw


def load_rules(config_dir: Path) -> CompanyRules:
    raw = load_raw_rules(config_dir)
    try:
        return CompanyRules.from_config(raw)
    except ConfigError as exc:
        raise ConfigError(f"{rules_path(config_dir)}: {exc}") from exc
