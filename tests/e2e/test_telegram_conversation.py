"""Owners talk to the bot in Telegram: the real adapter and PTB `Bot`, polling the fake Bot API,
the real engine and flows on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.app.bootstrap import Runtime
from bot.channels.telegram.channel import TelegramChannel
from bot.engine.ports import MediaError
from bot.testing.fake_telegram import (
    FakeTelegram,
    callback_update,
    contact_update,
    group_text_update,
    photo_update,
    text_update,
)
from tests.fakes.telegram_harness import RecordingSleep, account_of, make_channel, running

OWNER = 5001


@pytest.fixture
async def telegram(runtime: Runtime, fake: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    async with running(make_channel(runtime, fake, RecordingSleep()), runtime) as channel:
        yield channel


class Owner:
    """One owner's Telegram chat, driven through the fake: each step waits for the answer."""

    def __init__(self, fake: FakeTelegram, user_id: int) -> None:
        self.fake = fake
        self.user_id = user_id

    async def sends(self, update: dict[str, Any], expect: str) -> None:
        seen = len(self.fake.sent_to(self.user_id))
        self.fake.push_update(update)
        await self.fake.wait_until(lambda: expect in texts_to(self.fake, self.user_id, seen))

    async def says(self, text: str, expect: str) -> None:
        await self.sends(text_update(self.user_id, text), expect)

    async def presses(self, label: str, expect: str) -> None:
        """Press the button whose label contains `label` in the bot's latest keyboard."""
        buttons = {
            button["text"]: button["callback_data"]
            for call in self.fake.sent_to(self.user_id)
            if "inline_keyboard" in call.params.get("reply_markup", {})
            for row in call.params["reply_markup"]["inline_keyboard"]
            for button in row
        }
        [data] = [data for text, data in buttons.items() if label in text][-1:]
        await self.sends(callback_update(self.user_id, data), expect)


def texts_to(fake: FakeTelegram, chat_id: int, after: int = 0) -> str:
    return "\n".join(
        str(call.params.get("text", call.params.get("caption", "")))
        for call in fake.sent_to(chat_id)[after:]
    )


async def test_owner_binds_through_the_deep_link_start_code(
    telegram: TelegramChannel, fake: FakeTelegram, demo_codes: dict[str, str], runtime: Runtime
) -> None:
    fake.push_update(text_update(OWNER, f"/start {demo_codes['张伟']}"))
    await fake.wait_until(lambda: "绑定成功" in texts_to(fake, OWNER))
    assert "翠湖花园 1栋-1-0101" in texts_to(fake, OWNER)
    account = await account_of(runtime, OWNER)
    assert account is not None and account.owner_id is not None


async def test_start_with_the_bot_name_attached_still_binds(
    telegram: TelegramChannel, fake: FakeTelegram, demo_codes: dict[str, str]
) -> None:
    fake.push_update(text_update(OWNER, f"/start@OwnerServiceBot {demo_codes['李娜']}"))
    await fake.wait_until(lambda: "绑定成功" in texts_to(fake, OWNER))


async def test_faq_question_is_answered(telegram: TelegramChannel, fake: FakeTelegram) -> None:
    fake.push_update(text_update(OWNER, "屋面防水保修几年"))
    await fake.wait_until(lambda: bool(fake.sent_to(OWNER)))
    assert "5年" in texts_to(fake, OWNER)


async def test_a_repair_with_a_photo_from_start_to_ticket_number(
    telegram: TelegramChannel, fake: FakeTelegram, demo_codes: dict[str, str], tmp_path: Path
) -> None:
    owner = Owner(fake, OWNER)
    await owner.says(f"/start {demo_codes['张伟']}", expect="绑定成功")
    await owner.says("报修", expect="哪一套房屋")
    await owner.presses("3栋-3-0801", expect="报修类别")
    await owner.presses("给排水管道", expect="描述")
    await owner.says("厨房水管接口漏水，地面都湿了", expect="照片")
    photo = tmp_path / "leak.png"
    Image.new("RGB", (40, 30), "blue").save(photo)
    file_id = fake.add_file(photo.read_bytes())
    await owner.sends(photo_update(OWNER, file_id), expect="第 1 张")
    assert [call.params["file_id"] for call in fake.calls_to("getFile")] == [file_id]
    await owner.says("完成", expect="哪个位置")
    await owner.presses("厨房", expect="联系")
    await owner.says("工作日晚上七点以后", expect="照片：1 张")
    await owner.presses("提交", expect="BX-")


