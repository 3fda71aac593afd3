"""Property-certificate (产权证) cases, one per unit, kept up to date by staff imports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base


class CertificateCase(Base):
    __tablename__ = "certificate_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), unique=True)
    mortgage: Mapped[bool] = mapped_column(Boolean, default=False)
    stage: Mapped[str] = mapped_column(String(40))
    stage_date: Mapped[date] = mapped_column(Date)
    eta: Mapped[date | None] = mapped_column(Date)
    #: Checklist item ids the owner still has to bring or pay.
    outstanding: Mapped[list[Any]] = mapped_column(default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]
