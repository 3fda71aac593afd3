"""Every conversation flow, one module each. The order matters only for the last entry:
the FAQ is the fallback for text no other flow claims."""

from __future__ import annotations

from bot.engine.flow import Flow
from bot.handlers.bind import BindFlow, UnbindFlow, UnsubscribeFlow
from bot.handlers.certificate import CertificateFlow
from bot.handlers.clarify import ClarifyFlow
from bot.handlers.complaint import ComplaintFlow
from bot.handlers.emergency import EmergencyFlow
from bot.handlers.faq import FaqFlow
from bot.handlers.handoff import HandoffFlow
from bot.handlers.language import LanguageFlow
from bot.handlers.menu import CancelFlow, HelpFlow, MenuFlow
from bot.handlers.repair import RepairFlow
from bot.handlers.smalltalk import SmalltalkFlow
from bot.handlers.survey import SurveyFlow
from bot.handlers.tickets import TicketsFlow


def all_flows() -> list[Flow]:
    return [
        CancelFlow(),
        MenuFlow(),
        HelpFlow(),
        LanguageFlow(),
        BindFlow(),
        UnbindFlow(),
        UnsubscribeFlow(),
        RepairFlow(),
        TicketsFlow(),
        CertificateFlow(),
        ComplaintFlow(),
        SurveyFlow(),
        HandoffFlow(),
        EmergencyFlow(),
        SmalltalkFlow(),
        ClarifyFlow(),
        FaqFlow(),
    ]
