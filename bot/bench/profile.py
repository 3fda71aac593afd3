"""Where a bot process spends its CPU during a measured window, sampled by py-spy.

py-spy samples the running process from outside (no instrumentation, so the figures are not
inflated the way cProfile inflates them) and skips idle threads; the raw output is one line per
distinct stack, "frame;frame;…;leaf count". We fold it into the functions that were on the CPU
themselves (self) and the project's own functions that were on the stack (total).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SAMPLES_PER_SECOND = 250


@dataclass(frozen=True)
class Hotspots:
    samples: int
    own: list[tuple[str, int]]
    project: list[tuple[str, int]]

    def format(self, top: int = 15) -> str:
        lines = [f"{self.samples} samples on the CPU; self time, top {top}:"]
        lines += [f"  {count / self.samples:6.1%}  {frame}" for frame, count in self.own[:top]]
        lines.append(f"bot/ functions on the stack (total time), top {top}:")
        lines += [f"  {count / self.samples:6.1%}  {frame}" for frame, count in self.project[:top]]
        return "\n".join(lines)


@contextmanager
def sampling(pid: int, out: Path) -> Iterator[None]:
    """py-spy records `pid` while the block runs; raw stacks land in `out`."""
    beside_python = Path(sys.executable).parent / "py-spy"
    py_spy = str(beside_python) if beside_python.exists() else shutil.which("py-spy")
    if py_spy is None:
        raise RuntimeError(
            "py-spy is not installed (it is a dev dependency: make test installs it)"
        )
    recorder = subprocess.Popen(
        [
            *(py_spy, "record", "--pid", str(pid), "--rate", str(SAMPLES_PER_SECOND)),
            *("--format", "raw", "--function", "--output", str(out), "--nonblocking"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=60)


def hotspots(raw: Path) -> Hotspots:
    own: Counter[str] = Counter()
    project: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[_short(frames[-1])] += count
        for frame in {_short(f) for f in frames if _ours(f)}:
            project[frame] += count
    return Hotspots(total, own.most_common(), project.most_common())


def _ours(frame: str) -> bool:
    """A frame of bot/: py-spy names files by the path they were imported by, which is
    relative ("bot/…") when the process ran `python -m bot` from the project folder."""
    return "/bot/" in frame or " (bot/" in frame


def _short(frame: str) -> str:
    """ "name (file)" with the file's path cut to what names it (site-packages/…, bot/…)."""
    name, _, where = frame.partition(" (")
    for marker in ("site-packages/", "python3.11/"):
        if marker in where:
            return f"{name} ({where.split(marker, 1)[1]}"
    if "/bot/" in where:
        return f"{name} (bot/{where.split('/bot/', 1)[1]}"
    return frame
