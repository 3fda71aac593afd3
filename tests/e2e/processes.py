"""`python -m bot …` as real processes, for the tests of starting and stopping as deployed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bot.settings import PROJECT_ROOT

#: A secret as an operator would generate it (secrets.token_urlsafe()).
GOOD_SECRET = "q3J9vX2mT8pL5wR1nZ7cY4bH6kD0sF2gA9eU3iO5"


def base_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """No channel configured, a fresh SQLite file, and the overrides."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "MEDIA_DIR": str(tmp_path / "media"),
        "TELEGRAM_TOKEN": "",
        "WECHAT_APP_ID": "",
        "REDIS_URL": "",
        "ENVIRONMENT": "development",
        "BOT_PORT": str(free_port()),
    }
    env.update(overrides)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_bot(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_bot(*args: str, env: dict[str, str], log: Path | None = None) -> subprocess.Popen[str]:
    """Output to a pipe read at the end, or to `log` for a long run (a full pipe would block
    the process's logging, and with it its event loop)."""
    output = log.open("w") if log is not None else subprocess.PIPE
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    finally:
        if log is not None:
            output.close()  # type: ignore[union-attr]


def wait_until_healthy(
    env: dict[str, str], process: subprocess.Popen[str], timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("the server exited: " + (process.communicate()[0] or ""))
        try:
            httpx.get(f"http://127.0.0.1:{env['BOT_PORT']}/healthz", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"the server did not answer /healthz within {timeout:.0f} s")


def output_of_a_healthy_run(env: dict[str, str]) -> str:
    """Start `run`, wait for /healthz, stop with Ctrl-C; everything it printed."""
    process = start_bot("run", env=env)
    try:
        wait_until_healthy(env, process)
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=30)[0]
    return output
