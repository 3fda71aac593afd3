"""Unit of work: one transaction, the repositories that work inside it, explicit commit.

Leaving the `async with` block without `commit()` rolls everything back, so a failing step never
leaves half of its writes behind.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.repositories.accounts import AccountRepository, ConversationRepository
from bot.storage.repositories.audit import AuditRepository
from bot.storage.repositories.certificates import CertificateRepository
from bot.storage.repositories.complaints import ComplaintRepository, EscalationRepository
from bot.storage.repositories.inbox import InboxRepository
from bot.storage.repositories.outbox import OutboxRepository
from bot.storage.repositories.roster import RosterRepository
from bot.storage.repositories.staff import StaffRepository
from bot.storage.repositories.surveys import SurveyRepository
from bot.storage.repositories.tickets import TicketRepository
from bot.storage.repositories.wechat import WeChatTokenRepository

SessionFactory = async_sessionmaker[AsyncSession]


class UnitOfWork:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self.accounts = AccountRepository(self.session)
        self.conversations = ConversationRepository(self.session)
        self.inbox = InboxRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.roster = RosterRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.wechat_tokens = WeChatTokenRepository(self.session)
        self.tickets = TicketRepository(self.session)
        self.complaints = ComplaintRepository(self.session)
        self.escalations = EscalationRepository(self.session)
        self.certificates = CertificateRepository(self.session)
        self.staff = StaffRepository(self.session)
        self.surveys = SurveyRepository(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.session.rollback()
        await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()
