"""A bare python-telegram-bot echo bot, written the way PTB's examples write one.

It is the baseline `python -m bot bench telegram` measures our adapter against, on the same fake
Bot API in the same run; it lives with the channel because it is the one other place that speaks
PTB. `tuned` gives it what our adapter has (concurrent updates, TCP_NODELAY), as a fair rival.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

#: Bot API calls are small request/response pairs; without TCP_NODELAY, Nagle's algorithm and
#: delayed ACKs add up to 40 ms to each (measured against the fake on loopback).
NO_DELAY = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)


PtbApp = Application[Any, Any, Any, Any, Any, Any]


def run_echo_bot(
    token: str, api_base_url: str, *, tuned: bool, drive: Callable[[], Awaitable[None]]
) -> None:
    """Poll and echo until `drive` (run inside the bot's loop) returns; blocks until then."""

    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message is not None and update.effective_message.text:
            await update.effective_message.reply_text(update.effective_message.text)

    async def drive_then_stop(app: PtbApp) -> None:
        await drive()
        app.stop_running()

    async def post_init(app: PtbApp) -> None:
        asyncio.get_running_loop().create_task(drive_then_stop(app))

    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api_base_url}/bot")
        .base_file_url(f"{api_base_url}/file/bot")
        .post_init(post_init)
    )
    if tuned:
        builder = (
            builder.concurrent_updates(True)
            .request(HTTPXRequest(socket_options=NO_DELAY))
            .get_updates_request(HTTPXRequest(socket_options=NO_DELAY))
        )
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    # run_polling closes the loop it ran in; each bot gets a fresh one.
    asyncio.set_event_loop(asyncio.new_event_loop())
    app.run_polling(stop_signals=None)


def serve_forever(token: str, api_base_url: str, *, tuned: bool) -> None:
    """The echo bot in a process of its own, until that process is stopped (the benchmark
    measures its CPU time apart from the load generator's)."""

    async def never() -> None:
        await asyncio.Event().wait()

    run_echo_bot(token, api_base_url, tuned=tuned, drive=never)
