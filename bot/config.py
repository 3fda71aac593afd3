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
#: libyaml's loader when installed (several times faster), else PyYAML's; both are "safe".
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


def load_rules(config_dir: Path) -> Rules:
    path = config_dir / "rules.yaml"
    raw = read_yaml(path)
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path} must be a mapping")
    return Rules(raw)
