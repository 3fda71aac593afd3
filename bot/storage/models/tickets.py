"""Repair tickets, their event history, and the per-day counter behind ticket numbers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base


class Ticket(Base):
    """One repair report. Warranty, urgency and deadlines are decided at submission and stored,
    so a later rule change does not rewrite what the owner was told."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_unit_category", "unit_id", "category", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"))
    category: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(200))
    contact_time: Mapped[str] = mapped_column(String(200))
    photos: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), index=True)
    urgency: Mapped[str] = mapped_column(String(10))
    warranty_status: Mapped[str] = mapped_column(String(20))
    warranty_until: Mapped[date | None] = mapped_column(Date)
    warranty_reason: Mapped[str | None] = mapped_column(String(30))
    is_repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    respond_by: Mapped[datetime]
    visit_by: Mapped[datetime]
    resolve_by: Mapped[datetime]
    #: Who was sent, and when they will be there (set on dispatch).
    assignee: Mapped[str | None] = mapped_column(String(100))
    appointment_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TicketEvent(Base):
    """A status change or a comment, with who and when ("事事有记录", 002)."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    photos: Mapped[list[Any]] = mapped_column(default=list)
    at: Mapped[datetime]


class TicketCounter(Base):
    """Last ticket sequence used on a local day. Incremented with a row lock (PostgreSQL) or
    under SQLite's single writer, so two reports never get the same number."""

    __tablename__ = "ticket_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
