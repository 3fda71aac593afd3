"""The WeChat access_token shared by every process when there is no Redis.

WeChat issues one token per app and invalidates the previous one a few minutes after a new one
is fetched, so processes must share it rather than each fetching their own. The lease columns
let exactly one process refresh it at a time without holding a transaction over the HTTP call.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base


class WeChatAccessToken(Base):
    __tablename__ = "wechat_access_tokens"

    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_token: Mapped[str | None] = mapped_column(String(512))
    expires_at: Mapped[datetime | None]
    #: Who is refreshing it, and until when that claim holds (a crashed refresher's lapses).
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    refreshed_at: Mapped[datetime | None]
