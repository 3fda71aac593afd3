"""The survey page in a real headless browser (Debian's chromium), opened from the link of a
real survey push: no login, a signed link that expires with the invitation, answers that count
as in the chat, a low score that reopens the ticket, and no script on the page."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from playwright.async_api import Browser, Page
from sqlalchemy import select

from bot.app.bootstrap import Runtime
from bot.domain.tickets import TicketStatus
from bot.pages.messages import message_link
from bot.storage.models import OutboxMessage
from tests.integration.test_repair import tickets_of
from tests.integration.test_surveys import completed_ticket, set_handover, surveys
from tests.support import Chat, FakeClock

PHONE = {"width": 390, "height": 844}


async def survey_push(runtime: Runtime) -> tuple[int, str]:
    """The newest survey push: its outbox id and the survey page link in its text."""
    async with runtime.uow() as uow:
        query = (
            select(OutboxMessage.id, OutboxMessage.replies)
            .where(OutboxMessage.purpose == "survey")
            .order_by(OutboxMessage.id.desc())
        )
        message_id, replies = (await uow.session.execute(query)).first() or (0, [])
    found = re.search(r"https?://\S+", replies[0]["text"])
    assert found is not None
    return message_id, found.group()


def on(base_url: str, link: str) -> str:
    """The link as pushed, served by this test's server."""
    parts = urlsplit(link)
    return f"{base_url}{parts.path}?{parts.query}"


async def repair_survey_link(runtime: Runtime, chat: Chat, clock: FakeClock, lang: str) -> str:
    """A completed repair whose survey was pushed a day later, to an owner now using `lang`
    (the push is worded when it is sent): the survey page's link in it."""
    await completed_ticket(chat, runtime, clock)
    if lang != "zh":
        await chat.say(f"/lang {lang}")
    clock.advance(days=1)
    await runtime.surveys.send_due()
    return (await survey_push(runtime))[1]


async def choose(page: Page, question: str, score: int) -> None:
    await page.click(f"input[name={question}][value='{score}'] + span")


async def test_an_owner_answers_a_revisit_on_the_page_from_the_push_link(
    runtime: Runtime,
    bound_chat: Chat,
    clock: FakeClock,
    base_url: str,
    browser: Browser,
    tmp_path: Path,
) -> None:
    await set_handover(runtime, "1-0101", clock().date() - timedelta(days=30))
    await runtime.surveys.daily()
    message_id, link = await survey_push(runtime)
    page = await browser.new_page(viewport=PHONE)
    response = await page.goto(on(base_url, link))
    assert response is not None and response.status == 200
    assert "script-src" not in (csp := response.headers["content-security-policy"])
    assert "default-src 'none'" in csp and await page.locator("script").count() == 0
    assert await page.title() == "满意度评价"
    body = await page.inner_text("main")
    assert "收房一个月回访" in body and "1. 入住以来的居住体验如何" in body
    assert "4. 还有什么想告诉我们的吗" in body and "027-00000000" in body
    await choose(page, "living", 4)
    await choose(page, "build_quality", 5)
    await choose(page, "service", 3)
    await page.fill("textarea[name=comment]", "小区绿化很好")
    await page.screenshot(path=str(tmp_path / "survey.png"), full_page=True)
    assert (tmp_path / "survey.png").stat().st_size > 10_000
    await page.click("button[type=submit]")
    assert "感谢您的评价" in await page.inner_text("main")
    [row] = await surveys(runtime)
    assert row.status == "answered" and row.answered_via == "page"
    async with runtime.uow() as uow:
        answers = await uow.surveys.answers(row.id)
    assert [(a.question, a.score, a.text) for a in answers][-1] == ("comment", None, "小区绿化很好")
    await page.goto(on(base_url, link))  # the same link again
    assert "已经填写过或已过期" in await page.inner_text("main")
    await bound_chat.press(f"survey:start:{row.id}")  # and the chat knows it too
    assert "已经填写过或已过期" in bound_chat.text
    # The push's own page (where a message without a page of its own leads) links it too.
    message_page = message_link(base_url, runtime.settings.secret_key, clock)(message_id)
    await page.goto(message_page)
    assert await page.locator(f"a[href='{link}']").count() == 1


async def test_a_low_score_on_the_page_reopens_the_repair_and_says_so(
    runtime: Runtime, bound_chat: Chat, clock: FakeClock, base_url: str, browser: Browser
) -> None:
    link = await repair_survey_link(runtime, bound_chat, clock, "zh")
    page = await browser.new_page(viewport=PHONE)
    await page.goto(on(base_url, link))
    for question, score in [("speed", 1), ("quality", 3), ("attitude", 4)]:
        await choose(page, question, score)
    await page.fill("textarea[name=comment]", "等了三天才来")
    await page.click("button[type=submit]")
    [ticket] = await tickets_of(runtime, bound_chat)
    assert ticket.status is TicketStatus.REOPENED
    assert f"工单 {ticket.number} 已重新打开" in await page.inner_text("main")


async def test_a_missing_score_comes_back_with_every_choice_kept_and_bad_links_show_nothing(
    runtime: Runtime, bound_chat: Chat, clock: FakeClock, base_url: str
) -> None:
    url = on(base_url, await repair_survey_link(runtime, bound_chat, clock, "zh"))
    async with httpx.AsyncClient() as client:
        sent = await client.post(url, data={"speed": "2", "attitude": "5", "comment": "还行"})
        assert sent.status_code == 422
        assert "请为每个问题打分后再提交" in sent.text
        assert re.search(r'name="speed" value="2" checked', sent.text)
        assert re.search(r'name="attitude" value="5" checked', sent.text) and "还行" in sent.text
        assert [r.status for r in await surveys(runtime)] == ["open"]  # nothing stored
        forged = url.replace("/s/", "/s/9").split("?")[0] + "?" + url.split("?")[1]
        for bad in [forged, url[:-3] + "abc", url.split("?")[0]]:
            answer = await client.get(bad)
            assert answer.status_code == 404 and "无效或已过期" in answer.text
        clock.advance(days=8)  # the link expires with the invitation
        assert (await client.get(url)).status_code == 404


async def test_an_english_owner_gets_the_page_in_english(
    runtime: Runtime,
    bound_chat: Chat,
    clock: FakeClock,
    base_url: str,
    browser: Browser,
    tmp_path: Path,
) -> None:
    link = await repair_survey_link(runtime, bound_chat, clock, "en")
    page = await browser.new_page(viewport=PHONE)
    await page.goto(on(base_url, link))
    assert await page.title() == "Satisfaction survey"
    body = await page.inner_text("main")
    assert "Follow-up on repair ticket BX-" in body
    assert (
        "1. Was the repair done in good time?\n1 = very dissatisfied, 5 = very satisfied." in body
    )
    await choose(page, "speed", 5)
    await page.screenshot(path=str(tmp_path / "survey_en.png"), full_page=True)
    assert (tmp_path / "survey_en.png").stat().st_size > 10_000
    await page.click("button[type=submit]")  # the browser itself asks for the missing scores
    [row] = await surveys(runtime)
    assert row.status == "open"
