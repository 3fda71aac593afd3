"""Settings fail early and by name; every text exists in both languages."""

from __future__ import annotations

import dataclasses
import re
import shutil
import string
from pathlib import Path

import pytest

from bot.app.bootstrap import build_services
from bot.config import ConfigError, load_rules
from bot.i18n import LANGUAGES, Texts, language_from_hint
from bot.settings import PROJECT_ROOT, SettingsError, load_settings


@pytest.mark.parametrize(
    ("override", "variable"),
    [
        ({"timezone": "Mars/Olympus"}, "TIMEZONE"),
        ({"database_url": "mysql://x"}, "DATABASE_URL"),
        ({"bot_port": 70000}, "BOT_PORT"),
        ({"log_level": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_a_wrong_setting_fails_with_the_variables_name(
    override: dict[str, object], variable: str
) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings(**override)


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMEZONE", "Asia/Chongqing")
    monkeypatch.setenv("BOT_PORT", "9000")
    settings = load_settings()
    assert settings.timezone == "Asia/Chongqing" and settings.bot_port == 9000


def test_every_text_exists_in_every_language_with_the_same_placeholders() -> None:
    texts = Texts.from_dir(PROJECT_ROOT / "config" / "locales", {})
    reference = texts.keys("zh")
    for lang in LANGUAGES:
        assert texts.keys(lang) == reference, f"{lang}: {texts.keys(lang) ^ reference}"
    formatter = string.Formatter()
    for key in reference:
        fields = {
            lang: {f for _, f, _, _ in formatter.parse(texts._catalog[lang][key]) if f}
            for lang in LANGUAGES
        }
        assert fields["zh"] == fields["en"], key


def test_a_placeholder_nobody_filled_shows_as_is_instead_of_crashing() -> None:
    texts = Texts({"zh": {"a.b": "热线 {hotline} {unknown}"}, "en": {}}, {"hotline": "123"})
    assert texts.get("a.b", "en") == "热线 123 {unknown}"


@pytest.mark.parametrize(
    ("hint", "expected"),
    [("zh-hans", "zh"), ("zh-TW", "zh"), ("en-US", "en"), ("de", "en"), (None, "zh")],
)
def test_platform_language_hints(hint: str | None, expected: str) -> None:
    assert language_from_hint(hint, "zh") == expected


def test_no_owner_text_is_hard_coded_in_handlers() -> None:
    """User-facing strings live in locale files: handlers hold no Chinese sentences."""
    for path in (PROJECT_ROOT / "bot" / "handlers").glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith(("#", '"""')) or "shortcuts" in line or "commands" in line:
                continue
            sentences = re.findall(r'"[^"]*[\u4e00-\u9fff]{4,}[^"]*[，。！？]"', line)
            assert not sentences, f"{path.name}: {line.strip()}"


@pytest.mark.parametrize(
    ("before", "after", "error"),
    [
        (
            "max_failed_attempts: 5",
            "max_failed_attempts: x",
            r"rules\.yaml: binding: .*max_failed_attempts must be a whole number, not 'x'",
        ),
        (
            "order_within_hours: 1 ",
            "order_within_hours: soon ",
            r"rules\.yaml: complaint: .*order_within_hours must be a number, not 'soon'",
        ),
        (
            'hotline_hours: "08:00-18:00"',
            "hotline_hrs: 8",
            r"rules\.yaml: company: .*hotline_hours",
        ),
        ("certificate:\n", "certificates:\n", r"rules\.yaml: no section 'certificate'"),
    ],
)
def test_a_broken_rules_file_stops_start_up_not_a_conversation(
    tmp_path: Path, before: str, after: str, error: str
) -> None:
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    rules = config / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert before in text
    rules.write_text(text.replace(before, after), encoding="utf-8")
    with pytest.raises(ConfigError, match=error):
        build_services(load_settings(config_dir=config, media_dir=tmp_path / "media"))


def test_the_rules_are_one_frozen_typed_object() -> None:
    rules = load_rules(PROJECT_ROOT / "config")
    assert rules.binding.max_failed_attempts == 5
    assert rules.service_hours.opens.hour == 8
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.binding = rules.binding  # type: ignore[misc]
