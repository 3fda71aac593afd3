"""What every command group shares: building the runtime from the environment around a piece
of async work, and the argparse type the groups add their commands to."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.app import logs
from bot.settings import load_settings

if TYPE_CHECKING:
    from bot.app.bootstrap import Runtime

# argparse has no public name for the object add_subparsers() returns.
SubParsers = argparse._SubParsersAction


def run_async(work: Callable[[Runtime], Awaitable[int]], **runtime_options: Any) -> int:
    """Build the runtime from the environment, run `work` on it, always close it."""
    settings = load_settings()
    logs.configure(settings)

    from bot.app.bootstrap import build_runtime

    async def wrapped() -> int:
        runtime = build_runtime(settings, **runtime_options)
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    return asyncio.run(wrapped())


def run_migrated(work: Callable[[Runtime], Awaitable[int]], **runtime_options: Any) -> int:
    """`run_async` on an up-to-date schema: commands that touch data migrate first."""

    async def migrated(runtime: Runtime) -> int:
        await runtime.upgrade_database()
        return await work(runtime)

    return run_async(migrated, **runtime_options)
