"""Foundation tables: the roster (projects, buildings, units, owners), channel accounts,
binding codes, conversation state, the inbox of platform updates, the outbox and the audit log."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.storage.models.base import Base


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class Building(Base):
    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    name: Mapped[str] = mapped_column(String(50))

    project: Mapped[Project] = relationship()


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("building_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"))
    number: Mapped[str] = mapped_column(String(50))
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    handover_date: Mapped[date | None] = mapped_column(Date)

    building: Mapped[Building] = relationship()


class Owner(Base):
    """An owner as the CRM knows them. Only the last 4 ID characters are kept (minimal data)."""

    __tablename__ = "owners"
    __table_args__ = (UniqueConstraint("phone", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    id_last4: Mapped[str] = mapped_column(String(4))


class OwnerUnit(Base):
    __tablename__ = "owner_units"
    __table_args__ = (UniqueConstraint("owner_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)

    owner: Mapped[Owner] = relationship()
    unit: Mapped[Unit] = relationship()


class ChannelAccount(Base):
    """One platform identity (a Telegram user, a WeChat openid) and the owner it is bound to."""

    __tablename__ = "channel_accounts"
    __table_args__ = (UniqueConstraint("channel", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"), index=True)
    language: Mapped[str] = mapped_column(String(5))
    language_chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    display_name: Mapped[str | None] = mapped_column(String(100))
    last_inbound_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class InviteCode(Base):
    """A one-time code printed for one owner-unit; binding consumes it."""

    __tablename__ = "invite_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("owner_units.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("channel_accounts.id"))


class BindingAttempt(Base):
    """A failed binding attempt, counted to stop code and ID guessing."""

    __tablename__ = "binding_attempts"
    __table_args__ = (
        Index("ix_binding_attempts_account_time", "account_id", "attempted_at"),
        Index("ix_binding_attempts_target_time", "target", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"))
    attempted_at: Mapped[datetime]
    #: Keyed HMAC of the phone whose ID digits were guessed (never the phone itself), so
    #: guesses from many accounts at one owner are counted together.
    target: Mapped[str | None] = mapped_column(String(64))


class Conversation(Base):
    """Where one account is in a flow. `version` is the optimistic lock."""

    __tablename__ = "conversations"

    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"), primary_key=True)
    flow: Mapped[str | None] = mapped_column(String(40))
    step: Mapped[str | None] = mapped_column(String(40))
    flow_version: Mapped[int] = mapped_column(Integer, default=1)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Buttons last offered, so "1"/"2" typed in WeChat or the console maps back to them.
    offered: Mapped[list[Any]] = mapped_column(default=list)
    #: Drafts of flows the owner left for another one: {flow: {"step", "data", "at"}}.
    paused: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]


class ProcessedUpdate(Base):
    """The inbox: every platform update, recorded before it is acknowledged.

    Unique on (channel, update_key), so it is also the dedupe record; `replies` keeps the first
    answer so a retried WeChat message gets exactly the same reply. An update that could not be
    handled is `failed`, with the reason in `failure` (a class name, never the owner's input).
    """

    __tablename__ = "processed_updates"
    __table_args__ = (
        UniqueConstraint("channel", "update_key"),
        Index("ix_processed_updates_pending", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    update_key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(10), default="pending")
    replies: Mapped[list[Any] | None]
    received_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]
    failure: Mapped[str | None] = mapped_column(String(200))


class OutboxMessage(Base):
    """A message the bot starts (ticket update, survey, staff reply): delivered by the worker."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(30))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    replies: Mapped[list[Any]]
    due_at: Mapped[datetime]
    #: pending, retrying, sent, dead (gave up: `last_error` says why) or dropped (the account
    #: is gone: blocked the bot, unsubscribed).
    status: Mapped[str] = mapped_column(String(10), default="pending")
    #: Goes out even in quiet hours (a reply, a staff reply, an emergency).
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: The lease: the worker sending the row renews it while it sends.
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    #: The platform's ids of the messages delivered so far.
    message_ids: Mapped[list[Any] | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