async def test_buttons_become_an_inline_keyboard_and_a_press_removes_it(
    telegram: TelegramChannel, fake: FakeTelegram
) -> None:
    fake.push_update(text_update(OWNER, "/menu"))
    await fake.wait_until(lambda: bool(fake.sent_to(OWNER)))
    keyboard = fake.sent_to(OWNER)[-1].params["reply_markup"]["inline_keyboard"]
    data = [button["callback_data"] for row in keyboard for button in row]
    assert "flow:faq" in data

    fake.push_update(callback_update(OWNER, "flow:faq", message_id=42))
    await fake.wait_until(lambda: len(fake.sent_to(OWNER)) >= 2)
    [answered] = fake.calls_to("answerCallbackQuery")
    assert answered.params["callback_query_id"] == f"cb-{OWNER}-42"
    [edited] = fake.calls_to("editMessageReplyMarkup")
    assert edited.params["message_id"] == 42
    assert "reply_markup" not in edited.params or not edited.params["reply_markup"]


async def test_someone_elses_contact_card_does_not_start_phone_binding(
    telegram: TelegramChannel, fake: FakeTelegram
) -> None:
    fake.push_update(contact_update(OWNER, "13800000001", contact_user_id=999))
    await fake.wait_until(lambda: bool(fake.sent_to(OWNER)))
    assert "身份证" not in texts_to(fake, OWNER)
    assert "暂时只能处理" in texts_to(fake, OWNER)


async def test_own_contact_asks_for_the_id_digits(
    telegram: TelegramChannel, fake: FakeTelegram
) -> None:
    fake.push_update(contact_update(OWNER, "+8613800000001", contact_user_id=OWNER))
    await fake.wait_until(lambda: bool(fake.sent_to(OWNER)))
    assert "身份证" in texts_to(fake, OWNER)


async def test_group_messages_are_ignored(telegram: TelegramChannel, fake: FakeTelegram) -> None:
    fake.push_update(group_text_update(OWNER, "/menu"))
    fake.push_update(text_update(OWNER, "/help"))
    await fake.wait_until(lambda: bool(fake.sent_to(OWNER)))
    assert fake.sent_to(-100) == []


async def test_commands_are_published_in_both_languages(
    telegram: TelegramChannel, fake: FakeTelegram
) -> None:
    await fake.wait_until(lambda: len(fake.calls_to("setMyCommands")) == 3)
    by_language = {
        call.params.get("language_code", ""): call.params["commands"]
        for call in fake.calls_to("setMyCommands")
    }
    assert {"command": "start", "description": "开始 / 绑定房屋"} in by_language["zh"]
    assert {"command": "start", "description": "Start / bind your home"} in by_language["en"]
    assert by_language[""] == by_language["zh"]


async def test_a_photo_larger_than_allowed_is_refused_before_downloading(
    telegram: TelegramChannel, fake: FakeTelegram
) -> None:
    file_id = fake.add_file(b"x" * 2000)
    with pytest.raises(MediaError) as raised:
        await telegram.fetch_media(file_id, max_bytes=1000)
    assert raised.value.reason == "too_large"
    assert not any(call.method == "download" for call in fake.calls)


async def test_a_photo_that_lies_about_its_size_is_cut_off_while_downloading(
    telegram: TelegramChannel, fake: FakeTelegram
) -> None:
    file_id = fake.add_file(b"x" * 200_000, declared_size=10)
    with pytest.raises(MediaError) as raised:
        await telegram.fetch_media(file_id, max_bytes=1000)
    assert raised.value.reason == "too_large"


async def test_a_photo_is_downloaded_through_the_file_url(
    telegram: TelegramChannel, fake: FakeTelegram
) -> None:
    file_id = fake.add_file(b"\x89PNG-bytes")
    assert await telegram.fetch_media(file_id, max_bytes=1000) == b"\x89PNG-bytes"


async def test_an_unknown_photo_is_unavailable(telegram: TelegramChannel) -> None:
    with pytest.raises(MediaError) as raised:
        await telegram.fetch_media("no-such-file", max_bytes=1000)
    assert raised.value.reason == "unavailable"
