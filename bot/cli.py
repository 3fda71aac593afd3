"""`python -m bot …` / `owner-bot …`: the one entry point.

Feature modules add their own sub-commands (`add_commands`) and benchmarks (`add_bench`);
every command sets `func(args) -> exit code`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import ConfigError
from bot.settings import SettingsError, load_settings

if TYPE_CHECKING:
    from bot.bootstrap import Runtime

#: Modules that add their own commands. They are imported only when their command runs (or for
#: the overview), so `faq ask` does not pay for importing Telegram, WeChat and SQLAlchemy.
FEATURE_COMMANDS = {
    "faq": "bot.faq.cli",
    "certificates": "bot.certificates_import",
    "wechat": "bot.channels.wechat_cli",
    "understand": "bot.understanding.cli",
}
BENCHMARKS = (
    "bot.faq.cli",
    "bot.channels.telegram_bench",
    "bot.channels.wechat_cli",
    "bot.understanding.cli",
)
CORE_COMMANDS = ("run", "demo", "db", "owners")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        sys.exit(2)
    try:
        sys.exit(args.func(args))
    except (SettingsError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        # Ctrl-C is how an operator stops `run` or `demo`: the server has shut down by now.
        print("stopped", file=sys.stderr)
        sys.exit(130)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """All commands, or, when `command` names one, just what that command needs."""
    known = (*CORE_COMMANDS, *FEATURE_COMMANDS, "bench")
    wanted = command if command in known else None
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Owner self-service bot (WeChat, Telegram, console)."
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_run(commands)
    _add_demo(commands)
    _add_db(commands)
    _add_owners(commands)
    for name, module in FEATURE_COMMANDS.items():
        if wanted in (None, name):
            importlib.import_module(module).add_commands(commands)
    if wanted in (None, "bench"):
        bench = commands.add_parser("bench", help="benchmarks that print figures")
        bench_commands = bench.add_subparsers(title="benchmarks", metavar="BENCH")
        for module in BENCHMARKS:
            importlib.import_module(module).add_bench(bench_commands)
    return parser


def run_async(work: Callable[[Runtime], Awaitable[int]], **runtime_options: Any) -> int:
    """Build the runtime from the environment, run `work` on it, always close it."""
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for chatty in ("alembic", "httpx", "apscheduler"):  # one line per request or job is noise
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.root.level))

    from bot.bootstrap import build_runtime

    async def wrapped() -> int:
        runtime = build_runtime(settings, **runtime_options)
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    return asyncio.run(wrapped())


async def _upgrade(runtime: Runtime) -> None:
    from bot.storage.migrate import upgrade

    await upgrade(runtime.db)


async def _autogenerate(runtime: Runtime, message: str) -> None:
    from bot.storage.migrate import autogenerate

    await autogenerate(runtime.db, message)


# -- run / demo -----------------------------------------------------------------------------
def _add_run(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = commands.add_parser("run", help="HTTP server, channels and scheduler in one process")
    run.add_argument(
        "--console", action="store_true", help="also chat in this terminal (as `demo` does)"
    )
    run.add_argument("--demo-data", action="store_true", help="seed the sample roster first")
    run.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from bot.server import serve

    async def work(runtime: Runtime) -> int:
        if args.demo_data:
            await _upgrade(runtime)
            await _print_demo_banner(runtime)
        await serve(runtime, console_user="console-owner" if args.console else None)
        return 0

    return run_async(work)


def _add_demo(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser("demo", help="chat with the bot in this terminal on demo data")
    demo.add_argument("--script", type=Path, help="feed owner lines from FILE, print replies")
    demo.add_argument("--lang", choices=["zh", "en"], help="the owner's platform language")
    demo.add_argument("--user", default="demo-owner", help="console user id (default: %(default)s)")
    demo.add_argument(
        "--json", action="store_true", help="with --script: one JSON object per owner line"
    )
    demo.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from bot.channels.console import ConsoleChannel, chat

    if args.json and args.script is None:
        print("error: --json needs --script FILE", file=sys.stderr)
        return 2
    if args.script is not None and not args.script.is_file():
        print(f"error: cannot read {args.script}", file=sys.stderr)
        return 2

    async def work(runtime: Runtime) -> int:
        await _upgrade(runtime)
        console = ConsoleChannel()
        runtime.services.gateways[console.name] = console
        if args.json:
            await _seed(runtime)
            await _demo_json(runtime, args)
            return 0
        if args.script is None:
            await _print_demo_banner(runtime)
        else:
            await _seed(runtime)
        lines = args.script.open(encoding="utf-8") if args.script else sys.stdin
        with lines:
            await chat(
                runtime.engine,
                console,
                lines,
                user_id=args.user,
                language=args.lang,
                echo=args.script is not None,
                after_each=runtime.outbox.run_once,
            )
        return 0

    return run_async(work, with_channels=False)


async def _demo_json(runtime: Runtime, args: argparse.Namespace) -> None:
    from bot.channels.console import chat_json

    async def state_of(user_id: str) -> tuple[str | None, str | None]:
        async with runtime.uow() as uow:
            account = await uow.accounts.find("console", user_id)
            if account is None:
                return None, None
            state = await uow.conversations.load(account.id)
        return state.flow, state.step

    with args.script.open(encoding="utf-8") as lines:
        await chat_json(
            runtime.engine,
            lines,
            sys.stdout,
            user_id=args.user,
            language=args.lang,
            state_of=state_of,
        )


async def _seed(runtime: Runtime) -> list[tuple[str, str]]:
    from bot.demo import seed_demo

    return await seed_demo(runtime, datetime.now(UTC))


async def _print_demo_banner(runtime: Runtime) -> None:
    unused = await _seed(runtime)
    print("Demo data is ready. Bind as a demo owner by typing one of these lines:")
    for code, label in unused[:3]:
        print(f"  绑定 {code}    ({label})")
    print("Then try: 报修 / 进度 / 产权证 / 投诉 / 防水保修几年 / help. Ctrl-D ends.\n")


# -- db -------------------------------------------------------------------------------------
def _add_db(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(title="db commands", metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply all migrations").set_defaults(func=_db_upgrade)
    revision = db_commands.add_parser("revision", help="autogenerate a migration from the models")
    revision.add_argument("-m", "--message", required=True)
    revision.set_defaults(func=_db_revision)


def _db_upgrade(args: argparse.Namespace) -> int:
    async def work(runtime: Runtime) -> int:
        await _upgrade(runtime)
        print("database is up to date")
        return 0

    return run_async(work, with_channels=False)


def _db_revision(args: argparse.Namespace) -> int:
    async def work(runtime: Runtime) -> int:
        await _upgrade(runtime)
        await _autogenerate(runtime, args.message)
        return 0

    return run_async(work, with_channels=False)


# -- owners ---------------------------------------------------------------------------------
def _add_owners(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    owners = commands.add_parser("owners", help="the owner roster and invite codes")
    owner_commands = owners.add_subparsers(title="owners commands", metavar="ACTION")
    importer = owner_commands.add_parser("import", help="import the CRM's roster CSV")
    importer.add_argument("file", type=Path)
    importer.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
    importer.set_defaults(func=_owners_import)
    codes = owner_commands.add_parser("invite-codes", help="write one invite code per home")
    codes.add_argument("--out", type=Path, required=True)
    codes.add_argument(
        "--only-new", action="store_true", help="skip homes whose code is issued and still valid"
    )
    codes.set_defaults(func=_owners_invite_codes)


def _owners_import(args: argparse.Namespace) -> int:
    from bot.roster_import import import_roster, parse_roster

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    parsed = parse_roster(data)
    if parsed.errors:
        print(f"{args.file}: {len(parsed.errors)} problem(s), nothing was imported:")
        for error in parsed.errors:
            print(f"  {error}")
        return 1

    async def work(runtime: Runtime) -> int:
        await _upgrade(runtime)
        counts = await import_roster(
            runtime.uow, parsed.rows, datetime.now(UTC), dry_run=args.dry_run
        )
        verb = "would import" if args.dry_run else "imported"
        print(
            f"{verb} {len(parsed.rows)} rows ({parsed.encoding}): "
            f"{counts.units_created} new units, {counts.units_updated} updated, "
            f"{counts.owners_created} new owners, {counts.links_created} new owner-unit links"
        )
        return 0

    return run_async(work, with_channels=False)


def _owners_invite_codes(args: argparse.Namespace) -> int:
    from bot.domain.binding import BindingLimits
    from bot.roster_import import issue_invite_codes, write_codes_csv

    async def work(runtime: Runtime) -> int:
        await _upgrade(runtime)
        settings = runtime.settings
        limits = runtime.services.rules.parsed("binding", BindingLimits.from_config)
        now = datetime.now(UTC)
        codes = await issue_invite_codes(
            runtime.uow,
            now=now,
            valid_until=now + limits.code_valid_for,
            bot_username=settings.telegram_bot_username,
            only_new=args.only_new,
        )
        write_codes_csv(args.out, codes)
        print(f"wrote {len(codes)} invite code(s) to {args.out}")
        return 0

    return run_async(work, with_channels=False)
