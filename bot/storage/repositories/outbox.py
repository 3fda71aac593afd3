"""The outbox: every message the bot sends outside a passive reply, delivered from its row.

Replies to owners and pushes alike: a row is written in the transaction that decides the
message, claimed by one worker under a short lease it renews while sending, and closed with
the outcome (the platform's message ids, or why it was given up).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnClause,
    Executable,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.delivery import REPLY, is_urgent
from bot.storage.models import ChannelAccount, OutboxMessage
from bot.storage.repositories.inbox import COMPLETE, INBOX, Completion, InboxRepository
from bot.storage.sql import dialect_of, insert_ignoring, insert_unless_exists, table_of

OUTBOX = table_of(OutboxMessage)
ACCOUNTS = table_of(ChannelAccount)
PENDING = "pending"
RETRYING = "retrying"
SENT = "sent"
#: Given up: retrying cannot help or the attempts ran out; `last_error` says why.
DEAD = "dead"
#: The account is gone (blocked the bot, unsubscribed): nothing is sent to it any more.
DROPPED = "dropped"
OPEN = (PENDING, RETRYING)
#: The open states written into the SQL: an IN of parameters is rendered again at every
#: execution (SQLAlchemy's expanding parameters), and the reply of every update runs one.
OPEN_SQL: tuple[ColumnClause[Any], ...] = tuple(literal_column(f"'{state}'") for state in OPEN)
#: Columns of `status_counts`, in the order `outbox status` prints them.
STATES = ("due", "scheduled", "in_flight", RETRYING, SENT, DEAD, DROPPED)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    account_id: int
    channel: str
    user_id: str
    last_inbound_at: datetime | None
    #: The owner's language, for the channel's own wording around the message.
    language: str
    purpose: str
    replies: list[Any]
    attempts: int
    #: Ids of messages an earlier attempt delivered (the replies left are what is still due).
    message_ids: list[str]


@dataclass(frozen=True)
class QueuedReply:
    #: None when the reply's key was queued before (`id_of` finds its row).
    id: int | None
    #: Claimed for the worker given (`add_reply`'s `claim`).
    claimed: bool


@dataclass(frozen=True)
class OutboxPage:
    """A pushed message as its web page shows it."""

    replies: list[Any]
    language: str
    created_at: datetime


@dataclass(frozen=True)
class StatusCount:
    channel: str
    purpose: str
    state: str
    count: int


@dataclass(frozen=True)
class DeadMessage:
    id: int
    channel: str
    purpose: str
    status: str
    reason: str
    created_at: datetime


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        account_id: int,
        purpose: str,
        idempotency_key: str,
        replies: list[Any],
        due_at: datetime,
        now: datetime,
    ) -> bool:
        """Queue a message; False when the same idempotency key was queued before. Whether it
        waits out quiet hours follows from its purpose (bot.domain.delivery)."""
        return await insert_unless_exists(
            self.session,
            OutboxMessage,
            {
                "account_id": account_id,
                "purpose": purpose,
                "idempotency_key": idempotency_key,
                "replies": replies,
                "due_at": due_at,
                "status": PENDING,
                "urgent": is_urgent(purpose),
                "attempts": 0,
                "created_at": now,
            },
        )

    async def add_reply(
        self,
        *,
        account_id: int,
        idempotency_key: str,
        due_at: datetime,
        completing: Completion,
        claim: tuple[str, datetime] | None = None,
    ) -> QueuedReply | None:
        """Complete the update a reply answers (`completing`: its replies, its time) and queue
        the reply. None when another process completed the update first: nothing is written
        and the caller rolls back. With `claim` (worker, lease end) the row is taken by that
        worker at once, as `claim_due` would take it, so its sender needs no claim round trip
        — unless an earlier message of the account is still open (due, being sent,
        retrying): then it waits its turn like any row.

        PostgreSQL does both in one statement (a data-modifying WITH): every update pays
        this, and a round trip there costs about as much CPU as the statement. SQLite, in
        process, runs two."""
        values: dict[str, Any] = {
            "account_id": account_id,
            "purpose": REPLY,
            "idempotency_key": idempotency_key,
            "replies": completing.replies,
            "due_at": due_at,
            "status": PENDING,
            "urgent": is_urgent(REPLY),
            "created_at": completing.now,
        }
        if claim is None:
            values["attempts"] = 0
        else:
            worker, until = claim
            values.update(
                claim_account=account_id, claim_now=completing.now, worker=worker, until=until
            )
        dialect = dialect_of(self.session)
        if dialect == "postgresql":
            values.update(completing.parameters())  # the inbox's status replaces the row's
            statement = _completing_insert(claiming=claim is not None)
            result = (await self.session.execute(statement, values)).one()
            if not result.completed:
                return None
            return QueuedReply(result.id, claimed=result.claimed_by is not None)
        if not await InboxRepository(self.session).complete_with(completing):
            return None
        if claim is None:
            statement = insert_ignoring(dialect, OutboxMessage, ("id", "claimed_by"))
        else:
            statement = _claiming_insert(dialect)
        row = (await self.session.execute(statement, values)).first()
        if row is None:
            return QueuedReply(None, claimed=False)
        return QueuedReply(row.id, claimed=row.claimed_by is not None)

    async def id_of(self, idempotency_key: str) -> int | None:
        query = select(OUTBOX.c.id).where(OUTBOX.c.idempotency_key == idempotency_key)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def defer_quiet(self, now: datetime, until: datetime) -> int:
        """Quiet hours: non-urgent rows falling due before `until` wait until then (so they
        hold back no later message of the same chat meanwhile)."""
        result = await self.session.execute(
            update(OUTBOX)
            .where(
                OUTBOX.c.status.in_(OPEN_SQL),
                OUTBOX.c.urgent.is_(False),
                OUTBOX.c.due_at < until,
                or_(OUTBOX.c.claimed_until.is_(None), OUTBOX.c.claimed_until < now),
            )
            .values(due_at=until)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def claim_due(
        self,
        now: datetime,
        limit: int,
        lease: timedelta,
        *,
        worker: str = "",
        urgent_only: bool = False,
    ) -> list[OutboxItem]:
        """Take due rows for this worker, disjoint from every other worker's.

        One UPDATE whose subquery picks the rows: SQLite runs it under its single write lock,
        PostgreSQL skips rows another worker has locked (`SKIP LOCKED`). The lease
        (`claimed_until`) lets a later claim take over the rows of a worker that crashed. A
        row waits while an earlier row of the same account is open and due, being sent or
        retrying, so one chat's messages never overtake each other.
        """
        conditions = [
            OUTBOX.c.status.in_(OPEN_SQL),
            OUTBOX.c.due_at <= now,
            or_(OUTBOX.c.claimed_until.is_(None), OUTBOX.c.claimed_until < now),
            ~_earlier_open(now),
        ]
        if urgent_only:
            conditions.append(OUTBOX.c.urgent.is_(True))
        due = (
            select(OUTBOX.c.id)
            .where(*conditions)
            .order_by(OUTBOX.c.due_at, OUTBOX.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(due.scalar_subquery()))
            .values(claimed_until=now + lease, claimed_by=worker, attempts=OUTBOX.c.attempts + 1)
            .returning(
                OUTBOX.c.id,
                OUTBOX.c.account_id,
                OUTBOX.c.purpose,
                OUTBOX.c.replies,
                OUTBOX.c.attempts,
                OUTBOX.c.message_ids,
            )
        )
        claimed = sorted((await self.session.execute(claim)).all())
        accounts = await self._recipients({row.account_id for row in claimed})
        return [
            OutboxItem(
                id=row.id,
                account_id=row.account_id,
                channel=accounts[row.account_id].channel,
                user_id=accounts[row.account_id].platform_user_id,
                last_inbound_at=accounts[row.account_id].last_inbound_at,
                language=accounts[row.account_id].language,
                purpose=row.purpose,
                replies=row.replies,
                attempts=row.attempts,
                message_ids=list(row.message_ids or []),
            )
            for row in claimed
        ]

    async def renew(self, item_ids: Sequence[int], worker: str, until: datetime) -> None:
        """Extend this worker's lease on the rows it is still sending (a row whose outcome
        was written meanwhile keeps it: a sent row must not look claimed again)."""
        if item_ids:
            await self.session.execute(
                update(OUTBOX)
                .where(
                    OUTBOX.c.id.in_(item_ids),
                    OUTBOX.c.claimed_by == worker,
                    OUTBOX.c.status.in_(OPEN_SQL),  # not one whose outcome was written meanwhile
                )
                .values(claimed_until=until)
            )

    async def _recipients(self, account_ids: set[int]) -> dict[int, Any]:
        if not account_ids:
            return {}
        query = select(
            ACCOUNTS.c.id,
            ACCOUNTS.c.channel,
            ACCOUNTS.c.platform_user_id,
            ACCOUNTS.c.language,
            ACCOUNTS.c.last_inbound_at,
        ).where(ACCOUNTS.c.id.in_(account_ids))
        return {row.id: row for row in (await self.session.execute(query)).all()}

    async def page(self, message_id: int) -> OutboxPage | None:
        query = (
            select(OutboxMessage, ChannelAccount.language)
            .join(ChannelAccount, ChannelAccount.id == OutboxMessage.account_id)
            .where(OutboxMessage.id == message_id)
        )
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        message, language = row
        return OutboxPage(message.replies, language, message.created_at)

    async def mark_sent(self, sent: Sequence[tuple[int, datetime, list[str]]]) -> None:
        """Close rows delivered: (id, when, the platform's message ids), in one executemany."""
        if sent:
            rows = [{"match_id": i, "sent": at, "ids": ids} for i, at, ids in sent]
            await self.session.execute(MARK_SENT, rows)

    async def mark_answered_passively(self, item_id: int, now: datetime) -> None:
        """The reply went back in the platform's HTTP response (WeChat): nothing left to send."""
        await self.session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == item_id, OUTBOX.c.status == PENDING, OUTBOX.c.attempts == 0)
            .values(status=SENT, sent_at=now)
        )

    async def release(self, item_id: int, now: datetime) -> None:
        """A held reply goes out now (it could not go passively)."""
        await self.session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == item_id, OUTBOX.c.status == PENDING, OUTBOX.c.attempts == 0)
            .values(due_at=now)
        )

    async def retry_later(
        self,
        item_id: int,
        due_at: datetime,
        error: str,
        *,
        replies: list[Any],
        message_ids: list[str],
    ) -> None:
        """Try again at `due_at` with the replies not delivered yet."""
        await self._set(
            item_id,
            status=RETRYING,
            due_at=due_at,
            last_error=error[:500],
            replies=replies,
            message_ids=message_ids,
            claimed_until=None,
        )

    async def give_up(self, item_id: int, error: str, *, dropped: bool = False) -> None:
        status = DROPPED if dropped else DEAD
        await self._set(item_id, status=status, last_error=error[:500], claimed_until=None)

    async def status_counts(self, now: datetime) -> list[StatusCount]:
        """How many rows are in each state, per channel and purpose (`outbox status`)."""
        state = case(
            (
                and_(OUTBOX.c.status.in_(OPEN_SQL), OUTBOX.c.claimed_until >= now),
                "in_flight",
            ),
            (and_(OUTBOX.c.status == PENDING, OUTBOX.c.due_at <= now), "due"),
            (OUTBOX.c.status == PENDING, "scheduled"),
            else_=OUTBOX.c.status,
        ).label("state")
        query = (
            select(ACCOUNTS.c.channel, OUTBOX.c.purpose, state, func.count())
            .join(ACCOUNTS, ACCOUNTS.c.id == OUTBOX.c.account_id)
            .group_by(ACCOUNTS.c.channel, OUTBOX.c.purpose, state)
            .order_by(ACCOUNTS.c.channel, OUTBOX.c.purpose)
        )
        rows = (await self.session.execute(query)).all()
        return [StatusCount(row[0], row[1], row[2], row[3]) for row in rows]

    async def given_up(self, limit: int = 50) -> list[DeadMessage]:
        """The latest dead and dropped rows with their reasons, for staff."""
        query = (
            select(
                OUTBOX.c.id,
                ACCOUNTS.c.channel,
                OUTBOX.c.purpose,
                OUTBOX.c.status,
                OUTBOX.c.last_error,
                OUTBOX.c.created_at,
            )
            .join(ACCOUNTS, ACCOUNTS.c.id == OUTBOX.c.account_id)
            .where(OUTBOX.c.status.in_((DEAD, DROPPED)))
            .order_by(OUTBOX.c.id.desc())
            .limit(limit)
        )
        return [
            DeadMessage(row[0], row[1], row[2], row[3], row[4] or "", row[5])
            for row in (await self.session.execute(query)).all()
        ]

    async def _set(self, item_id: int, **values: Any) -> None:
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == item_id).values(**values)
        )


