"""Staff accounts and failed logins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.staff import StaffRole, StaffUser
from bot.storage.models import StaffLoginFailure
from bot.storage.models import StaffUser as StaffRow


def _user(row: StaffRow) -> StaffUser:
    return StaffUser(
        id=row.id,
        username=row.username,
        role=StaffRole(row.role),
        display_name=row.display_name,
        active=row.active,
        telegram_user_id=row.telegram_user_id,
        created_at=row.created_at,
    )


class StaffRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        username: str,
        password_hash: str,
        role: StaffRole,
        display_name: str,
        now: datetime,
        telegram_user_id: int | None = None,
    ) -> StaffUser | None:
        """The new account, or None when the username (or Telegram id) is taken."""
        row = StaffRow(
            username=username,
            password_hash=password_hash,
            role=role.value,
            display_name=display_name,
            active=True,
            telegram_user_id=telegram_user_id,
            created_at=now,
            updated_at=now,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return None
        return _user(row)

    async def get(self, user_id: int) -> StaffUser | None:
        row = await self.session.get(StaffRow, user_id, populate_existing=True)
        return _user(row) if row else None

    async def by_username(self, username: str) -> StaffUser | None:
        row = (
            await self.session.execute(select(StaffRow).where(StaffRow.username == username))
        ).scalar_one_or_none()
        return _user(row) if row else None

    async def by_telegram_user(self, telegram_user_id: int) -> StaffUser | None:
        query = select(StaffRow).where(StaffRow.telegram_user_id == telegram_user_id)
        row = (await self.session.execute(query)).scalar_one_or_none()
        return _user(row) if row else None

    async def password_hash(self, username: str) -> tuple[StaffUser, str] | None:
        row = (
            await self.session.execute(select(StaffRow).where(StaffRow.username == username))
        ).scalar_one_or_none()
        return (_user(row), row.password_hash) if row else None

    async def list(self) -> list[StaffUser]:
        rows = await self.session.execute(select(StaffRow).order_by(StaffRow.username))
        return [_user(row) for row in rows.scalars()]

    async def update(self, user_id: int, now: datetime, **values: object) -> None:
        await self.session.execute(
            update(StaffRow)
            .where(StaffRow.id == user_id)
            .values(updated_at=now, **values)
            .execution_options(synchronize_session=False)
        )

    async def count_admins(self) -> int:
        query = select(func.count(StaffRow.id)).where(
            StaffRow.role == StaffRole.ADMIN.value, StaffRow.active.is_(True)
        )
        return int((await self.session.execute(query)).scalar_one())

    async def record_failure(self, username: str, address: str, now: datetime) -> None:
        self.session.add(StaffLoginFailure(username=username[:64], address=address[:64], at=now))
        await self.session.flush()

    async def failures_since(self, username: str, address: str, since: datetime) -> int:
        query = select(func.count(StaffLoginFailure.id)).where(
            StaffLoginFailure.username == username[:64],
            StaffLoginFailure.address == address[:64],
            StaffLoginFailure.at >= since,
        )
        return int((await self.session.execute(query)).scalar_one())

    async def forget_failures(self, username: str, address: str) -> None:
        await self.session.execute(
            delete(StaffLoginFailure).where(
                StaffLoginFailure.username == username[:64],
                StaffLoginFailure.address == address[:64],
            )
        )
