"""Every table, imported here so `Base.metadata` is complete for Alembic and tests."""

from bot.storage.models.base import Base
from bot.storage.models.core import (
    AuditLog,
    BindingAttempt,
    Building,
    ChannelAccount,
    Conversation,
    InviteCode,
    OutboxMessage,
    Owner,
    OwnerUnit,
    ProcessedUpdate,
    Project,
    Unit,
)

__all__ = [
    "AuditLog",
    "Base",
    "BindingAttempt",
    "Building",
    "ChannelAccount",
    "Conversation",
    "InviteCode",
    "OutboxMessage",
    "Owner",
    "OwnerUnit",
    "ProcessedUpdate",
    "Project",
    "Unit",
]
