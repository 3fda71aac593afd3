"""The staff group as use cases: what a chat of staff (the Telegram forum supergroup, see
bot/channels/telegram/staff_group.py) may do, without knowing the platform.

- One topic per open escalation, titled with the home and the complaint or escalation number;
  the owner's texts and photos are shown in it as they come.
- A staff member's message in the topic is a reply to the owner (services/escalations.py
  `reply`, through the outbox, so it reaches Telegram and WeChat owners alike); `/claim`,
  `/close` and `/grade G1|G2|G3|一级|二级|三级 reason` act on the topic's escalation.
- Only linked staff accounts act (services/staff.py `staff_for_telegram_user`); anyone else is
  told how to get linked. Updates are recorded in the inbox like any other and completed in
  the transaction that acts on them, so a redelivered update acts once.
- Alerts (services/alerts.py) are posted once, in the escalation's topic when it has one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.domain.alerts import StaffAlert
from bot.domain.complaints import (
    ComplaintError,
    ComplaintGrade,
    EscalationError,
    EscalationListing,
    MessageAuthor,
)
from bot.domain.media import MediaError
from bot.domain.rules import CompanyRules
from bot.domain.staff import StaffRole, StaffUser
from bot.engine.types import IncomingMessage, MessageKind
from bot.i18n import Texts
from bot.media import MediaStore
from bot.services import escalations
from bot.services.complaints import set_complaint_grade
from bot.services.staff import staff_for_telegram_user
from bot.storage.uow import UnitOfWork

#: The inbox channel of staff-group updates (kept apart from the owners' "telegram").
CHANNEL = "telegram_staff"
#: How long one instance may work on a topic before another may take over.
LEASE = timedelta(minutes=2)
#: Grade words staff may type: the codes and the domain's names (000 第六条).
GRADE_WORDS = {
    "g1": ComplaintGrade.G1,
    "一级": ComplaintGrade.G1,
    "g2": ComplaintGrade.G2,
    "二级": ComplaintGrade.G2,
    "g3": ComplaintGrade.G3,
    "三级": ComplaintGrade.G3,
}
#: Staff-group texts are in the company's first language.
LANG = "zh"


@dataclass(frozen=True)
class OwnerPost:
    """One owner message to show in a topic."""

    message_id: int
    text: str
    photo: str | None


@dataclass(frozen=True)
class TopicWork:
    """What a topic needs now: creating (with `title`, when `thread_id` is None) and the owner
    messages not shown yet."""

    escalation_id: int
    thread_id: int | None
    title: str
    posts: list[OwnerPost]


@dataclass(frozen=True)
class AlertPost:
    alert: StaffAlert
    thread_id: int | None
    text: str


class StaffDesk:
    """The port the staff-group channel calls; every write goes through services."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        rules: CompanyRules,
        texts: Texts,
        media: MediaStore,
        clock: Callable[[], datetime],
        tz: ZoneInfo,
    ) -> None:
        self._uow_factory = uow_factory
        self._rules = rules
        self._texts = texts
        self._media = media
        self._clock = clock
        self._tz = tz

    def t(self, key: str, **values: object) -> str:
        return self._texts.get(f"staff_group.{key}", LANG, **values)

    # -- staff acting in the group ---------------------------------------------------------

    async def act(self, chat_id: int, msg: IncomingMessage, photo: bytes | None) -> str | None:
        """Handle one recorded staff-group update once; the answer to post in the topic (None:
        nothing to say, or handled before). `msg.payload` is the topic's thread id."""
        photo_path = self._saved(photo)
        async with self._uow_factory() as uow:
            now = self._clock()
            if not await uow.inbox.complete(CHANNEL, msg.update_key, [], now):
                return None
            answer = await self._act(uow, chat_id, msg, photo_path, now)
            await uow.commit()
            return answer

    async def ignore(self, msg: IncomingMessage) -> None:
        """Mark an update handled without acting on it (its sender may not act)."""
        async with self._uow_factory() as uow:
            await uow.inbox.complete(CHANNEL, msg.update_key, [], self._clock())
            await uow.commit()

    def _saved(self, photo: bytes | None) -> str | None:
        if photo is None:
            return None
        try:
            return self._media.save_image(photo)
        except MediaError:
            return None

    async def pending(self) -> list[IncomingMessage]:
        """Staff-group updates recorded but never handled (a crash or restart in between)."""
        async with self._uow_factory() as uow:
            entries = await uow.inbox.pending(CHANNEL)
        return [IncomingMessage.from_dict(entry.payload) for entry in entries]

    async def _act(
        self,
        uow: UnitOfWork,
        chat_id: int,
        msg: IncomingMessage,
        photo_path: str | None,
        now: datetime,
    ) -> str | None:
        staff = await staff_for_telegram_user(uow, int(msg.user_id))
        command, _ = _command_of(msg.text)
        if staff is None:
            if msg.kind is MessageKind.TEXT and not command.startswith("/") and not msg.payload:
                return None  # chatter in the General topic
            return self.t("not_linked", user_id=msg.user_id)
        escalation_id = (
            await uow.staff_group.escalation_in_thread(chat_id, int(msg.payload))
            if msg.payload
            else None
        )
        if escalation_id is None:
            return self.t("no_topic") if command.startswith("/") else None
        try:
            return await self._command(uow, escalation_id, staff, msg.text, photo_path, now)
        except (EscalationError, ComplaintError) as error:
            return self.t("refused", reason=self.t(f"reason_{error.reason}"))

    async def _command(
        self,
        uow: UnitOfWork,
        escalation_id: int,
        staff: StaffUser,
        text: str,
        photo_path: str | None,
        now: datetime,
    ) -> str | None:
        """A command, else the text (as written) and photo are a reply to the owner."""
        command, rest = _command_of(text)
        texts = self._texts
        if command == "/claim":
            await escalations.claim(uow, texts, escalation_id, staff, now)
            return self.t("claimed", name=staff.display_name)
        if command == "/close":
            await escalations.close(uow, texts, escalation_id, staff, now)
            return self.t("closed", name=staff.display_name)
        if command == "/grade":
            return await self._grade(uow, escalation_id, staff, rest, now)
        if command.startswith("/"):
            return self.t("help")
        await escalations.reply(uow, texts, escalation_id, staff, text, now, photo_path)
        return None

    async def _grade(
        self, uow: UnitOfWork, escalation_id: int, staff: StaffUser, rest: str, now: datetime
    ) -> str:
        """客服部 grade with a reason; like the API, supervisors and admins only."""
        if not staff.role.allows(StaffRole.SUPERVISOR):
            return self.t("grade_needs_supervisor")
        word, _, reason = rest.strip().partition(" ")
        grade = GRADE_WORDS.get(word.casefold())
        escalation = await uow.escalations.get(escalation_id)
        if grade is None or escalation is None or escalation.complaint_id is None:
            return self.t("grade_usage")
        await set_complaint_grade(
            uow, self._rules, escalation.complaint_id, grade, reason, staff, now, self._tz
        )
        return self.t("graded", grade=self.t(f"grade_{grade.value}"), reason=reason.strip())

    # -- what the group shows ----------------------------------------------------------------

    async def topics_to_work(self, chat_id: int) -> list[TopicWork]:
        """Topics to create and owner messages to show, leased to this caller: call `shown`
        (or `created`) as each step succeeds, and `release` at the end."""
        async with self._uow_factory() as uow:
            now = self._clock()
            await uow.staff_group.add_missing_topics(chat_id, now)
            topics = await uow.staff_group.claim_topics(chat_id, now, LEASE)
            await uow.commit()
            work = []
            for topic in topics:
                [listing] = await uow.escalations.listing(escalation_id=topic.escalation_id)
                messages = await uow.escalations.messages(
                    topic.escalation_id, after_id=topic.shown_up_to, with_notes=False
                )
                posts = [
                    OwnerPost(m.id, m.text, m.photo_path)
                    for m in messages
                    if m.author_kind is MessageAuthor.OWNER
                ]
                if topic.thread_id is None or posts:
                    title = await self._title(uow, listing) if topic.thread_id is None else ""
                    work.append(TopicWork(topic.escalation_id, topic.thread_id, title, posts))
                else:
                    await uow.staff_group.release_topic(topic.escalation_id)
            await uow.commit()
            return work

    async def created(self, escalation_id: int, thread_id: int) -> None:
        async with self._uow_factory() as uow:
            await uow.staff_group.topic_created(escalation_id, thread_id)
            await uow.commit()

    async def shown(self, escalation_id: int, message_id: int) -> None:
        async with self._uow_factory() as uow:
            await uow.staff_group.topic_shown(escalation_id, message_id)
            await uow.commit()

    async def release(self, escalation_id: int) -> None:
        async with self._uow_factory() as uow:
            await uow.staff_group.release_topic(escalation_id)
            await uow.commit()

    def photo_file(self, relative: str) -> Path:
        return self._media.path_of(relative)

    async def _title(self, uow: UnitOfWork, listing: EscalationListing) -> str:
        """「1栋-1-0101 · TS-12 · 张伟」: the home, the complaint (or escalation) number, who."""
        escalation = listing.escalation
        home = ""
        if escalation.owner_id is not None:
            homes = await uow.roster.homes_of_owner(escalation.owner_id)
            complaint = (
                await uow.complaints.get(escalation.complaint_id)
                if escalation.complaint_id
                else None
            )
            unit_id = complaint.details.unit_id if complaint else None
            chosen = [h for h in homes if h.unit_id == unit_id] or homes
            home = chosen[0].label if chosen else ""
        number = (
            f"TS-{escalation.complaint_id}"
            if escalation.complaint_id
            else self.t(f"number_{escalation.reason.value}", id=escalation.id)
        )
        parts = [part for part in (home, number, listing.owner_name) if part]
        return " · ".join(parts)[:128]  # Telegram's limit for a topic name

    # -- alerts --------------------------------------------------------------------------------

    async def alerts_to_post(self) -> list[AlertPost]:
        """Unposted alerts, each won by this caller alone (marked posted before it is sent:
        an alert is never posted twice; a failed send is logged by the channel)."""
        async with self._uow_factory() as uow:
            now = self._clock()
            posts = []
            members = await uow.staff.list()
            for alert in await uow.staff_group.alerts(unposted=True):
                if not await uow.staff_group.mark_posted(alert.id, now):
                    continue
                topic = await uow.staff_group.topic_of(alert.escalation_id)
                role = self._rules.alerts.roles[alert.audience]
                names = "、".join(
                    m.display_name for m in members if m.active and m.role.allows(role)
                )
                [listing] = await uow.escalations.listing(escalation_id=alert.escalation_id)
                text = self.t(
                    f"alert_{alert.kind.value}",
                    title=await self._title(uow, listing),
                    due=listing.escalation.due_at.astimezone(self._tz).strftime("%m-%d %H:%M"),
                    audience=self.t(f"audience_{alert.audience.value}"),
                    names=names or self.t("nobody"),
                )
                posts.append(AlertPost(alert, topic.thread_id if topic else None, text))
            await uow.commit()
            return posts


def _command_of(text: str) -> tuple[str, str]:
    """(`/claim`, rest) of `/Claim@OwnerServiceBot rest`; ("", text) when it is no command."""
    text = text.strip()
    if not text.startswith("/"):
        return "", text
    command, _, rest = text.partition(" ")
    return command.partition("@")[0].casefold(), rest
