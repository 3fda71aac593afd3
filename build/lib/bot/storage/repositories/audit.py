"""Who did what, for the staff's accountability ("事事有记录,事事有结果", 002)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import AuditLog


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self, *, actor: str, action: str, subject: str, at: datetime, **detail: Any
    ) -> None:
        self.session.add(
            AuditLog(at=at, actor=actor, action=action, subject=subject, detail=detail)
        )
