"""The shared WeChat access_token row and the lease that serialises its refresh."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access_token import StoredToken
from bot.storage.models.wechat import WeChatAccessToken


class WeChatTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, app_id: str) -> StoredToken | None:
        query = select(WeChatAccessToken.access_token, WeChatAccessToken.expires_at).where(
            WeChatAccessToken.app_id == app_id
        )
        row = (await self.session.execute(query)).first()
        if row is None or row.access_token is None or row.expires_at is None:
            return None
        return StoredToken(row.access_token, row.expires_at)

    async def try_lease(self, app_id: str, owner: str, now: datetime, until: datetime) -> bool:
        """Claim the refresh; False while another process holds an unexpired claim.

        A conditional UPDATE is atomic on SQLite and PostgreSQL alike, so two processes can
        never both win, and nobody waits on a lock while the winner talks to WeChat.
        """
        await self._ensure_row(app_id)
        result = await self.session.execute(
            update(WeChatAccessToken)
            .where(
                WeChatAccessToken.app_id == app_id,
                or_(WeChatAccessToken.lease_until.is_(None), WeChatAccessToken.lease_until < now),
            )
            .values(lease_owner=owner, lease_until=until)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def save(self, app_id: str, owner: str, token: StoredToken, now: datetime) -> None:
        """Store a fresh token and end the claim."""
        await self.session.execute(
            update(WeChatAccessToken)
            .where(WeChatAccessToken.app_id == app_id)
            .values(
                access_token=token.token,
                expires_at=token.expires_at,
                refreshed_at=now,
                lease_owner=None,
                lease_until=None,
            )
        )

    async def release(self, app_id: str, owner: str) -> None:
        """Give up a claim after a failed fetch, so the next caller may try at once."""
        await self.session.execute(
            update(WeChatAccessToken)
            .where(WeChatAccessToken.app_id == app_id, WeChatAccessToken.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )

    async def _ensure_row(self, app_id: str) -> None:
        if await self.session.get(WeChatAccessToken, app_id) is not None:
            return
        try:
            async with self.session.begin_nested():
                self.session.add(WeChatAccessToken(app_id=app_id))
        except IntegrityError:
            pass  # another process created it first: the UPDATE below decides
