"""The Telegram staff group's topics and the alerts staff get (deadline watcher)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base


class StaffTopic(Base):
    """The forum topic of one escalation in the staff group; created once, whoever runs it."""

    __tablename__ = "staff_topics"

    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    #: Telegram's message_thread_id; None until the topic is created.
    thread_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    #: The last escalation message shown in the topic.
    shown_up_to: Mapped[int] = mapped_column(Integer, default=0)
    #: While an instance works on the topic, others leave it alone (a crash frees it later).
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]


class StaffAlert(Base):
    """One alert to staff, raised once per escalation and kind (the unique key makes the
    watcher idempotent across instances and restarts)."""

    __tablename__ = "staff_alerts"
    __table_args__ = (UniqueConstraint("escalation_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    #: overdue, complaint_g1 or emergency.
    kind: Mapped[str] = mapped_column(String(20))
    #: supervisor, management or on_duty: who must act (rules.yaml staff_alerts).
    audience: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    #: When it was posted in the staff group; None while no group is set up or not yet sent.
    posted_at: Mapped[datetime | None]
