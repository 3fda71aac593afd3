"""Receiving Telegram updates with persist-before-acknowledge.

Polling: PTB's stock `run_polling` fetches the next batch while the last one still waits in
memory, and the next getUpdates offset is what tells Telegram to forget a batch — so a `kill -9`
loses everything fetched but unhandled. `Poller` instead records every update of a batch in
the inbox first (in one transaction) and only then asks with the higher offset. Handling
happens afterwards in `ChatQueue`: one chat's updates in order, different chats concurrently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from telegram import Bot, Update
from telegram.error import Conflict, NetworkError, RetryAfter

from bot.channels.telegram.pacing import Sleep
from bot.channels.telegram.sender import retry_after_seconds
from bot.engine.ports import EngineUnavailable

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
#: Seconds a getUpdates call waits on Telegram's side for new updates.
LONG_POLL_SECONDS = 25
#: Stop fetching while this many recorded updates wait for handling; they are safe in the
#: inbox, this only keeps memory bounded under a flood.
MAX_BACKLOG = 1000
MAX_BACKOFF = 30.0

Job = Callable[[], Awaitable[None]]
Accept = Callable[[Update], Awaitable[None]]
AcceptPage = Callable[[Sequence[Update]], Awaitable[None]]


class ChatQueue:
    """Runs jobs in arrival order per chat, chats concurrently, at most `limit` at a time.

    Each chat's job waits for the chat's previous job, so ordering does not depend on lock
    fairness; a job waiting for its turn holds no concurrency slot.
    """

    def __init__(self, limit: int = 32) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._room = asyncio.Event()

    def submit(self, chat: str, job: Job) -> None:
        task = asyncio.create_task(self._run(self._tails.get(chat), job))
        self._tails[chat] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._forget(chat, done))

    async def wait_for_room(self, limit: int) -> None:
        while len(self._tasks) >= limit:
            self._room.clear()
            await self._room.wait()

    async def drain(self, grace: float) -> None:
        """Let running jobs finish (stop); what is left after `grace` seconds stays pending."""
        if not self._tasks:
            return
        _, late = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in late:
            task.cancel()
        if late:
            log.warning(
                "%d updates left for the next start (still pending in the inbox)", len(late)
            )
            await asyncio.wait(late)

    async def _run(self, previous: asyncio.Task[None] | None, job: Job) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        async with self._slots:
            try:
                await job()
            except Exception:
                log.exception("handling a Telegram update failed")

    def _forget(self, chat: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._tails.get(chat) is task:
            del self._tails[chat]
        self._room.set()


class Poller:
    """getUpdates in a loop; `accept_page` records a fetched page of updates (raising
    EngineUnavailable when the database is down) and queues their handling."""

    def __init__(self, bot: Bot, accept_page: AcceptPage, queue: ChatQueue, sleep: Sleep) -> None:
        self._bot = bot
        self._accept_page = accept_page
        self._queue = queue
        self._sleep = sleep

    async def run(self) -> None:
        offset: int | None = None
        failures = 0
        while True:
            await self._queue.wait_for_room(MAX_BACKLOG)
            try:
                updates = await self._bot.get_updates(
                    offset=offset, timeout=LONG_POLL_SECONDS, allowed_updates=ALLOWED_UPDATES
                )
                await self._accept_page(updates)
            except (NetworkError, RetryAfter, Conflict, EngineUnavailable) as exc:
                failures += 1
                await self._back_off(exc, failures)
                continue
            failures = 0
            if updates:
                # Asking with this offset is what makes Telegram forget the batch: only now,
                # with every update of it in the inbox.
                offset = updates[-1].update_id + 1

    async def _back_off(self, exc: Exception, failures: int) -> None:
        if isinstance(exc, RetryAfter):
            wait = retry_after_seconds(exc)
        else:
            wait = min(MAX_BACKOFF, 0.5 * 2 ** min(failures, 6))
        log.warning("polling paused %.1f s: %s", wait, exc)
        await self._sleep(wait)