#: Built once: an alias copies every column, which showed in the profile of each claim.
EARLIER = OUTBOX.alias("earlier")


def _earlier_open(now: datetime) -> Any:
    """An earlier row of the same account that must go first: due, being sent, or retrying."""
    earlier = EARLIER
    return exists().where(
        earlier.c.account_id == OUTBOX.c.account_id,
        earlier.c.id < OUTBOX.c.id,
        *_open_before(earlier, now),
    )


def _open_before(rows: Any, now: Any) -> list[Any]:
    """A row that goes before any later one of its account: due, being sent, or retrying."""
    return [
        rows.c.status.in_(OPEN_SQL),
        or_(rows.c.due_at <= now, rows.c.status == RETRYING, rows.c.claimed_until >= now),
    ]


#: Built once: runs for every reply sent.
MARK_SENT = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("match_id"))
    .values(
        status=SENT,
        sent_at=bindparam("sent", type_=OUTBOX.c.sent_at.type),
        message_ids=bindparam("ids", type_=OUTBOX.c.message_ids.type),
        claimed_until=None,
    )
)


def _claim_values() -> dict[str, Any]:
    """A new row claimed (`worker`, `until`, one attempt) unless an earlier row of its
    account is open: then unclaimed, like any row that waits its turn."""
    earlier = EARLIER
    now = bindparam("claim_now", type_=OUTBOX.c.due_at.type)
    busy = exists().where(
        earlier.c.account_id == bindparam("claim_account", type_=OUTBOX.c.account_id.type),
        *_open_before(earlier, now),
    )
    worker = bindparam("worker", type_=OUTBOX.c.claimed_by.type)
    until = bindparam("until", type_=OUTBOX.c.claimed_until.type)
    return {
        "claimed_by": case((busy, None), else_=worker),
        "claimed_until": case((busy, None), else_=until),
        "attempts": case((busy, 0), else_=1),
    }


