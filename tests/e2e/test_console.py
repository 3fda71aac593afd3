"""The staff web console in a real headless browser (Debian's chromium): sign in, answer an
owner, move a ticket, see the charts; and what it refuses (forged forms, too low a role,
password guessing). Screenshots go to $SCREENSHOT_DIR when set (to look at), else tmp_path.
Clock: Monday 2026-11-23 10:00 in Shanghai."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from bot.app.bootstrap import Runtime
from bot.app.demo_data import import_certificates_into
from bot.domain.complaints import EscalationListing
from bot.domain.staff import StaffRole
from bot.services.escalations import list_escalations
from bot.testing.fake_wechat_api import png_bytes
from tests.integration.test_repair import tickets_of
from tests.integration.test_surveys import (
    answer_in_chat,
    completed_ticket,
    set_handover,
    survey_pushes,
)
from tests.integration.test_tickets import submit
from tests.staff.support import PASSWORD, make_staff, pushes
from tests.staff.test_api_flows import file_complaint
from tests.support import Chat, FakeClock


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def signed_in(browser: Browser, base_url: str, username: str, lang: str = "zh") -> Page:
    page = await browser.new_page(viewport={"width": 1280, "height": 860})
    await page.goto(f"{base_url}/console/lang/{lang}?next=/console/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/console/inbox")
    return page


async def test_an_agent_signs_in_claims_and_answers_an_escalation(
    runtime: Runtime, bound_chat: Chat, base_url: str, browser: Browser, shots: Path
) -> None:
    await make_staff(runtime, "wangfang", StaffRole.AGENT, "王芳")
    page = await browser.new_page(viewport={"width": 1280, "height": 860})
    await page.goto(f"{base_url}/console/inbox")
    assert page.url.startswith(f"{base_url}/console/login")  # not signed in: the form first
    await page.screenshot(path=shots / "login.png")
    await page.close()

    page = await signed_in(browser, base_url, "wangfang")
    assert "暂无记录" in await page.locator("#rows").inner_text()
    await file_complaint(bound_chat)
    row = page.locator("#rows tr", has_text="张伟")
    await row.wait_for()  # the inbox polls: the new escalation appears without a reload
    assert await row.count() == 1
    assert "三级" in await row.inner_text() and "投诉" in await row.inner_text()
    assert await row.locator(".phone").inner_text() == "138****0001"  # masked
    await page.screenshot(path=shots / "inbox.png")

    await row.locator("a").first.click()
    await page.click("button:has-text('接入')")
    await page.wait_for_selector(".flash.ok")
    assert "客服王芳正在为您服务" in (await pushes(runtime, bound_chat))[-1]["text"]
    assert await bound_chat.say("请尽快处理，谢谢") == []  # the bot is silent now
    await page.wait_for_selector("li.msg.owner:has-text('请尽快处理')")  # polled in, live

    await page.fill("form[action$=reply] textarea", "您好，已转物业经理核查")
    await page.click("form[action$=reply] button")
    await page.wait_for_selector("li.msg.staff:has-text('已转物业经理核查')")
    assert (await pushes(runtime, bound_chat))[-1]["text"] == "客服王芳：您好，已转物业经理核查"

    snapshot = shots / "owner_photo.png"
    snapshot.write_bytes(png_bytes(48))
    assert await bound_chat.photo(str(snapshot)) == []  # the owner's photo, to staff only
    owner_photo = page.locator("li.msg.owner img.photo")
    await owner_photo.wait_for()
    assert await owner_photo.evaluate("img => img.naturalWidth") == 48
    photo_url = str(await owner_photo.get_attribute("src"))
    anonymous = await browser.new_page()
    refused = await anonymous.request.get(f"{base_url}{photo_url}")
    assert refused.url.startswith(f"{base_url}/console/login")  # not for anyone else
    bill = shots / "bill.png"
    bill.write_bytes(png_bytes(32))
    await page.set_input_files("form[action$=reply] input[type=file]", bill)
    await page.fill("form[action$=reply] textarea", "收费明细")
    await page.click("form[action$=reply] button")
    await page.wait_for_selector("li.msg.staff:has-text('收费明细') img.photo")
    relayed = (await pushes(runtime, bound_chat))[-1]
    assert relayed["photo_path"] and "收费明细" in relayed["text"]

    await page.fill("form[action$=note] textarea", "需回访")
    await page.click("form[action$=note] button")
    note = page.locator("li.msg.note", has_text="需回访")
    assert "内部备注" in await note.inner_text()
    assert "需回访" not in str(await pushes(runtime, bound_chat))  # never to the owner
    await page.screenshot(path=shots / "conversation.png", full_page=True)

    await page.click("button:has-text('结束会话')")
    await page.wait_for_selector("#status.closed")
    assert "结束本次人工服务" in (await pushes(runtime, bound_chat))[-1]["text"]


async def test_a_ticket_is_accepted_dispatched_started_and_completed_with_after_photos(
    runtime: Runtime, bound_chat: Chat, base_url: str, browser: Browser, shots: Path
) -> None:
    await make_staff(runtime, "wangfang", StaffRole.AGENT, "王芳")
    await submit(bound_chat, "plumbing", "厨房下水慢")
    page = await signed_in(browser, base_url, "wangfang")
    await page.click("header nav a[href='/console/tickets']")
    row = page.locator("table.list tbody tr", has_text="给排水管道")
    assert "已提交" in await row.inner_text()
    await page.screenshot(path=shots / "tickets.png")
    await row.locator("a").first.click()

    await page.click("form.move-accepted button")
    await page.wait_for_selector(".flash.ok")
    await page.fill("form.move-dispatched input[name=assignee]", "李师傅")
    await page.fill("form.move-dispatched input[name=appointment_at]", "2026-11-24T09:00")
    await page.click("form.move-dispatched button")
    await page.wait_for_selector("form.move-in_progress")
    assert "👷 李师傅 · 🕘 2026-11-24 09:00" in (await pushes(runtime, bound_chat))[-1]["text"]
    await page.click("form.move-in_progress button")
    after = shots / "after.png"
    after.write_bytes(png_bytes(64))
    await page.fill("form.move-completed textarea", "已疏通下水管")
    await page.set_input_files("form.move-completed input[type=file]", [after])
    await page.click("form.move-completed button")
    await page.wait_for_selector("form.move-closed")
    completed = (await pushes(runtime, bound_chat))[-1]
    assert "已疏通下水管" in completed["text"]
    assert any(b[1].startswith("tickets:fixed:") for r in completed["buttons"] for b in r)
    photo = page.locator(".timeline img.photo")
    assert await photo.count() == 1
    assert await photo.evaluate("img => img.naturalWidth") == 64  # served to staff

    ticket_id = page.url.split("?")[0].rsplit("/", 1)[-1]
    await page.goto(f"{base_url}/console/tickets?status=completed")
    assert "给排水管道" in await page.locator("table.list tbody").inner_text()
    await page.goto(f"{base_url}/console/tickets?status=submitted")
    assert "暂无记录" in await page.locator("table.list tbody").inner_text()
    await page.goto(f"{base_url}/console/tickets/{ticket_id}")
    await bound_chat.press(f"tickets:notfixed:{ticket_id}")  # the owner's answer comes back
    await page.reload()
    assert "业主反馈：没修好" in await page.locator(".timeline").inner_text()
    await page.screenshot(path=shots / "ticket.png", full_page=True)


async def csrf_of(page: Page) -> str:
    return str(await page.locator("input[name=csrf]").first.get_attribute("value"))


async def test_forged_forms_and_too_low_a_role_are_refused_and_change_nothing(
    runtime: Runtime, bound_chat: Chat, base_url: str, browser: Browser, shots: Path
) -> None:
    await make_staff(runtime, "wangfang", StaffRole.AGENT, "王芳")
    await make_staff(runtime, "zhuguan", StaffRole.SUPERVISOR, "主管")
    await file_complaint(bound_chat)
    # Its id, not 1: a PostgreSQL sequence keeps the numbers a rolled-back insert took.
    async with runtime.uow() as uow:
        [listing] = await list_escalations(uow)
    one = f"{base_url}/console/escalations/{listing.escalation.id}"
    page = await signed_in(browser, base_url, "wangfang")
    answer = await page.goto(one)
    assert answer is not None
    headers = answer.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    [session] = [c for c in await page.context.cookies() if c["name"] == "console_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    assert await page.locator("form[action$=transfer]").count() == 0  # not an agent's action

    forged = await page.request.post(f"{one}/claim", form={})
    assert forged.status == 403
    wrong = await page.request.post(f"{one}/claim", form={"csrf": "0" * 64})
    assert wrong.status == 403
    token = await csrf_of(page)
    transfer = await page.request.post(f"{one}/transfer", form={"csrf": token, "to": "wangfang"})
    assert transfer.status == 403 and "角色" in await transfer.text()
    await page.reload()
    assert "待接入" in await page.locator("#status").inner_text()  # nothing happened
    assert not any("正在为您服务" in p["text"] for p in await pushes(runtime, bound_chat))

    other = await browser.new_page()  # another session's token does not open this one
    await other.goto(f"{base_url}/console/login")
    pre_token = await csrf_of(other)
    stolen = await other.request.post(f"{one}/claim", form={"csrf": pre_token})
    assert stolen.url.startswith(f"{base_url}/console/login")  # not signed in there
    await page.goto(one)
    await page.screenshot(path=shots / "conversation_waiting.png", full_page=True)

    boss = await signed_in(browser, base_url, "zhuguan")
    await boss.goto(one)
    await boss.select_option("form[action$=transfer] select", "wangfang")
    await boss.click("form[action$=transfer] button")
    await boss.wait_for_selector(".flash.ok")
    assert "wangfang" in await boss.locator(".facts").inner_text()

    await page.click("form[action$=logout] button")
    await page.wait_for_url("**/console/login")
    await page.goto(f"{base_url}/console/inbox")
    assert "/console/login" in page.url  # signed out


async def test_password_guessing_locks_the_login_out(
    runtime: Runtime, base_url: str, browser: Browser, shots: Path
) -> None:
    await make_staff(runtime, "wangfang", StaffRole.AGENT, "王芳")
    page = await browser.new_page(viewport={"width": 1280, "height": 700})
    await page.goto(f"{base_url}/console/login")
    for _ in range(5):
        await page.fill("input[name=username]", "wangfang")
        await page.fill("input[name=password]", "wrong-password")
        await page.click("button[type=submit]")
        await page.wait_for_selector(".flash.error")
        assert "用户名或密码错误" in await page.locator(".flash.error").inner_text()
    await page.fill("input[name=username]", "wangfang")
    await page.fill("input[name=password]", PASSWORD)  # even the right one, for now
    async with page.expect_response("**/console/login") as answer:
        await page.click("button[type=submit]")
    assert (await answer.value).status == 429
    assert "失败次数过多" in await page.locator(".flash.error").inner_text()
    await page.screenshot(path=shots / "login_locked.png")
    assert not [c for c in await page.context.cookies() if c["name"] == "console_session"]


async def test_a_supervisor_regrades_a_complaint_and_stages_are_set_in_bulk(
    runtime: Runtime, bound_chat: Chat, base_url: str, browser: Browser, shots: Path
) -> None:
    await make_staff(runtime, "zhuguan", StaffRole.SUPERVISOR, "主管")
    await file_complaint(bound_chat)
    data = (runtime.settings.config_dir / "sample_certificates.csv").read_bytes()
    assert (await import_certificates_into(runtime, data)).ok
    page = await signed_in(browser, base_url, "zhuguan")
    await page.click("header nav a[href='/console/complaints']")
    row = page.locator("table.list tbody tr", has_text="物业收费不透明")
    assert "三级" in await row.inner_text() and "系统建议" in await row.inner_text()
    await row.locator("select[name=grade]").select_option("G2")
    await row.locator("button").click()  # no reason: the browser asks for one first
    assert "系统建议" in await page.locator("table.list tbody tr").first.inner_text()
    await row.locator("input[name=reason]").fill("涉及多户，影响较大")
    await row.locator("button").click()
    await page.wait_for_selector(".flash.ok")
    regraded = page.locator("table.list tbody tr", has_text="物业收费不透明")
    assert "二级" in await regraded.inner_text()
    assert "系统建议" not in await regraded.inner_text()
    await page.screenshot(path=shots / "complaints.png", full_page=True)

    await page.click("header nav a[href='/console/certificates']")
    before = len(await pushes(runtime, bound_chat))
    for home in ("1栋-1-0101", "3栋-3-0801"):  # 张伟's two homes
        await page.locator("tbody tr", has_text=home).locator("input[name=ids]").check()
    await page.select_option("#bulk .bulk select[name=stage]", "mortgage_registered")
    await page.click("#bulk .bulk button")
    await page.wait_for_selector(".flash.error")  # 3-0801 has no mortgage: all or none
    assert "没有按揭" in await page.locator(".flash.error").inner_text()
    assert len(await pushes(runtime, bound_chat)) == before
    for home in ("1栋-1-0101", "3栋-3-0801"):
        await page.locator("tbody tr", has_text=home).locator("input[name=ids]").check()
    await page.select_option("#bulk .bulk select[name=stage]", "certificate_issued")
    await page.click("#bulk .bulk button")
    await page.wait_for_selector(".flash.ok")
    for home in ("1栋-1-0101", "3栋-3-0801"):
        assert "产权证已出证" in await page.locator("tbody tr", has_text=home).inner_text()
    assert len(await pushes(runtime, bound_chat)) == before + 2
    await page.screenshot(path=shots / "certificates.png", full_page=True)


async def test_the_dashboard_charts_what_waits_and_what_came_in_in_both_languages(
    runtime: Runtime, bound_chat: Chat, base_url: str, browser: Browser, shots: Path
) -> None:
    await make_staff(runtime, "wangfang", StaffRole.AGENT, "王芳")
    await file_complaint(bound_chat)  # waiting, due in an hour
    await submit(bound_chat, "plumbing", "厨房下水慢")
    await submit(bound_chat, "electrical", "插座没电")
    page = await signed_in(browser, base_url, "wangfang")
    await page.click("header nav a[href='/console/dashboard']")
    figures = page.locator(".figure")
    assert (await figures.nth(0).inner_text()).startswith("1")  # waiting
    assert (await figures.nth(3).inner_text()).startswith("2")  # open tickets
    charts = page.locator("svg.chart")
    assert await charts.count() == 4  # with the CSAT trend, empty without surveys
    assert await charts.nth(3).locator("circle").count() == 0
    per_day = charts.nth(0).locator("rect title")
    assert await per_day.all_text_contents() == ["新工单 11-23: 2"]
    waiting = await charts.nth(2).locator("rect title").all_text_contents()
    assert waiting == ["待接入会话 1 小时内: 1"]
    await page.screenshot(path=shots / "dashboard.png", full_page=True)

    await page.click("header a:has-text('English')")
    await page.wait_for_selector("h1:has-text('Dashboard')")
    assert "New repair tickets per day" in await page.locator("main").inner_text()
    await page.screenshot(path=shots / "dashboard_en.png", full_page=True)


async def test_an_admin_checks_dry_runs_and_imports_a_roster_and_reads_faq_misses(
    runtime: Runtime, base_url: str, browser: Browser, shots: Path
) -> None:
    await make_staff(runtime, "boss", StaffRole.ADMIN, "管理员")
    await make_staff(runtime, "wangfang", StaffRole.AGENT, "王芳")
    agent = await signed_in(browser, base_url, "wangfang")
    assert await agent.locator("header nav a[href='/console/roster']").count() == 0
    refused = await agent.goto(f"{base_url}/console/roster")
    assert refused is not None and refused.status == 403

    roster = runtime.settings.config_dir / "sample_roster.csv"
    bad = shots / "bad_roster.csv"
    bad.write_text(
        "project,building,unit,owner_name,phone,id_last4,handover_date,area_m2\n"
        "翠湖花园,1栋,1-0101,张伟,12,123X,2023-06-30,89.50\n",
        encoding="utf-8",
    )
    page = await signed_in(browser, base_url, "boss")
    await page.click("header nav a[href='/console/roster']")
    await page.set_input_files("input[name=file]", bad)
    await page.click("form[enctype] button")
    assert "line 2" in await page.locator("ul.problems").inner_text()
    await page.set_input_files("input[name=file]", roster)
    await page.click("form[enctype] button")
    report = page.locator("section.report")
    assert "检查通过" in await report.inner_text()
    async with runtime.uow() as uow:
        assert await uow.roster.owner_homes() == []  # a dry run writes nothing
    await page.screenshot(path=shots / "roster.png", full_page=True)
    await page.click("section.report button")
    assert "已导入" in await page.locator("section.report").inner_text()
    async with runtime.uow() as uow:
        assert any(home.owner_name == "张伟" for home in await uow.roster.owner_homes())

    await page.click("header nav a[href='/console/owners']")
    row = page.locator("table.list tbody tr", has_text="张伟")
    assert "138****0001" in await row.inner_text() and "**3X" in await row.inner_text()
    assert "13800000001" not in await page.content() and "123X" not in await page.content()
    await page.fill("input[name=q]", "1-0502")
    await page.click("form.filter button")
    assert await page.locator("table.list tbody tr").all_inner_texts() == [
        "李娜\t138****0002\t**67\t翠湖花园 1栋-1-0502"
    ]
    await page.goto(f"{base_url}/console/owners")
    await page.screenshot(path=shots / "owners.png", full_page=True)

    for score in (0.2, 0.3):
        runtime.services.faq_misses.append(
            "电梯年检报告在哪看 13812345678", "zh", score, runtime.services.clock()
        )
    await page.click("header nav a[href='/console/faq-misses']")
    row = page.locator("table.list tbody tr").first
    text = await row.inner_text()
    assert text.startswith("2") and "电梯年检报告" in text and "0.30" in text
    assert "13812345678" not in text  # the phone number was never kept
    await page.screenshot(path=shots / "faq_misses.png", full_page=True)


async def test_the_dashboard_shows_the_weeks_csat_and_who_scored_low(
    runtime: Runtime,
    bound_chat: Chat,
    clock: FakeClock,
    base_url: str,
    browser: Browser,
    shots: Path,
) -> None:
    """Both things a low score starts are listed, newest first: the repair ticket it reopened
    and the hand-off to staff, each linked to its page."""
    await make_staff(runtime, "wangfang", StaffRole.AGENT, "王芳")
    ticket_id = await completed_ticket(bound_chat, runtime, clock)
    await bound_chat.press(f"tickets:fixed:{ticket_id}")
    await answer_in_chat(bound_chat, 4, 2, 4, comment="还是有点渗水")  # reopens the ticket
    [ticket] = await tickets_of(runtime, bound_chat)
    clock.advance(minutes=5)
    await set_handover(runtime, "1-0101", clock().date() - timedelta(days=31))
    assert await runtime.surveys.daily() == 1  # the one-month revisit, sent
    [(_, _, buttons)] = await survey_pushes(runtime)
    await bound_chat.press(buttons[0])
    await answer_in_chat(bound_chat, 1, 3, 5, comment="楼上噪音大")  # hands him to staff
    [escalation] = [item.escalation for item in await listed_escalations(runtime)]
    satisfied_from = runtime.services.rules.survey.satisfied_from
    assert satisfied_from == 4  # so 4, 4 and 5 of the six scores are satisfied

    page = await signed_in(browser, base_url, "wangfang")
    await page.goto(f"{base_url}/console/dashboard")
    csat = page.locator("svg.chart").nth(3)
    points = await csat.locator("circle title").all_text_contents()
    assert points == [f"{(clock() - timedelta(days=7)).astimezone(runtime.settings.tz):%m-%d}: 50%"]
    low = page.locator(".low-scores tbody tr")
    assert await low.count() == 2
    handed, reopened = await low.all_inner_texts()
    assert handed.startswith("张伟\t2026-11-23 10:05\t") and "楼上噪音大" in handed
    assert "收房一个月回访" in handed and "居住体验 1" in handed
    assert handed.endswith("已转人工\n当前：待接入")
    assert reopened.startswith("张伟\t2026-11-23 10:00\t") and "还是有点渗水" in reopened
    assert f"维修工单 {ticket.number} 的回访" in reopened and "维修质量 2" in reopened
    assert reopened.endswith(f"已重开工单 {ticket.number}\n当前：已重开")
    await page.screenshot(path=shots / "dashboard_csat.png", full_page=True)

    await low.nth(1).locator("a").click()
    await page.wait_for_url(f"**/console/tickets/{ticket.id}")
    assert ticket.number in await page.locator("main").inner_text()
    await page.go_back()
    await low.nth(0).locator("a").click()
    await page.wait_for_url(f"**/console/escalations/{escalation.id}")
    await page.wait_for_selector("li.msg.owner:has-text('楼上噪音大')")

    await page.click("header a:has-text('English')")
    await page.goto(f"{base_url}/console/dashboard")
    handed, reopened = await page.locator(".low-scores tbody tr").all_inner_texts()
    assert "living experience 1, construction quality 3" in handed
    assert handed.endswith("Handed to staff\nnow: Waiting")
    assert reopened.endswith(f"Reopened ticket {ticket.number}\nnow: Reopened")
    await page.screenshot(path=shots / "dashboard_csat_en.png", full_page=True)
    await page.goto(f"{base_url}/console/inbox")
    assert "Low survey score" in await page.locator("#rows").inner_text()


async def listed_escalations(runtime: Runtime) -> list[EscalationListing]:
    async with runtime.uow() as uow:
        return await list_escalations(uow, None, 10)


async def test_a_supervisor_previews_starts_and_follows_a_revisit_after_a_storm(
    runtime: Runtime, bound_chat: Chat, base_url: str, browser: Browser, shots: Path
) -> None:
    await make_staff(runtime, "zhuguan", StaffRole.SUPERVISOR, "主管")
    await make_staff(runtime, "wangfang", StaffRole.AGENT, "王芳")
    agent = await signed_in(browser, base_url, "wangfang")
    await agent.click("header nav a[href='/console/campaigns']")
    assert await agent.locator(".campaign-form").count() == 0  # agents follow, not start
    refused = await agent.request.post(
        f"{base_url}/console/campaigns",
        form={
            "csrf": await csrf_of(agent),
            "project": "翠湖花园",
            "kind": "weather",
            "buildings": "1栋",
        },
    )
    assert refused.status == 403

    page = await signed_in(browser, base_url, "zhuguan")
    await page.click("header nav a[href='/console/campaigns']")
    assert await page.locator("select[name=project]").input_value() == "翠湖花园"
    await page.click("button[name=preview]")  # no building chosen: said, nothing started
    assert "请至少选择一栋楼" in await page.locator(".flash.error").inner_text()
    await page.check("input[name=buildings][value='1栋']")
    await page.check("input[name=buildings][value='3栋']")
    await page.select_option("select[name=kind]", "weather")
    await page.click("button[name=preview]")
    reach = await page.locator(".preview").inner_text()
    # 张伟 (1-0101 and 3-0801, bound) and 李娜 (1-0502, not bound).
    assert "将邀请 3 户" in reach and "共 2 位业主，其中 1 位已绑定，推送到 1 个聊天账号" in reach
    assert "另有 1 位业主尚未绑定" in reach
    async with runtime.uow() as uow:
        assert await uow.surveys.campaigns(10) == []  # a preview starts nothing
    await page.screenshot(path=shots / "campaign_preview.png", full_page=True)

    await page.click(".preview button.start")
    await page.wait_for_selector(".flash.ok")
    row = page.locator("table.campaigns tbody tr").first
    assert "恶劣天气后回访" in await row.inner_text() and "1栋、3栋" in await row.inner_text()
    assert await row.locator("td.invited").inner_text() == "3"
    assert await row.locator("td.sent").inner_text() == "0"

    assert (await runtime.surveys.send_due())[0] == 2  # 张伟's two homes; 李娜 unreachable
    [(_, text, buttons), _] = await survey_pushes(runtime)
    assert "恶劣天气后回访" in text
    await bound_chat.press(buttons[0])
    await answer_in_chat(bound_chat, 5, comment="一切正常")
    await page.reload()
    row = page.locator("table.campaigns tbody tr").first
    counts = [await row.locator(f"td.{c}").inner_text() for c in ("sent", "answered")]
    assert counts == ["2", "1 (50%)"]
    assert await row.locator("td.unreachable").inner_text() == "1"
    assert await row.locator("td:nth-child(11)").inner_text() == "staff:zhuguan"
    await page.screenshot(path=shots / "campaigns.png", full_page=True)

    await page.click("header a:has-text('English')")
    await page.wait_for_selector("h1:has-text('Revisits')")
    assert "Follow-up after severe weather" in await page.locator("table.campaigns").inner_text()
    await page.screenshot(path=shots / "campaigns_en.png", full_page=True)
