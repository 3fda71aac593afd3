"""What the fault tests share: a `python -m bot run` process whose output goes to a file (a pipe
nobody reads would fill during a long outage and block the bot's logging), and counting the
replies each owner got from the fake Bot API."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.settings import PROJECT_ROOT
from bot.testing.fake_telegram import TOKEN, FakeTelegram, text_update
from tests.e2e.processes import base_env, wait_until_healthy


def polling_env(tmp_path: Path, fake: FakeTelegram, **overrides: str) -> dict[str, str]:
    """A bot polling the fake Bot API, with the dependency under test in `overrides`."""
    return base_env(
        tmp_path, TELEGRAM_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake.base_url, **overrides
    )


@contextmanager
def bot_process(env: dict[str, str], log: Path, *args: str) -> Iterator[subprocess.Popen[str]]:
    """`python -m bot run`, healthy; stopped with SIGTERM at the end (its exit checked)."""
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", *args],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_until_healthy(env, process)
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
    assert process.returncode == 0, log.read_text()


def ask_menu(fake: FakeTelegram, users: Iterable[int]) -> None:
    for user_id in users:
        fake.push_update(text_update(user_id, "菜单"))


def wait_for_replies(fake: FakeTelegram, users: Iterable[int], count: int, within: float) -> None:
    """Until every user got at least `count` messages; then a moment more, so a duplicate
    sent late would be counted too."""
    users = list(users)
    deadline = time.monotonic() + within
    while any(len(fake.sent_to(user_id)) < count for user_id in users):
        if time.monotonic() > deadline:
            got = {user_id: len(fake.sent_to(user_id)) for user_id in users}
            raise AssertionError(f"not every owner was answered in time: {got}")
        time.sleep(0.1)
    time.sleep(2.0)


def messages_per_menu(fake: FakeTelegram, users: Iterable[int]) -> int:
    """Ask for the menu from fresh owners while all is well: how many messages one answer
    takes (the same for each of them, or the test is wrong already)."""
    users = list(users)
    ask_menu(fake, users)
    wait_for_replies(fake, users, 1, within=60)
    counts = set(replies_per_user(fake, users).values())
    assert len(counts) == 1, counts
    return counts.pop()


def replies_per_user(fake: FakeTelegram, users: Iterable[int]) -> dict[int, int]:
    return {user_id: len(fake.sent_to(user_id)) for user_id in users}
