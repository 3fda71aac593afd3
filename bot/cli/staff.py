"""`python -m bot staff create-admin|add|role|link|deactivate|list`: staff accounts.

Passwords come from standard input (`--password-stdin`), never from the command line where
`ps` and the shell history would keep them; in a terminal the command asks for it instead.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.cli.common import SubParsers, run_migrated
from bot.domain.staff import StaffError, StaffRole

if TYPE_CHECKING:
    from bot.app.bootstrap import Runtime

CLI_ACTOR = "cli"


def add_commands(commands: SubParsers[argparse.ArgumentParser]) -> None:
    staff = commands.add_parser("staff", help="staff accounts (console, API, staff group)")
    actions = staff.add_subparsers(title="staff commands", metavar="ACTION")
    admin = actions.add_parser("create-admin", help="create an admin account")
    _account_arguments(admin)
    admin.set_defaults(func=_create, role=StaffRole.ADMIN.value)
    add = actions.add_parser("add", help="create a staff account with a role")
    _account_arguments(add)
    add.add_argument("--role", required=True, choices=[role.value for role in StaffRole])
    add.set_defaults(func=_create)
    role = actions.add_parser("role", help="change the role of an account")
    role.add_argument("--username", required=True)
    role.add_argument("--role", required=True, choices=[role.value for role in StaffRole])
    role.set_defaults(func=_role)
    link = actions.add_parser(
        "link", help="link (or with --unlink, unlink) a Telegram user for the staff group"
    )
    link.add_argument("--username", required=True)
    who = link.add_mutually_exclusive_group(required=True)
    who.add_argument("--telegram-user-id", type=int, help="as the staff group tells them")
    who.add_argument("--unlink", action="store_true")
    link.set_defaults(func=_link)
    deactivate = actions.add_parser("deactivate", help="stop an account (its tokens stop too)")
    deactivate.add_argument("--username", required=True)
    deactivate.set_defaults(func=_deactivate)
    actions.add_parser("list", help="list the accounts").set_defaults(func=_list)


def _account_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--username", required=True)
    parser.add_argument(
        "--display-name", default="", help="name the owner is told (default: username)"
    )
    parser.add_argument("--telegram-user-id", type=int, help="their id in the Telegram staff group")
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (without it, a terminal prompts)",
    )


def read_password(from_stdin: bool) -> str | None:
    """The first line of standard input, or a prompt (twice) when it is a terminal."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != first:
            print("error: the passwords differ", file=sys.stderr)
            return None
        return first
    if not from_stdin:
        print("error: give --password-stdin and pipe the password in", file=sys.stderr)
        return None
    return sys.stdin.readline().rstrip("\r\n")


def _create(args: argparse.Namespace) -> int:
    password = read_password(args.password_stdin)
    if password is None:
        return 2

    async def work(runtime: Runtime) -> int:
        from bot.services.staff import NewStaff, create_staff

        new = NewStaff(
            args.username, password, StaffRole(args.role), args.display_name, args.telegram_user_id
        )
        async with runtime.uow() as uow:
            user = await create_staff(uow, new, CLI_ACTOR, runtime.services.clock())
            await uow.commit()
        print(f"created {user.role.value} {user.username}")
        return 0

    return _refusing(work)


def _role(args: argparse.Namespace) -> int:
    async def work(runtime: Runtime) -> int:
        from bot.services.staff import change_role

        async with runtime.uow() as uow:
            user = await change_role(
                uow, args.username, StaffRole(args.role), CLI_ACTOR, runtime.services.clock()
            )
            await uow.commit()
        print(f"{user.username} is now {user.role.value}")
        return 0

    return _refusing(work)


def _link(args: argparse.Namespace) -> int:
    async def work(runtime: Runtime) -> int:
        from bot.services.staff import link_telegram

        telegram_user_id = None if args.unlink else args.telegram_user_id
        async with runtime.uow() as uow:
            user = await link_telegram(
                uow, args.username, telegram_user_id, CLI_ACTOR, runtime.services.clock()
            )
            await uow.commit()
        print(f"{user.username} is linked to Telegram user {user.telegram_user_id or '(none)'}")
        return 0

    return _refusing(work)


def _deactivate(args: argparse.Namespace) -> int:
    async def work(runtime: Runtime) -> int:
        from bot.services.staff import set_active

        async with runtime.uow() as uow:
            user = await set_active(uow, args.username, False, CLI_ACTOR, runtime.services.clock())
            await uow.commit()
        print(f"{user.username} is deactivated")
        return 0

    return _refusing(work)


def _list(args: argparse.Namespace) -> int:
    async def work(runtime: Runtime) -> int:
        async with runtime.uow() as uow:
            users = await uow.staff.list()
        for user in users:
            state = "active" if user.active else "inactive"
            print(f"{user.username}\t{user.role.value}\t{state}\t{user.display_name}")
        return 0

    return run_migrated(work, with_channels=False)


def _refusing(work: Callable[[Runtime], Awaitable[int]]) -> int:
    """Run `work`; a refusal (duplicate, short password …) is one line and exit code 1."""

    async def guarded(runtime: Runtime) -> int:
        try:
            return await work(runtime)
        except StaffError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return run_migrated(guarded, with_channels=False)
