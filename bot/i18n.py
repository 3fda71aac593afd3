"""User-facing texts from `config/locales/<lang>/<namespace>.yaml`.

Each file is a flat `key: text` map; its keys are addressed as `<namespace>.<key>`. zh is the
reference language: a key missing in another language falls back to zh rather than showing a
key name to an owner (a test keeps both complete).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.config import read_yaml

#: The C loader when PyYAML has it: locale files are read at every start-up.

LANGUAGES = ("zh", "en")
REFERENCE_LANGUAGE = "zh"


class MissingText(KeyError):
    pass


class _Blank(dict[str, Any]):
    """Lets a text name a placeholder its caller does not fill, instead of crashing a reply."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Texts:
    def __init__(self, catalog: Mapping[str, Mapping[str, str]], defaults: Mapping[str, Any]):
        self._catalog = catalog
        self._defaults = dict(defaults)

    @classmethod
    def from_dir(cls, locales_dir: Path, defaults: Mapping[str, Any] | None = None) -> Texts:
        catalog: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
        for lang in LANGUAGES:
            for path in sorted((locales_dir / lang).glob("*.yaml")):
                entries = read_yaml(path) or {}
                for key, text in entries.items():
                    catalog[lang][f"{path.stem}.{key}"] = str(text)
        return cls(catalog, defaults or {})

    def keys(self, lang: str) -> set[str]:
        return set(self._catalog.get(lang, {}))

    def get(self, key: str, lang: str, **values: Any) -> str:
        template = self._catalog.get(lang, {}).get(key)
        if template is None:
            template = self._catalog[REFERENCE_LANGUAGE].get(key)
        if template is None:
            raise MissingText(key)
        return template.format_map(_Blank({**self._defaults_for(lang), **values}))

    def _defaults_for(self, lang: str) -> dict[str, Any]:
        """Company values with a language variant (`name_en`) use it in that language."""
        suffix = f"_{lang}"
        localised = {
            k.removesuffix(suffix): v for k, v in self._defaults.items() if k.endswith(suffix)
        }
        return {**self._defaults, **localised}


def language_from_hint(hint: str | None, default: str) -> str:
    """Map a platform language code (zh-hans, en-US, de) to one we speak."""
    if not hint:
        return default
    hint = hint.lower()
    if hint.startswith("zh"):
        return "zh"
    return "en"
