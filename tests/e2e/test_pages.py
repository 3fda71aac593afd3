"""The page behind a push link, opened in a real headless browser (Debian's chromium).

A WeChat template message carries only a few short fields; its link must show the owner the
whole message, in their language, and nothing to anyone with a forged or expired link.
"""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser

from bot.app.bootstrap import Runtime
from bot.engine.types import Button, Reply, button_rows
from bot.pages.messages import LINK_VALID_FOR, message_link
from tests.support import Chat, FakeClock


async def _push(runtime: Runtime, chat: Chat, clock: FakeClock, reply: Reply) -> int:
    async with runtime.uow() as uow:
        account = await uow.accounts.find(chat.channel, chat.user_id)
        assert account is not None
        await uow.outbox.add(
            account_id=account.id,
            purpose="ticket_update",
            idempotency_key="page-test",
            replies=[reply.to_dict()],
            due_at=clock(),
            now=clock(),
        )
        await uow.commit()
        items = await uow.outbox.claim_due(clock(), 10, LINK_VALID_FOR)
    return items[0].id


async def test_the_owner_sees_the_whole_message_in_their_language(
    runtime: Runtime,
    bound_chat: Chat,
    clock: FakeClock,
    base_url: str,
    browser: Browser,
    tmp_path: Path,
) -> None:
    reply = Reply(
        "工单 BX-20261123-0001 已完成。\n请确认是否修好：",
        buttons=button_rows([Button("✅ 已修好", "tickets:fixed:1"), Button("❌ 没修好", "x")]),
    )
    message_id = await _push(runtime, bound_chat, clock, reply)
    link = message_link(base_url, runtime.settings.secret_key, clock)(message_id)
    page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    response = await page.goto(link)
    assert response is not None and response.status == 200
    body = await page.inner_text("main")
    assert "工单 BX-20261123-0001 已完成。" in body
    assert "1. ✅ 已修好" in body and "2. ❌ 没修好" in body
    assert "回复对应数字" in body and "027-00000000" in body
    assert "发送时间：2026-11-23 10:00" in body  # the owner's time zone, not UTC
    assert await page.title() == "示例物业服务中心"
    await page.screenshot(path=str(tmp_path / "message.png"), full_page=True)
    assert (tmp_path / "message.png").stat().st_size > 5_000


async def test_forged_and_expired_links_show_nothing(
    runtime: Runtime,
    bound_chat: Chat,
    clock: FakeClock,
    base_url: str,
    browser: Browser,
) -> None:
    message_id = await _push(runtime, bound_chat, clock, Reply("机密：只给业主本人看"))
    link = message_link(base_url, runtime.settings.secret_key, clock)(message_id)
    page = await browser.new_page()
    forged = link.replace(f"/m/{message_id}?", f"/m/{message_id + 1}?")
    for url in [forged, link[:-2] + "xx", f"{base_url}/m/{message_id}"]:
        response = await page.goto(url)
        assert response is not None and response.status == 404
        body = await page.inner_text("main")
        assert "无效或已过期" in body and "机密" not in body
    clock.advance(days=31)
    response = await page.goto(link)
    assert response is not None and response.status == 404
    assert "机密" not in await page.inner_text("main")
