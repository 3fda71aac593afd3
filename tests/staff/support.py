"""Helpers for the staff-side tests: accounts, and what the outbox holds for a chat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.app.bootstrap import Runtime
from bot.domain.staff import StaffRole, StaffUser
from bot.services.staff import NewStaff, create_staff
from bot.storage.models import ChannelAccount, OutboxMessage
from tests.support import Chat

PASSWORD = "correct-horse"


async def make_staff(
    runtime: Runtime, username: str, role: StaffRole, display_name: str = ""
) -> StaffUser:
    async with runtime.uow() as uow:
        user = await create_staff(
            uow, NewStaff(username, PASSWORD, role, display_name), "test", runtime.services.clock()
        )
        await uow.commit()
    return user


async def pushes(runtime: Runtime, chat: Chat) -> list[dict[str, Any]]:
    """Every reply queued for this chat, oldest first, with the row's purpose."""
    async with runtime.uow() as uow:
        rows = await uow.session.execute(
            select(OutboxMessage.purpose, OutboxMessage.replies)
            .join(ChannelAccount, ChannelAccount.id == OutboxMessage.account_id)
            .where(
                ChannelAccount.channel == chat.channel,
                ChannelAccount.platform_user_id == chat.user_id,
            )
            .order_by(OutboxMessage.id)
        )
        return [{**reply, "purpose": purpose} for purpose, replies in rows for reply in replies]


def at(value: datetime) -> str:
    return value.isoformat()
