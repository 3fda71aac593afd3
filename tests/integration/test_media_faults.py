"""The media directory full or unwritable: the owner is told the photo did not arrive, the
draft is kept, and the update is handled — not mistaken for a database outage (an OSError
from the disk used to make the engine retry and give up as if the database were down)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from bot.app.bootstrap import Runtime
from bot.media import MediaStore
from tests.support import Chat


async def test_an_unwritable_media_directory_is_told_and_the_draft_kept(
    bound_chat: Chat, runtime: Runtime, tmp_path: Path
) -> None:
    blocked = tmp_path / "media-is-a-file"
    blocked.write_text("not a directory")  # mkdir under it fails, as on a full or RO disk
    runtime.services.media = MediaStore(blocked, runtime.services.media.max_bytes)
    photo = tmp_path / "leak.png"
    Image.new("RGB", (40, 30), "blue").save(photo)
    chat = bound_chat
    await chat.say("报修")
    await chat.press(chat.button("3栋-3-0801"))
    await chat.press(chat.button("给排水管道"))
    await chat.say("厨房水管接口漏水")
    await chat.photo(str(photo))
    assert "没能接收成功" in chat.text and "已填写的内容都还在" in chat.text
    await chat.say("完成")
    assert "哪个位置" in chat.text  # the draft went on without the photo
