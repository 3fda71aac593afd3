"""`python -m bot staff …` as an operator runs it: real processes, a temporary SQLite file."""

from __future__ import annotations

import subprocess

from tests.e2e.conftest import env  # noqa: F401  (a fixture)
from tests.e2e.test_cli import bot


def staff(
    *args: str,
    env: dict[str, str],  # noqa: F811
    stdin: str = "",
) -> subprocess.CompletedProcess[str]:
    return bot("staff", *args, env=env, stdin=stdin)


def test_accounts_are_created_from_a_password_on_stdin(env: dict[str, str]) -> None:  # noqa: F811
    created = staff(
        "create-admin", "--username", "Boss", "--password-stdin", env=env, stdin="s3cret-pass\n"
    )
    assert created.returncode == 0, created.stderr
    assert "created admin boss" in created.stdout
    added = staff(
        "add", "--username", "wangfang", "--role", "agent", "--password-stdin",
        env=env, stdin="another-pass\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    listing = staff("list", env=env)
    assert "boss\tadmin\tactive" in listing.stdout
    assert "wangfang\tagent\tactive" in listing.stdout
    promoted = staff("role", "--username", "wangfang", "--role", "supervisor", env=env)
    assert promoted.returncode == 0 and "supervisor" in promoted.stdout


def test_refusals_are_one_line_with_a_failing_exit_code(env: dict[str, str]) -> None:  # noqa: F811
    ok = staff(
        "create-admin", "--username", "boss", "--password-stdin", env=env, stdin="long-enough\n"
    )
    assert ok.returncode == 0
    again = staff(
        "add", "--username", "BOSS", "--role", "agent", "--password-stdin", env=env,
        stdin="long-enough\n",
    )  # fmt: skip
    assert again.returncode == 1
    assert "already exists" in again.stderr and "Traceback" not in again.stderr
    short = staff(
        "add", "--username", "li", "--role", "agent", "--password-stdin", env=env, stdin="short\n"
    )
    assert short.returncode == 1 and "at least 8" in short.stderr
    bad_name = staff(
        "add", "--username", "a b", "--role", "agent", "--password-stdin", env=env,
        stdin="long-enough\n",
    )  # fmt: skip
    assert bad_name.returncode == 1 and "username" in bad_name.stderr
    bad_role = staff("add", "--username", "li", "--role", "boss", "--password-stdin", env=env)
    assert bad_role.returncode == 2 and "invalid choice" in bad_role.stderr
    no_stdin_flag = staff("add", "--username", "li", "--role", "agent", env=env, stdin="x\n")
    assert no_stdin_flag.returncode == 2 and "--password-stdin" in no_stdin_flag.stderr
    last_admin = staff("role", "--username", "boss", "--role", "agent", env=env)
    assert last_admin.returncode == 1 and "last active admin" in last_admin.stderr
    listing = staff("list", env=env)
    assert listing.stdout.count("\n") == 1  # only boss was created