@functools.cache
def _claiming_insert(dialect: str) -> Executable:
    """Built once per backend: a reply's row, claimed unless an earlier row of its account is
    open (`_claim_values`); RETURNING tells which."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(OUTBOX)
        .values(**_claim_values())
        .on_conflict_do_nothing()
        .returning(OUTBOX.c.id, OUTBOX.c.claimed_by)
    )


@functools.cache
def _completing_insert(*, claiming: bool) -> Executable:
    """Built once (PostgreSQL): COMPLETE the inbox update and, only if that took it, insert
    the reply's row from the same parameters as `add_reply`'s two statements on SQLite. One
    row: whether the update was completed, the new row's id and claimer (NULL when its key
    was queued before)."""
    completed = (
        COMPLETE.values(
            status=bindparam("status", type_=INBOX.c.status.type),
            replies=bindparam("replies", type_=INBOX.c.replies.type),
            handled_at=bindparam("handled_at", type_=INBOX.c.handled_at.type),
            failure=bindparam("failure", type_=INBOX.c.failure.type),
        )
        .returning(INBOX.c.id)
        .cte("completed")
    )
    claimed = (
        _claim_values()
        if claiming
        else {"claimed_by": null(), "claimed_until": null(), "attempts": literal(0)}
    )
    columns = {
        "account_id": bindparam("account_id", type_=OUTBOX.c.account_id.type),
        "purpose": literal(REPLY, OUTBOX.c.purpose.type),
        "idempotency_key": bindparam("idempotency_key", type_=OUTBOX.c.idempotency_key.type),
        "replies": bindparam("replies", type_=OUTBOX.c.replies.type),
        "due_at": bindparam("due_at", type_=OUTBOX.c.due_at.type),
        "status": literal(PENDING, OUTBOX.c.status.type),
        "urgent": literal(is_urgent(REPLY)),
        "created_at": bindparam("created_at", type_=OUTBOX.c.created_at.type),
        **claimed,
    }
    queued = (
        postgresql.insert(OUTBOX)
        .from_select(list(columns), select(*columns.values()).select_from(completed))
        .on_conflict_do_nothing()
        .returning(OUTBOX.c.id, OUTBOX.c.claimed_by)
        .cte("queued")
    )
    return select(
        select(completed.c.id).exists().label("completed"),
        select(queued.c.id).scalar_subquery().label("id"),
        select(queued.c.claimed_by).scalar_subquery().label("claimed_by"),
    )
