"""Telegram updates, as the Bot API sends them, become neutral messages (PTB parses them)."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.channels.telegram.mapping import split_text, to_incoming, utf16_len
from bot.engine.types import VOICE, IncomingMessage, MessageKind
from bot.testing.fake_telegram import (
    callback_update,
    contact_update,
    group_text_update,
    photo_update,
    text_update,
    user,
)

OWNER = 6001


def incoming(update: dict[str, Any], update_id: int = 10) -> IncomingMessage | None:
    return to_incoming(Update.de_json({"update_id": update_id, **update}, None))


def message_with(**fields: Any) -> dict[str, Any]:
    base = text_update(OWNER, "x")["message"]
    base.pop("text")
    base.pop("entities", None)
    return {"message": {**base, **fields}}


def test_text_carries_who_when_and_the_update_id() -> None:
    msg = incoming(text_update(OWNER, "报修", language="en-US"), update_id=99)
    assert msg is not None
    assert (msg.channel, msg.user_id, msg.update_key) == ("telegram", str(OWNER), "99")
    assert (msg.kind, msg.text, msg.language, msg.display_name) == (
        MessageKind.TEXT,
        "报修",
        "en-US",
        "业主",
    )
    assert msg.received_at is not None and msg.received_at.tzinfo is not None


def test_deep_link_start_passes_its_code_and_loses_the_bot_name() -> None:
    assert incoming(text_update(OWNER, "/start ABCD2345")).text == "/start ABCD2345"  # type: ignore[union-attr]
    named = incoming(text_update(OWNER, "/start@OwnerServiceBot ABCD2345"))
    assert named is not None and named.text == "/start ABCD2345"


def test_photo_takes_the_largest_size_and_the_caption() -> None:
    msg = incoming(photo_update(OWNER, "big-one", caption="厨房漏水"))
    assert msg is not None
    assert (msg.kind, msg.media_ref, msg.text) == (MessageKind.PHOTO, "big-one", "厨房漏水")


def test_an_image_sent_as_a_file_is_a_photo() -> None:
    document = {"file_id": "doc-1", "file_unique_id": "d", "mime_type": "image/jpeg"}
    msg = incoming(message_with(document=document))
    assert msg is not None and (msg.kind, msg.media_ref) == (MessageKind.PHOTO, "doc-1")


def test_own_contact_gives_the_phone_someone_elses_does_not() -> None:
    own = incoming(contact_update(OWNER, "+8613800000001", contact_user_id=OWNER))
    assert own is not None and (own.kind, own.phone) == (MessageKind.CONTACT, "+8613800000001")
    for other in (999, None):
        refused = incoming(contact_update(OWNER, "+8613800000001", contact_user_id=other))
        assert refused is not None and (refused.kind, refused.phone) == (
            MessageKind.UNSUPPORTED,
            None,
        )


def test_button_press_carries_its_data() -> None:
    msg = incoming(callback_update(OWNER, "flow:repair"))
    assert msg is not None and (msg.kind, msg.payload) == (MessageKind.BUTTON, "flow:repair")


def test_stickers_voice_and_locations_are_unsupported() -> None:
    sticker = {
        "file_id": "s",
        "file_unique_id": "s",
        "type": "regular",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
    }
    voice = {"file_id": "v", "file_unique_id": "v", "duration": 2}
    location = {"latitude": 31.2, "longitude": 121.4}
    for fields in ({"sticker": sticker}, {"voice": voice}, {"location": location}):
        msg = incoming(message_with(**fields))
        assert msg is not None and msg.kind is MessageKind.UNSUPPORTED
    spoken = incoming(message_with(voice=voice))
    assert spoken is not None and spoken.payload == VOICE  # the owner is asked to type
    assert incoming(message_with(sticker=sticker)).payload is None  # type: ignore[union-attr]


def test_an_edit_is_a_new_text_and_live_location_edits_are_dropped() -> None:
    edited = text_update(OWNER, "卫生间漏水")["message"]
    msg = incoming({"edited_message": edited})
    assert msg is not None and (msg.kind, msg.text) == (MessageKind.TEXT, "卫生间漏水")
    moving = message_with(location={"latitude": 31.2, "longitude": 121.4})["message"]
    assert incoming({"edited_message": moving}) is None


def test_groups_service_messages_and_foreign_updates_are_not_for_owner_flows() -> None:
    assert incoming(group_text_update(OWNER, "/menu")) is None
    assert incoming(message_with(pinned_message=None, delete_chat_photo=True)) is None
    inline = {"id": "q", "from": user(OWNER), "query": "x", "offset": ""}
    assert incoming({"inline_query": inline}) is None


def test_long_text_splits_at_line_ends_and_counts_emoji_twice() -> None:
    text = "\n".join(["😀" * 1000] * 3)  # 2000 UTF-16 units per line
    chunks = split_text(text)
    assert [utf16_len(chunk) for chunk in chunks] == [4001, 2000]


def test_a_line_longer_than_a_message_is_cut_hard() -> None:
    chunks = split_text("字" * 9000)
    assert [len(chunk) for chunk in chunks] == [4096, 4096, 808]
