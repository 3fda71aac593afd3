"""Channel accounts and their conversation state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.conversation import ConversationState, StaleConversation
from bot.domain.roster import Account
from bot.storage.models import ChannelAccount, Conversation
from bot.storage.sql import dialect_of, insert_ignoring, insert_unless_exists, table_of

ACCOUNTS = table_of(ChannelAccount)
CONVERSATIONS = table_of(Conversation)
#: The columns an `Account` is made of, in its field order.
ACCOUNT_COLUMNS = (
    ACCOUNTS.c.id,
    ACCOUNTS.c.channel,
    ACCOUNTS.c.platform_user_id,
    ACCOUNTS.c.owner_id,
    ACCOUNTS.c.language,
    ACCOUNTS.c.active,
    ACCOUNTS.c.last_inbound_at,
)
ACCOUNT_COLUMN_NAMES = tuple(column.name for column in ACCOUNT_COLUMNS)
# The statements below run for every message; built once, they skip SQLAlchemy's per-call
# construction and cache-key work (a third of the engine's time per update on SQLite).
TOUCH = (
    update(ACCOUNTS)
    .where(
        ACCOUNTS.c.channel == bindparam("match_channel"),
        ACCOUNTS.c.platform_user_id == bindparam("match_user"),
    )
    .values(
        last_inbound_at=bindparam("seen_at", type_=ACCOUNTS.c.last_inbound_at.type),
        active=True,
        display_name=func.coalesce(bindparam("seen_name"), ACCOUNTS.c.display_name),
        # The platform's language hint, unless the owner chose one with /lang.
        language=case(
            (ACCOUNTS.c.language_chosen.is_(True), ACCOUNTS.c.language),
            else_=bindparam("hint_language"),
        ),
    )
    .returning(*ACCOUNT_COLUMNS)
)
LOAD_CONVERSATION = select(CONVERSATIONS).where(
    CONVERSATIONS.c.account_id == bindparam("match_account")
)
SAVE_CONVERSATION = update(CONVERSATIONS).where(
    CONVERSATIONS.c.account_id == bindparam("match_account"),
    CONVERSATIONS.c.version == bindparam("match_version"),
)


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, channel: str, user_id: str) -> Account | None:
        """Read from the table, never the session's cache, so it sees this transaction's
        Core updates (touch, bind, set_language)."""
        query = select(*ACCOUNT_COLUMNS).where(
            ACCOUNTS.c.channel == channel, ACCOUNTS.c.platform_user_id == user_id
        )
        row = (await self.session.execute(query)).first()
        return Account(*row) if row else None

    async def get(self, account_id: int) -> Account | None:
        query = select(*ACCOUNT_COLUMNS).where(ACCOUNTS.c.id == account_id)
        row = (await self.session.execute(query)).first()
        return Account(*row) if row else None

    async def touch(
        self,
        channel: str,
        user_id: str,
        *,
        language: str,
        now: datetime,
        display_name: str | None = None,
    ) -> tuple[Account, bool]:
        """The account behind an inbound message, created on first contact (then True: it has
        no conversation to load yet); records the time of the owner's last message (WeChat's
        48-hour window counts from it).

        One UPDATE … RETURNING for a known account: this runs for every message; on first
        contact an INSERT … RETURNING follows.
        """
        parameters = {
            "match_channel": channel,
            "match_user": user_id,
            "seen_at": now,
            "hint_language": language,
            "seen_name": display_name,
        }
        row = (await self.session.execute(TOUCH, parameters)).first()
        if row is None:
            values = {
                "channel": channel,
                "platform_user_id": user_id,
                "language": language,
                "language_chosen": False,
                "display_name": display_name,
                "created_at": now,
                "last_inbound_at": now,
                "active": True,
            }
            statement = insert_ignoring(
                dialect_of(self.session), ChannelAccount, ACCOUNT_COLUMN_NAMES
            )
            row = (await self.session.execute(statement, values)).first()
            if row is not None:
                return Account(*row), True
            # created meanwhile by a concurrent first message of the same owner
            row = (await self.session.execute(TOUCH, parameters)).first()
        assert row is not None
        return Account(*row), False

    async def set_language(self, account_id: int, language: str) -> None:
        await self.session.execute(
            update(ChannelAccount)
            .where(ChannelAccount.id == account_id)
            .values(language=language, language_chosen=True)
        )

    async def bind(self, account_id: int, owner_id: int | None) -> None:
        await self.session.execute(
            update(ChannelAccount).where(ChannelAccount.id == account_id).values(owner_id=owner_id)
        )

    async def deactivate(self, account_id: int) -> None:
        await self.session.execute(
            update(ChannelAccount).where(ChannelAccount.id == account_id).values(active=False)
        )

    async def active_accounts_of_owner(self, owner_id: int) -> list[Account]:
        query = (
            select(*ACCOUNT_COLUMNS)
            .where(ACCOUNTS.c.owner_id == owner_id, ACCOUNTS.c.active.is_(True))
            .order_by(ACCOUNTS.c.id)
        )
        return [Account(*row) for row in (await self.session.execute(query)).all()]


class ConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def load(self, account_id: int) -> ConversationState:
        row = (await self.session.execute(LOAD_CONVERSATION, {"match_account": account_id})).first()
        if row is None:
            return ConversationState(account_id=account_id)
        return ConversationState(
            account_id=account_id,
            flow=row.flow,
            step=row.step,
            flow_version=row.flow_version,
            data=dict(row.data or {}),
            offered=list(row.offered or []),
            paused=dict(row.paused or {}),
            version=row.version,
            updated_at=row.updated_at,
        )

    async def save(self, state: ConversationState, now: datetime) -> None:
        """Write the state only if nobody else wrote since it was loaded (optimistic lock)."""
        values: dict[str, object] = {
            "flow": state.flow,
            "step": state.step,
            "flow_version": state.flow_version,
            "data": state.data,
            "offered": state.offered,
            "paused": state.paused,
            "version": state.version + 1,
            "updated_at": now,
        }
        if state.version == 0:
            values["account_id"] = state.account_id
            if not await insert_unless_exists(self.session, Conversation, values):
                raise StaleConversation(state.account_id)
        else:
            match = {"match_account": state.account_id, "match_version": state.version}
            result = await self.session.execute(SAVE_CONVERSATION, {**values, **match})
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise StaleConversation(state.account_id)
        state.version += 1
