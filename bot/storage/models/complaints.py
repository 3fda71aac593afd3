"""Complaints, and the escalations that put a person into a conversation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base


class Complaint(Base):
    """An owner's complaint with the bot's provisional grade; staff set the real one."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"))
    description: Mapped[str] = mapped_column(Text)
    topic: Mapped[str] = mapped_column(String(40))
    households: Mapped[int] = mapped_column(Integer)
    photos: Mapped[list[Any]] = mapped_column(default=list)
    provisional_grade: Mapped[str] = mapped_column(String(2))
    grade_reasons: Mapped[list[Any]] = mapped_column(default=list)
    #: Set by staff (客服部) when they grade it; None until then.
    grade: Mapped[str | None] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(20))
    #: The 督办令 is due by then ("受理投诉后1小时内", 000).
    order_due: Mapped[datetime]
    resolve_due: Mapped[datetime]
    created_at: Mapped[datetime]


class Escalation(Base):
    """A conversation waiting for (or taken by) a person: a complaint, or "人工" asked for."""

    __tablename__ = "escalations"
    __table_args__ = (Index("ix_escalations_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"))
    reason: Mapped[str] = mapped_column(String(30))
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    status: Mapped[str] = mapped_column(String(10))
    #: The staff member who took it (首问责任制: they own it until it closes).
    assigned_to: Mapped[str | None] = mapped_column(String(100))
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    #: When a person took it (the owner was told who answers); None while waiting.
    claimed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    #: "staff:<login>" or "owner", whoever ended it.
    closed_by: Mapped[str | None] = mapped_column(String(100))
    #: The owner's answer to the short question after closing (satisfied/neutral/dissatisfied).
    satisfaction: Mapped[str | None] = mapped_column(String(12))


class EscalationMessage(Base):
    """What was said while an escalation was open, for the staff to read and answer."""

    __tablename__ = "escalation_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    #: owner, staff or bot.
    author_kind: Mapped[str] = mapped_column(String(10))
    #: The staff login for staff messages and notes; empty otherwise.
    author: Mapped[str] = mapped_column(String(100))
    #: A staff note: never relayed to the owner.
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text, default="")
    photo_path: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime]
