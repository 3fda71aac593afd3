"""Unit of work: one transaction, the repositories that work inside it, explicit commit.

Leaving the `async with` block without `commit()` rolls everything back, so a failing step never
leaves half of its writes behind.
"""

from __future__ import annotations

from functools import cached_property
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
from bot.storage.repositories.staff_group import StaffGroupRepository
from bot.storage.repositories.surveys import SurveyRepository
from bot.storage.repositories.tickets import TicketRepository
from bot.storage.repositories.wechat import WeChatTokenRepository

SessionFactory = async_sessionmaker[AsyncSession]


class UnitOfWork:
    """The repositories are made when first used: a transaction uses two or three of them,
    and the engine opens one per update."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
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

    @cached_property
    def accounts(self) -> AccountRepository:
        return AccountRepository(self.session)

    @cached_property
    def conversations(self) -> ConversationRepository:
        return ConversationRepository(self.session)

    @cached_property
    def inbox(self) -> InboxRepository:
        return InboxRepository(self.session)

    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self.session)

    @cached_property
    def roster(self) -> RosterRepository:
        return RosterRepository(self.session)

    @cached_property
    def audit(self) -> AuditRepository:
        return AuditRepository(self.session)

    @cached_property
    def wechat_tokens(self) -> WeChatTokenRepository:
        return WeChatTokenRepository(self.session)

    @cached_property
    def tickets(self) -> TicketRepository:
        return TicketRepository(self.session)

    @cached_property
    def complaints(self) -> ComplaintRepository:
        return ComplaintRepository(self.session)

    @cached_property
    def escalations(self) -> EscalationRepository:
        return EscalationRepository(self.session)

    @cached_property
    def certificates(self) -> CertificateRepository:
        return CertificateRepository(self.session)

    @cached_property
    def staff(self) -> StaffRepository:
        return StaffRepository(self.session)

    @cached_property
    def surveys(self) -> SurveyRepository:
        return SurveyRepository(self.session)

    @cached_property
    def staff_group(self) -> StaffGroupRepository:
        return StaffGroupRepository(self.session)
