"""FAQ fixtures: the real knowledge base, and small throw-away config folders for check tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.faq import FaqMatcher

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = PROJECT_ROOT / "config"
EVAL_PATH = CONFIG_DIR / "faq_eval.yaml"

COMPANY = """\
company:
  name: 测试物业
  name_en: Test Property
  hotline: "027-12345678"
  hotline_hours: "08:00-18:00"
  email: help@example.com
  email_reply_days: 2
  visit_time: "24小时"
  visit_time_en: "24 hours"
  renovation_deposit: 1500
"""


@pytest.fixture(scope="session")
def matcher() -> FaqMatcher:
    """The project's real knowledge base, loaded once."""
    return FaqMatcher.from_config(CONFIG_DIR)


def entry_yaml(
    entry_id: str,
    zh: list[str],
    en: list[str] | None = None,
    answer_zh: str = "答案。",
    answer_en: str = "Answer.",
) -> str:
    """One entry in the files' format, for building small test bases."""
    lines = [
        f"- id: {entry_id}",
        "  answer:",
        f'    zh: "{answer_zh}"',
        f'    en: "{answer_en}"',
        "  questions:",
        "    zh:",
        *[f"      - {q}" for q in zh],
        "    en:",
        *[f"      - {q}" for q in (en or [f"A question about {entry_id}?"])],
        "  tags: [test]",
        '  source: "000"',
        "",
    ]
    return "\n".join(lines)


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Path]:
    """A config folder with company values and the given FAQ files ({name: yaml text}).

    `with_project_data=True` copies the real synonyms.yaml and intents.yaml as well.
    """

    def make(files: dict[str, str], with_project_data: bool = False) -> Path:
        config = tmp_path / "config"
        faq = config / "faq"
        faq.mkdir(parents=True)
        (config / "rules.yaml").write_text(COMPANY, encoding="utf-8")
        if with_project_data:
            for name in ("synonyms.yaml", "intents.yaml"):
                shutil.copy(CONFIG_DIR / "faq" / name, faq / name)
        for name, text in files.items():
            (faq / name).write_text(text, encoding="utf-8")
        return config

    return make
