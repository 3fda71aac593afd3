"""Satisfaction surveys and revisits: invitations, their answers, and staff campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base


class SurveyCampaign(Base):
    """Staff invited chosen buildings, e.g. after a storm ("恶劣天气后…须针对性回访一次", 000)."""

    __tablename__ = "survey_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    project: Mapped[str] = mapped_column(String(100))
    buildings: Mapped[list[Any]] = mapped_column(default=list)
    due_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class Survey(Base):
    """One invitation to one owner. `dedupe_key` makes it once per ticket, per owner-unit and
    revisit occasion, per campaign and owner-unit, whoever creates it and however often."""

    __tablename__ = "surveys"
    __table_args__ = (
        Index("ix_surveys_status_due", "status", "due_at"),
        #: The dashboard's newest low scores.
        Index("ix_surveys_low_score_answered", "low_score", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    occasion: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("survey_campaigns.id"))
    status: Mapped[str] = mapped_column(String(12))
    due_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    #: "chat" or "page": where the owner answered.
    answered_via: Mapped[str | None] = mapped_column(String(10))
    low_score: Mapped[bool] = mapped_column(Boolean, default=False)
    #: What a low score started: reopened the ticket or escalated to staff.
    follow_up: Mapped[str | None] = mapped_column(String(10))
    #: The escalation a low score handed the owner to (a new one, or the open one it joined).
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"))
    created_at: Mapped[datetime]


class SurveyAnswer(Base):
    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("survey_id", "question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    question: Mapped[str] = mapped_column(String(40))
    score: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
