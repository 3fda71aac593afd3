"""`python -m bot …` / `owner-bot …`: the one entry point.

One module per command group, each with `add_commands(commands)`; a command parses its arguments
and calls a use case. Groups are imported only when their command runs (or for the overview), so
`faq ask` does not pay for importing Telegram, WeChat and SQLAlchemy. Nothing else imports the CLI.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
from types import FrameType

from bot.config import ConfigError
from bot.settings import SettingsError

#: Command name -> the module that adds it, in the order `--help` lists them.
COMMAND_GROUPS = {
    "run": "bot.cli.run",
    "demo": "bot.cli.demo",
    "db": "bot.cli.db",
    "owners": "bot.cli.owners",
    "certificates": "bot.cli.certificates",
    "surveys": "bot.cli.surveys",
    "faq": "bot.cli.faq",
    "rules": "bot.cli.rules",
    "understand": "bot.cli.understand",
    "wechat": "bot.cli.wechat",
    "staff": "bot.cli.staff",
    "outbox": "bot.cli.outbox",
    "bench": "bot.cli.bench",
}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be: asyncio, uvicorn and our `finally` blocks stop a
    KeyboardInterrupt cleanly (server closed, channels stopped, late replies drained)."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> None:
    signal.signal(signal.SIGTERM, _terminate)
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        sys.exit(2)
    try:
        sys.exit(args.func(args))
    except (SettingsError, ConfigError) as exc:
        _last_words(f"error: {exc}", logging.ERROR)
        sys.exit(2)
    except Terminated:
        # docker stop / systemd: a requested stop is a success.
        _last_words("stopped", logging.INFO)
        sys.exit(0)
    except KeyboardInterrupt:
        # Ctrl-C is how an operator stops `run` or `demo`: the server has shut down by now.
        _last_words("stopped", logging.INFO)
        sys.exit(130)


def _last_words(text: str, level: int) -> None:
    """A bare line for a terminal; a log record when stderr is JSON lines (LOG_FORMAT=json),
    where a collector would choke on text."""
    from bot.app.logs import json_configured

    if json_configured():
        logging.getLogger("bot").log(level, text)
    else:
        print(text, file=sys.stderr)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """All commands, or, when `command` names one, just what that command needs."""
    wanted = command if command in COMMAND_GROUPS else None
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Owner self-service bot (WeChat, Telegram, console)."
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name, module in COMMAND_GROUPS.items():
        if wanted in (None, name):
            importlib.import_module(module).add_commands(commands)
    return parser
