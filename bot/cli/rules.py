"""`python -m bot rules check`: every value in rules.yaml that still awaits the company's sign-off
(a DEFAULT, a SAMPLE from a source template, or a project's fee not yet signed off), with where
owners see it.

Owners screenshot what the bot says and hold the company to it; this is the list the company
signs off before going live. `run` logs its count when ENVIRONMENT=production (bot/app/serve.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.common import SubParsers
from bot.config import load_raw_rules, load_rules
from bot.domain.sign_off import PendingValue
from bot.faq.knowledge import read_entries
from bot.i18n import REFERENCE_LANGUAGE, Texts
from bot.settings import load_settings

#: Company keys that texts name under another placeholder (both languages use {company_name}).
PLACEHOLDER_ALIASES = {"name": "company_name", "name_en": "company_name"}


def add_commands(commands: SubParsers[argparse.ArgumentParser]) -> None:
    rules = commands.add_parser("rules", help="company rules (config/rules.yaml)")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True)
    check = rules_commands.add_parser(
        "check", help="list every DEFAULT, SAMPLE or unsigned fee awaiting the company's sign-off"
    )
    check.add_argument(
        "--config-dir", type=Path, help="the config directory (default: the CONFIG_DIR setting)"
    )
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Prints the list; exits 0 (a list is not an error: the file itself was read and checked)."""
    config_dir = args.config_dir or load_settings().config_dir
    rules = load_rules(config_dir)
    used_in = placeholder_uses(config_dir)
    pending = rules.awaiting_sign_off
    print(f"{len(pending)} value(s) in {config_dir / 'rules.yaml'} await the company's sign-off:")
    for item in pending:
        print(describe(item, used_in.get(item.key, ())))
    return 0


def describe(item: PendingValue, texts: tuple[str, ...]) -> str:
    lines = [f"- {item.key} = {item.value!r}  [{item.basis.value.upper()}]"]
    lines.append(f"    owners see it: {item.owners_see}")
    if texts:
        lines.append(f"    named by: {', '.join(texts)}")
    return "\n".join(lines)


def placeholder_uses(config_dir: Path) -> dict[str, tuple[str, ...]]:
    """company.X → the texts and FAQ answers that name {X}, so the list points at real words."""
    texts = Texts.from_dir(config_dir / "locales", {})
    templates = {key: texts.get(key, REFERENCE_LANGUAGE) for key in texts.keys(REFERENCE_LANGUAGE)}
    entries, _ = read_entries(config_dir / "faq")
    templates |= {f"faq:{entry.id}": entry.answer["zh"] for entry in entries}
    uses = {}
    for name in load_raw_rules(config_dir).get("company") or {}:
        placeholder = "{" + PLACEHOLDER_ALIASES.get(name, name) + "}"
        uses[f"company.{name}"] = tuple(
            sorted(key for key, text in templates.items() if placeholder in text)
        )
    return uses
