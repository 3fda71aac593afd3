"""Channel accounts and their conversation state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.conversation import ConversationState, StaleConversation
from bot.domain.roster import Account
from bot.storage.models import ChannelAccount, Conversation
from bot.storage.sql import insert_unless_exists, table_of

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


def _account(row: ChannelAccount) -> Account:
    return Account(
        id=row.id,
        channel=row.channel,
        user_id=row.platform_user_id,
        owner_id=row.owner_id,
        language=row.language,
        active=row.active,
        last_inbound_at=row.last_inbound_at,
    )


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, account_id: int) -> Account | None:
        row = await self.session.get(ChannelAccount, account_id)
        return _account(row) if row else None

    async def find(self, channel: str, user_id: str) -> Account | None:
        row = await self._row(channel, user_id)
        return _account(row) if row else None

    async def _row(self, channel: str, user_id: str) -> ChannelAccount | None:
        query = select(ChannelAccount).where(
            ChannelAccount.channel == channel, ChannelAccount.platform_user_id == user_id
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def touch(
        self,
        channel: str,
        user_id: str,
        *,
        language: str,
        now: datetime,
        display_name: str | None = None,
    ) -> Account:
        """The account behind an inbound message, created on first contact; records the time
        of the owner's last message (WeChat's 48-hour window counts from it).

        One UPDATE … RETURNING for a known account: this runs for every message.
        """
        values: dict[str, object] = {"last_inbound_at": now, "active": True}
        if display_name:
            values["display_name"] = display_name
        statement = (
            update(ACCOUNTS)
            .where(ACCOUNTS.c.channel == channel, ACCOUNTS.c.platform_user_id == user_id)
            .values(
                **values,
                language=case(
                    (ACCOUNTS.c.language_chosen.is_(True), ACCOUNTS.c.language), else_=language
                ),
            )
            .returning(*ACCOUNT_COLUMNS)
        )
        row = (await self.session.execute(statement)).first()
        if row is not None:
            return Account(*row)
        await insert_unless_exists(
            self.session,
            ChannelAccount,
            {
                "channel": channel,
                "platform_user_id": user_id,
                "language": language,
                "language_chosen": False,
                "display_name": display_name,
                "created_at": now,
                **values,
            },
        )
        created = await self._row(channel, user_id)
        assert created is not None
        return _account(created)

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
            select(ChannelAccount)
            .where(ChannelAccount.owner_id == owner_id, ChannelAccount.active.is_(True))
            .order_by(ChannelAccount.id)
        )
        return [_account(row) for row in (await self.session.execute(query)).scalars()]


class ConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def load(self, account_id: int) -> ConversationState:
        query = select(CONVERSATIONS).where(CONVERSATIONS.c.account_id == account_id)
        row = (await self.session.execute(query)).first()
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
            result = await self.session.execute(
                update(CONVERSATIONS)
                .where(
                    CONVERSATIONS.c.account_id == state.account_id,
                    CONVERSATIONS.c.version == state.version,
                )
                .values(**values)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise StaleConversation(state.account_id)
        state.version += 1
