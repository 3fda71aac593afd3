"""The WeChat access_token kept in a database row, for deployments without Redis.

It is the database half of the channel's `TokenStore` (bot/channels/wechat/token.py): the same
lease-then-refresh protocol as the Redis store, one row per app id (`wechat_access_tokens`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.domain.access_token import LEASE_SECONDS, StoredToken
from bot.storage.uow import UnitOfWork


class DatabaseTokenStore:
    """Token and lease in one row (`wechat_access_tokens`), for deployments without Redis."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], app_id: str) -> None:
        self._uow_factory = uow_factory
        self._app_id = app_id

    async def load(self) -> StoredToken | None:
        async with self._uow_factory() as uow:
            return await uow.wechat_tokens.get(self._app_id)

    async def try_lease(self, owner: str, now: datetime) -> bool:
        until = now + timedelta(seconds=LEASE_SECONDS)
        async with self._uow_factory() as uow:
            won = await uow.wechat_tokens.try_lease(self._app_id, owner, now, until)
            await uow.commit()
        return won

    async def save(self, owner: str, token: StoredToken, now: datetime) -> None:
        async with self._uow_factory() as uow:
            await uow.wechat_tokens.save(self._app_id, owner, token, now)
            await uow.commit()

    async def release(self, owner: str) -> None:
        async with self._uow_factory() as uow:
            await uow.wechat_tokens.release(self._app_id, owner)
            await uow.commit()
