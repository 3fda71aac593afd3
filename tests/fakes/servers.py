"""Private PostgreSQL and Redis servers for the fault tests: stopped and started at will.

The machine's shared servers (127.0.0.1:5432 and :6379) serve every other test and agent, so a
test that kills its database must own it: here a cluster made by initdb in a temporary folder,
started with pg_ctl on a free loopback port, and a redis-server on another. Both are required
like the shared ones: a missing binary fails the test, it never skips.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg

#: Who runs PostgreSQL when the tests run as root (initdb refuses root).
POSTGRES_USER = "postgres"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _postgres_bin(name: str) -> str:
    """The server's own binaries (Debian's /usr/bin wrappers want a registered cluster)."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    path = str(found[-1]) if found else shutil.which(name)
    if path is None:
        raise AssertionError(f"{name} (PostgreSQL server binaries) is needed by the fault tests")
    return path


class PrivatePostgres:
    """One cluster of our own; `url(database)` for the bot, `stop()`/`start()` for the faults."""

    def __init__(self) -> None:
        self.port = free_port()
        # Not under pytest's tmp_path: its folders are private to root, the server runs as
        # `postgres` when we are root.
        self.root = Path(tempfile.mkdtemp(prefix="bot-fault-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_owner = os.geteuid() == 0
        if self._as_owner:
            shutil.chown(self.root, POSTGRES_USER)
        self._run(
            _postgres_bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c max_connections=100"
        )
        self._run(
            _postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Fast shutdown, as a restart by the operator or the container runtime does it:
        sessions are cut, open transactions rolled back."""
        self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    async def create_database(self, name: str) -> None:
        admin = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres")
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, *command: str) -> None:
        full = ["runuser", "-u", POSTGRES_USER, "--", *command] if self._as_owner else command
        result = subprocess.run(full, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise AssertionError(f"{command[0]} failed: {result.stdout}{result.stderr}")


class PrivateRedis:
    """A redis-server on a port of its own, nothing persisted; `stop()`/`start()` on one port."""

    def __init__(self) -> None:
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        """For SIGSTOP/SIGCONT: a server that hangs instead of going away."""
        if self._process is None:
            raise AssertionError("redis-server is not running")
        return self._process.pid

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no",
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port, within=10)

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None
