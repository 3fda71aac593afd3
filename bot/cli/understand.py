"""`python -m bot understand [--lang zh|en] --json`: reads one message per line on standard
input and prints what the bot understood, for tests, staff and tuning."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.cli.common import SubParsers
from bot.cli.faq import config_dir_of
from bot.config import ConfigError
from bot.faq.knowledge import FaqConfigError
from bot.understanding.understand import Understander, Understanding


def add_commands(commands: SubParsers[argparse.ArgumentParser]) -> None:
    understand = commands.add_parser(
        "understand", help="intent and slots of each stdin line (what the bot understood)"
    )
    understand.add_argument("--lang", choices=("zh", "en"), help="the owner's language hint")
    understand.add_argument("--json", action="store_true", help="one JSON object per line")
    understand.add_argument("--config-dir", type=Path, default=None)
    understand.set_defaults(func=run_understand)


def load_understander(args: argparse.Namespace) -> Understander | None:
    try:
        return Understander.from_config(config_dir_of(args))
    except (ConfigError, FaqConfigError) as exc:
        print(f"error: the understanding configuration has problems:\n{exc}", file=sys.stderr)
        return None


def run_understand(args: argparse.Namespace) -> int:
    understander = load_understander(args)
    if understander is None:
        return 2
    for line in sys.stdin:
        text = line.rstrip("\n")
        if not text.strip():
            continue
        understood = understander.understand(text, args.lang)
        print(as_json(text, understood) if args.json else describe(text, understood))
    return 0


def as_json(text: str, understood: Understanding) -> str:
    """The contract: text, intent, confidence, slots (plus alternative when there is one)."""
    payload = {**understood.to_dict(), "text": text}
    if payload["alternative"] is None:
        del payload["alternative"]
    return json.dumps(payload, ensure_ascii=False)


def describe(text: str, understood: Understanding) -> str:
    slots = ", ".join(f"{k}={v}" for k, v in understood.to_dict()["slots"].items())
    return f"{understood.intent.value:<12} {understood.confidence:.2f}  {text}  [{slots}]"
