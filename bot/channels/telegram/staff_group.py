"""The Telegram staff group: a forum supergroup (STAFF_TELEGRAM_CHAT_ID) where staff answer
owners. Everything Telegram-specific about it is here; what it does is in
bot/services/staff_group.py (`StaffDesk`).

In: a message in the group is recorded in the inbox like any other update (channel
`telegram_staff`), then handled once by the desk: a reply, `/claim`, `/close`, `/grade`. Its
sender must be a member of the chat right now (getChatMember) and a linked staff account.
Out (`run_once`, ticked by the scheduler): a forum topic per escalation (createForumTopic), the
owner's texts and photos posted in it, and the deadline watcher's alerts (in the escalation's
topic, else in General).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram import Bot, Message, Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from bot.channels.telegram.intake import ChatQueue
from bot.channels.telegram.mapping import split_text
from bot.engine.ports import EnginePort, MediaError
from bot.engine.types import IncomingMessage, MessageKind
from bot.services.staff_group import CHANNEL, StaffDesk, TopicWork

log = logging.getLogger(__name__)

#: Who may act: members now (a user who left or was removed may still have updates in flight).
MEMBERS = frozenset(
    {
        ChatMemberStatus.OWNER,
        ChatMemberStatus.ADMINISTRATOR,
        ChatMemberStatus.MEMBER,
        ChatMemberStatus.RESTRICTED,
    }
)
Fetch = Callable[[str, int], Awaitable[bytes]]


def staff_message(update: Update, chat_id: int) -> IncomingMessage | None:
    """The neutral message of a staff-group update (None for other chats, bots and service
    messages). `payload` is the forum topic's thread id ("" in General)."""
    message = update.message
    if message is None or message.chat.id != chat_id or message.from_user is None:
        return None
    if message.from_user.is_bot:
        return None
    thread = str(message.message_thread_id) if message.is_topic_message else ""
    if message.text is not None:
        return _incoming(update, message, MessageKind.TEXT, message.text, thread)
    if message.photo:
        largest = max(message.photo, key=lambda size: size.width * size.height)
        return _incoming(
            update, message, MessageKind.PHOTO, message.caption or "", thread, largest.file_id
        )
    return None


def _incoming(
    update: Update,
    message: Message,
    kind: MessageKind,
    text: str,
    thread: str,
    media_ref: str | None = None,
) -> IncomingMessage:
    sender = message.from_user
    assert sender is not None
    return IncomingMessage(
        channel=CHANNEL,
        user_id=str(sender.id),
        update_key=str(update.update_id),
        kind=kind,
        text=text,
        payload=thread,
        media_ref=media_ref,
        display_name=sender.full_name,
        received_at=message.date,
    )


class StaffGroup:
    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        desk: StaffDesk,
        engine: EnginePort,
        queue: ChatQueue,
        fetch: Fetch,
        max_photo_bytes: int,
    ) -> None:
        self._bot = bot
        self.chat_id = chat_id
        self._desk = desk
        self._engine = engine
        self._queue = queue
        self._fetch = fetch
        self._max_photo_bytes = max_photo_bytes

    # -- in --------------------------------------------------------------------------------

    def owns(self, update: Update) -> bool:
        message = update.message or update.edited_message
        chat = message.chat if message is not None else None
        return chat is not None and chat.id == self.chat_id

    async def accept(self, update: Update) -> None:
        """Record (EngineUnavailable propagates: do not acknowledge), then queue the handling."""
        msg = staff_message(update, self.chat_id)
        if msg is None:
            return
        if (await self._engine.record(msg)).duplicate:
            return
        self._queue.submit(f"staff:{msg.payload}", lambda: self.handle(msg))

    async def catch_up(self) -> None:
        for msg in await self._desk.pending():
            await self.handle(msg)

    async def handle(self, msg: IncomingMessage) -> None:
        if not await self._is_member(int(msg.user_id)):
            log.info("staff group: user %s is not a member; ignored", msg.user_id)
            await self._desk.ignore(msg)
            return
        photo = await self._photo(msg)
        answer = await self._desk.act(self.chat_id, msg, photo)
        if answer:
            await self._post(answer, int(msg.payload) if msg.payload else None)

    async def _is_member(self, user_id: int) -> bool:
        try:
            member = await self._bot.get_chat_member(self.chat_id, user_id)
        except TelegramError as exc:
            log.warning("getChatMember failed: %s", exc)
            return False
        return member.status in MEMBERS

    async def _photo(self, msg: IncomingMessage) -> bytes | None:
        if msg.kind is not MessageKind.PHOTO or msg.media_ref is None:
            return None
        try:
            return await self._fetch(msg.media_ref, self._max_photo_bytes)
        except MediaError as exc:
            log.warning("staff photo not taken: %s", exc.reason)
            return None

    # -- out -------------------------------------------------------------------------------

    async def run_once(self) -> None:
        """Create missing topics, show new owner messages, post new alerts."""
        for work in await self._desk.topics_to_work(self.chat_id):
            try:
                await self._show(work)
            except TelegramError as exc:
                log.warning("staff group: escalation %s: %s", work.escalation_id, exc)
            finally:
                await self._desk.release(work.escalation_id)
        for alert in await self._desk.alerts_to_post():
            try:
                await self._post(alert.text, alert.thread_id)
            except TelegramError as exc:
                log.error("staff alert %s not posted: %s", alert.alert.id, exc)

    async def _show(self, work: TopicWork) -> None:
        thread_id = work.thread_id
        if thread_id is None:
            topic = await self._bot.create_forum_topic(self.chat_id, work.title)
            thread_id = topic.message_thread_id
            await self._desk.created(work.escalation_id, thread_id)
        for post in work.posts:
            text = self._desk.t("owner_says", text=post.text) if post.text else ""
            if post.photo is not None:
                photo = await asyncio.to_thread(self._desk.photo_file(post.photo).read_bytes)
                await self._bot.send_photo(
                    self.chat_id, photo, caption=text[:1024], message_thread_id=thread_id
                )
            else:
                await self._post(text, thread_id)
            await self._desk.shown(work.escalation_id, post.message_id)

    async def _post(self, text: str, thread_id: int | None) -> None:
        for chunk in split_text(text):
            await self._bot.send_message(self.chat_id, chunk, message_thread_id=thread_id)
