"""Delivers outbox rows through the channel adapters, continuously and concurrently.

The rows are the truth. A worker claims due rows (disjoint between workers and processes: one
`FOR UPDATE SKIP LOCKED` statement on PostgreSQL, SQLite's write lock), keeps up to
`max_in_flight` of them being sent at once (the channel's pacer spaces them to the platform's
limits), renews a short lease on them while they are in flight, and records each outcome with
the platform's message ids. A `kill -9` leaves at most the rows in flight claimed, and only
until their lease runs out seconds later; those few may then go out twice, nothing is lost.

A reply the engine decides while the worker runs is claimed for it in the same transaction and
handed over (`lease_now`, `deliver`): it leaves without a claim round trip. Any other new reply
wakes the worker at once (`wake`); otherwise it looks every
SCHEDULER_TICK_SECONDS, woken by the APScheduler job `serve` registers. Quiet hours hold back
non-urgent rows (bot.domain.delivery).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Generic, TypeVar

from bot.domain.delivery import REPLY, QuietHours, quiet_until
from bot.engine.ports import ChannelGateway, DeliveryError, Push
from bot.engine.types import Reply
from bot.storage.errors import DatabaseError
from bot.storage.repositories.outbox import OutboxItem
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

#: Short, so a restart after a crash picks up the rows that were in flight within seconds …
LEASE = timedelta(seconds=10)
#: … and renewed this often while a row is being sent (a send may wait for the pacer).
RENEW_EVERY_SECONDS = 3.0
MAX_IN_FLIGHT = 64
MAX_ATTEMPTS = 6
#: The platform said when to come back (429, quota): honoured this many times before dead.
MAX_THROTTLED_ATTEMPTS = 50
#: How long `stop` lets rows in flight finish; the rest are taken over after their lease.
STOP_GRACE_SECONDS = 5.0
#: Between two looks at a database that is down.
DATABASE_BACKOFF_SECONDS = 5.0


#: A row delivered: its id, when, and the platform's message ids.
Sent = tuple[int, datetime, list[str]]
E = TypeVar("E")


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


class OutboxWorker:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        gateways: Mapping[str, ChannelGateway],
        clock: Callable[[], datetime],
        link_for: Callable[[int], str],
        *,
        quiet: QuietHours | None = None,
        timezone: tzinfo = UTC,
        max_in_flight: int = MAX_IN_FLIGHT,
        lease: timedelta = LEASE,
    ) -> None:
        """`link_for(message_id)` is the signed page showing the whole message."""
        self._uow_factory = uow_factory
        self._gateways = gateways
        self._clock = clock
        self._link_for = link_for
        self._quiet = quiet
        self._tz = timezone
        self._max_in_flight = max_in_flight
        self._lease = lease
        self.worker_id = uuid.uuid4().hex[:16]
        self._in_flight: dict[int, asyncio.Task[bool]] = {}
        self._wake = asyncio.Event()
        self._wakes = 0
        #: A claim was put off until more rows in flight are done (`_claim_and_start`).
        self._waiting_for_room = False
        self._loop_task: asyncio.Task[None] | None = None
        self._sent = GroupWrite[Sent](
            lambda rows: self._record(lambda uow: uow.outbox.mark_sent(rows))
        )

    # -- running --------------------------------------------------------------------------

    def wake(self) -> None:
        """Something may be due now (a reply was queued); call from the worker's event loop."""
        self._wakes += 1
        self._wake.set()

    def lease_now(self, now: datetime) -> tuple[str, datetime] | None:
        """For the engine (`DirectDelivery`): a lease to claim a new reply's row with, while
        this worker runs (renewing leases, recording outcomes) and has room — and no claim is
        waiting for room: rows already queued go first, or a steady stream of new replies
        taking every freed place would keep them waiting."""
        if (
            self._loop_task is None
            or self._waiting_for_room
            or len(self._in_flight) >= self._max_in_flight
        ):
            return None
        return self.worker_id, now + self._lease

    def deliver(self, item: OutboxItem, until: datetime) -> None:
        """Send a row claimed with `lease_now`, as if this worker had claimed it — unless the
        commit took so long that the lease may run out before its first renewal: then the row
        is left to a claim once the lease is over, so it is never sent twice."""
        if until - self._clock() < self._lease / 2:
            log.warning("outbox %s: lease nearly spent at commit; sent after it", item.id)
            return
        self._start(item, wakes=self._wakes)

    async def tick(self) -> None:
        """The scheduled job: rows may have fallen due by time. A coroutine, so APScheduler
        runs it in the event loop (a plain function would run in a thread)."""
        self.wake()

    async def start(self) -> None:
        self._loop_task = asyncio.create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
            self._loop_task = None
        if self._in_flight:
            _, late = await asyncio.wait(set(self._in_flight.values()), timeout=STOP_GRACE_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def run_once(self) -> int:
        """Deliver everything due now and wait for it; returns how many rows were sent
        (tests, the demo)."""
        tasks: list[asyncio.Task[bool]] = []
        while True:
            started = await self._claim_and_start()
            if not started:
                break
            tasks += started
            await asyncio.gather(*started)
        return sum(task.result() for task in tasks)

    async def _run(self) -> None:
        renewer = asyncio.create_task(self._renew_leases())
        down = False  # one warning per outage and one line at recovery, not one per retry
        try:
            while True:
                self._wake.clear()
                try:
                    started = await self._claim_and_start()
                except (DatabaseError, OSError) as exc:
                    if not down:
                        log.warning(
                            "outbox paused: the database (DATABASE_URL) is unreachable (%s); "
                            "retrying quietly until it is back",
                            type(exc).__name__,
                        )
                    down = True
                    await asyncio.sleep(DATABASE_BACKOFF_SECONDS)
                    continue
                if down:
                    log.info("outbox resumed: the database is reachable again")
                    down = False
                if started and len(self._in_flight) < self._max_in_flight:
                    continue  # more may be due
                await self._wake.wait()
        finally:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)

    async def _claim_and_start(self) -> list[asyncio.Task[bool]]:
        """Claim while a batch fits: with rows in flight, a claim waits for a quarter of
        `max_in_flight` to be free. Under a backlog the worker is full and a row finishes
        every few milliseconds; claiming each time room for one opened cost a claim
        statement per row (a tenth of the CPU of an update on SQLite)."""
        room = self._max_in_flight - len(self._in_flight)
        self._waiting_for_room = room <= 0 or (
            bool(self._in_flight) and room < max(1, self._max_in_flight // 4)
        )
        if self._waiting_for_room:
            return []
        now = self._clock()
        async with self._uow_factory() as uow:
            until = quiet_until(now, self._quiet, self._tz)
            if until is not None:
                await uow.outbox.defer_quiet(now, until)
            items = await uow.outbox.claim_due(
                now, room, self._lease, worker=self.worker_id, urgent_only=until is not None
            )
            await uow.commit()
        return [self._start(item) for item in items]

    def _start(self, item: OutboxItem, wakes: int | None = None) -> asyncio.Task[bool]:
        """`wakes`: for a row sent at once (`deliver`), `wake`'s count when it started. Only
        if something was queued for the worker since then, or a claim was put off for room,
        can a row wait behind this one; if not, its end needs no claim (a row due by time
        waits for the next tick)."""
        task = asyncio.create_task(self._deliver(item))
        self._in_flight[item.id] = task

        def done(_: asyncio.Task[bool]) -> None:
            self._in_flight.pop(item.id, None)
            if wakes is None or wakes != self._wakes or self._waiting_for_room:
                self._wake.set()  # room again, and the chat's next row may go now

        task.add_done_callback(done)
        return task

    async def _renew_leases(self) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY_SECONDS)
            if not self._in_flight:
                continue
            try:
                async with self._uow_factory() as uow:
                    until = self._clock() + self._lease
                    await uow.outbox.renew(list(self._in_flight), self.worker_id, until)
                    await uow.commit()
            except (DatabaseError, OSError) as exc:
                log.warning("outbox: lease not renewed: %s", exc)

    # -- one row ----------------------------------------------------------------------------

    async def _deliver(self, item: OutboxItem) -> bool:
        gateway = self._gateways.get(item.channel)
        if gateway is None:
            await self._record_failure(item, DeliveryError(f"channel {item.channel} not running"))
            return False
        try:
            replies = [Reply.from_dict(r) for r in item.replies]
            push = None if item.purpose == REPLY else self._push(item, replies)
            message_ids = await gateway.send(item.user_id, replies, lang=item.language, push=push)
        except DeliveryError as exc:
            await self._record_failure(item, exc)
            return False
        except Exception as exc:  # a bug in a channel must not stop delivery of other rows
            log.exception("outbox %s: sending failed", item.id)
            await self._record_failure(item, DeliveryError(f"error: {exc!r}"))
            return False
        await self._sent.add((item.id, self._clock(), [*item.message_ids, *message_ids]))
        return True

    def _push(self, item: OutboxItem, replies: list[Reply]) -> Push:
        """A message the bot starts; a template message leads to the page the message names
        (a survey's own page), else to the page showing the whole message."""
        own_page = next((reply.link for reply in replies if reply.link), None)
        return Push(
            purpose=item.purpose,
            last_inbound_at=item.last_inbound_at,
            link_url=own_page or self._link_for(item.id),
        )

    async def _record_failure(self, item: OutboxItem, error: DeliveryError) -> None:
        log.warning("outbox %s to %s failed: %s", item.id, item.channel, error.reason)
        delivered = error.delivered
        left = item.replies[delivered.replies :]
        ids = [*item.message_ids, *delivered.message_ids]

        async def write(uow: UnitOfWork) -> None:
            if error.permanent:
                await uow.outbox.give_up(item.id, error.reason, dropped=True)
                await uow.accounts.deactivate(item.account_id)
            elif _exhausted(item.attempts, error):
                await uow.outbox.give_up(item.id, error.reason)
            else:
                await uow.outbox.retry_later(
                    item.id,
                    self._clock() + _wait(item.attempts, error),
                    error.reason,
                    replies=left,
                    message_ids=ids,
                )

        await self._record(write)

    async def _record(self, write: Callable[[UnitOfWork], Awaitable[None]]) -> None:
        """Write an outcome; while the database is down the row stays leased and is sent
        again after the lease (a duplicate is better than a loss)."""
        for attempt in range(3):
            try:
                async with self._uow_factory() as uow:
                    await write(uow)
                    await uow.commit()
                return
            except (DatabaseError, OSError) as exc:
                log.warning("outbox outcome not recorded (attempt %d): %s", attempt + 1, exc)
                await asyncio.sleep(0.5 * 2**attempt)


class GroupWrite(Generic[E]):
    """Entries written together: while one batch is being written the next one gathers, so a
    burst of outcomes costs a few commits instead of one each. `add` returns once its entry's
    batch was written (or given up by `write`)."""

    def __init__(self, write: Callable[[list[E]], Awaitable[None]]) -> None:
        self._write = write
        self._waiting: list[tuple[E, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def add(self, entry: E) -> None:
        written = asyncio.get_running_loop().create_future()
        self._waiting.append((entry, written))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_all())
        await asyncio.shield(written)

    async def _write_all(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    await self._write([entry for entry, _ in batch])
                finally:
                    for _, written in batch:
                        written.set_result(None)
        finally:
            self._writer = None


def _exhausted(attempts: int, error: DeliveryError) -> bool:
    limit = MAX_THROTTLED_ATTEMPTS if error.retry_after else MAX_ATTEMPTS
    return attempts >= limit


def _wait(attempts: int, error: DeliveryError) -> timedelta:
    if error.retry_after:
        return timedelta(seconds=error.retry_after)
    return backoff(attempts)
