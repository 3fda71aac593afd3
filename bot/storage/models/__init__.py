"""Every table, imported here so `Base.metadata` is complete for Alembic and tests."""

from bot.storage.models.base import Base
from bot.storage.models.certificates import CertificateCase
from bot.storage.models.complaints import Complaint, Escalation, EscalationMessage
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
from bot.storage.models.staff import StaffLoginFailure, StaffUser
from bot.storage.models.surveys import Survey, SurveyAnswer, SurveyCampaign
from bot.storage.models.tickets import Ticket, TicketCounter, TicketEvent
from bot.storage.models.wechat import WeChatAccessToken

__all__ = [
    "AuditLog",
    "Base",
    "BindingAttempt",
    "Building",
    "CertificateCase",
    "ChannelAccount",
    "Complaint",
    "Conversation",
    "Escalation",
    "EscalationMessage",
    "InviteCode",
    "OutboxMessage",
    "Owner",
    "OwnerUnit",
    "ProcessedUpdate",
    "Project",
    "StaffLoginFailure",
    "StaffUser",
    "Survey",
    "SurveyAnswer",
    "SurveyCampaign",
    "Ticket",
    "TicketCounter",
    "TicketEvent",
    "Unit",
    "WeChatAccessToken",
]
