"""Repair reports as whole conversations through the real engine, on SQLite and PostgreSQL.

The clock stands at 2026-11-23 10:00 in Shanghai. 张伟 owns 翠湖花园 1栋-1-0101 (handed
over 2023-06-30) and 3栋-3-0801 (2025-09-20); 李娜 owns 1栋-1-0502 (2021-12-15).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from PIL import Image

from bot.app.bootstrap import Runtime, build_runtime
from bot.channels.console import ConsoleChannel
from bot.domain.repair import Urgency
from bot.domain.roster import Account
from bot.domain.tickets import Actor, ActorKind, NewTicket, Ticket, TicketStatus
from bot.domain.warranty import WarrantyDecision, WarrantyStatus
from bot.services.tickets import change_ticket_status
from bot.settings import Settings
from tests.support import Chat, FakeClock


def image(tmp_path: Path, name: str = "leak.png", color: str = "blue") -> str:
    path = tmp_path / name
    Image.new("RGB", (40, 30), color).save(path)
    return str(path)


async def account_of(runtime: Runtime, chat: Chat) -> Account:
    async with runtime.uow() as uow:
        account = await uow.accounts.find(chat.channel, chat.user_id)
    assert account is not None and account.owner_id is not None
    return account


async def tickets_of(runtime: Runtime, chat: Chat) -> list[Ticket]:
    owner_id = (await account_of(runtime, chat)).owner_id
    async with runtime.uow() as uow:
        return await uow.tickets.list_for_owner(owner_id or 0, 50)


async def report(chat: Chat, category: str, description: str, home: str | None = None) -> None:
    """From "报修" to the summary, without photos."""
    await chat.say("报修")
    if home is not None:
        await chat.press(chat.button(home))
    await chat.press(f"repair:cat:{category}")
    if "repair:similar:new" in chat.buttons.values():
        await chat.press("repair:similar:new")
    await chat.say(description)
    await chat.press("repair:done")
    await chat.press("repair:loc:kitchen")
    await chat.press("repair:when:anytime")


async def test_a_whole_repair_in_chinese_with_a_photo_and_the_warranty_answer(
    bound_chat: Chat, runtime: Runtime, tmp_path: Path
) -> None:
    chat = bound_chat
    await chat.say("报修")
    assert "哪一套房屋" in chat.text
    await chat.press(chat.button("3栋-3-0801"))
    assert "报修类别" in chat.text
    await chat.press(chat.button("给排水管道"))
    await chat.say("厨房水管接口漏水，地面都湿了")
    assert "照片" in chat.text
    await chat.photo(image(tmp_path))
    assert "第 1 张" in chat.text
    await chat.say("完成")
    assert "哪个位置" in chat.text
    await chat.press(chat.button("厨房"))
    await chat.say("工作日晚上七点以后")
    assert "在保修期内（至 2027-09-20）" in chat.text
    assert "紧急" in chat.text and "照片：1 张" in chat.text
    await chat.press("repair:submit")
    assert "BX-20261123-0001" in chat.text
    assert "2026-11-23 11:00" in chat.text  # urgent: contact within 1 hour

    [ticket] = await tickets_of(runtime, chat)
    assert ticket.status is TicketStatus.SUBMITTED
    assert ticket.warranty == WarrantyDecision(WarrantyStatus.IN_WARRANTY, date(2027, 9, 20))
    assert ticket.urgency is Urgency.URGENT
    assert ticket.location == "厨房" and ticket.contact_time == "工作日晚上七点以后"
    assert len(ticket.photos) == 1
    assert runtime.services.media.path_of(ticket.photos[0]).exists()


async def test_a_whole_repair_in_english_out_of_warranty(
    new_chat: Callable[..., Chat], demo_codes: dict[str, str], runtime: Runtime, tmp_path: Path
) -> None:
    chat = new_chat("li-na", language="en-US")
    await chat.say(f"/start {demo_codes['李娜']}")
    await chat.say("repair")
    assert "What kind of problem" in chat.text  # one home: no home question
    await chat.press(chat.button("Plumbing"))
    await chat.say("The bathroom drain is blocked")
    await chat.photo(image(tmp_path))
    assert "Photo 1 received" in chat.text
    await chat.press(chat.button("Done"))
    await chat.press(chat.button("Bathroom"))
    await chat.press(chat.button("Weekends"))
    assert "Out of warranty (ended 2023-12-15)" in chat.text
    assert "Urgency: Normal" in chat.text
    await chat.press(chat.button("Submit"))
    assert "Ticket number: BX-20261123-0001" in chat.text

    [ticket] = await tickets_of(runtime, chat)
    assert ticket.warranty.status is WarrantyStatus.OUT_OF_WARRANTY
    assert ticket.contact_time == "Weekends"


async def test_unknown_handover_date_asks_for_an_assessment(
    new_chat: Callable[..., Chat], demo_codes: dict[str, str]
) -> None:
    chat = new_chat("zhao-min")
    await chat.say(f"绑定 {demo_codes['赵敏']}")  # 锦绣园 B-0303 has no handover date on file
    await report(chat, "electrical", "客厅插座没电")
    assert "暂未查到交房日期" in chat.text


async def test_bad_photos_are_refused_and_the_draft_stays(
    bound_chat: Chat, runtime: Runtime, tmp_path: Path
) -> None:
    chat = bound_chat
    await chat.say("报修")
    await chat.press(chat.button("1栋-1-0101"))
    await chat.press("repair:cat:walls_floors")
    await chat.say("客厅墙面开裂")
    not_an_image = tmp_path / "report.pdf"
    not_an_image.write_bytes(b"%PDF-1.4 definitely not a picture")
    await chat.photo(str(not_an_image))
    assert "不是图片" in chat.text and "内容都还在" in chat.text
    oversize = tmp_path / "huge.jpg"
    oversize.write_bytes(b"\xff" * (runtime.services.media.max_bytes + 1))
    await chat.photo(str(oversize))
    assert "太大" in chat.text
    await chat.photo(image(tmp_path))
    assert "第 1 张" in chat.text  # the refused ones were not counted
    await chat.press("repair:done")
    await chat.press("repair:loc:living_room")
    await chat.press("repair:when:weekend")
    assert "客厅墙面开裂" in chat.text and "照片：1 张" in chat.text
    assert "以《质量保证书》为准" in chat.text  # walls and floors: no period in the sources


async def test_back_returns_to_the_question_seen_and_cancel_discards(
    bound_chat: Chat, runtime: Runtime
) -> None:
    chat = bound_chat
    await chat.say("报修")
    await chat.press(chat.button("1栋-1-0101"))
    await chat.press("repair:cat:plumbing")
    assert "描述问题" in chat.text
    await chat.press("repair:back")
    assert "报修类别" in chat.text
    await chat.press("repair:back")
    assert "哪一套房屋" in chat.text
    await chat.press(chat.button("3栋-3-0801"))
    await chat.press("repair:cat:electrical")
    await chat.say("卧室灯不亮")
    await chat.press("flow:cancel")
    assert "已取消" in chat.text
    await chat.say("报修")
    assert "继续填写" not in " ".join(chat.buttons)  # nothing left to resume
    assert await tickets_of(runtime, chat) == []


async def test_a_restart_mid_flow_loses_nothing(
    bound_chat: Chat,
    database_url: str,
    make_settings: Callable[..., Settings],
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    await bound_chat.say("报修")
    await bound_chat.press(bound_chat.button("3栋-3-0801"))
    await bound_chat.press("repair:cat:roof_waterproofing")
    restarted = build_runtime(
        make_settings(database_url=database_url), clock=clock, with_channels=False
    )
    restarted.services.gateways["console"] = ConsoleChannel()
    try:
        chat = Chat(restarted, user_id=bound_chat.user_id)
        await chat.say("顶楼天花板下雨后渗水")
        assert "请发送问题部位的照片" in chat.text
        await chat.photo(image(tmp_path))
        await chat.press("repair:done")
        await chat.press("repair:loc:bedroom")
        await chat.press("repair:when:anytime")
        assert "顶楼天花板下雨后渗水" in chat.text and "至 2030-09-20" in chat.text
    finally:
        await restarted.close()


async def test_an_owner_returning_days_later_is_offered_the_unfinished_report(
    bound_chat: Chat, clock: FakeClock
) -> None:
    chat = bound_chat
    await chat.say("报修")
    await chat.press(chat.button("3栋-3-0801"))
    await chat.press("repair:cat:electrical")
    await chat.say("全屋跳闸停电")
    clock.advance(days=3)
    await chat.say("菜单")
    await chat.say("报修")
    assert "还没提交" in chat.text
    await chat.press(chat.button("继续填写"))
    assert "照片" in chat.text  # back where the owner left off
    await chat.press("repair:done")
    await chat.press("repair:loc:whole_home")
    await chat.press("repair:when:anytime")
    assert "全屋跳闸停电" in chat.text and "紧急" in chat.text


async def test_start_over_drops_the_unfinished_report(bound_chat: Chat) -> None:
    chat = bound_chat
    await chat.say("报修")
    await chat.press(chat.button("3栋-3-0801"))
    await chat.say("进度")  # another flow pauses the draft
    await chat.say("报修")
    await chat.press(chat.button("重新开始"))
    assert "哪一套房屋" in chat.text
    await chat.say("进度")
    await chat.say("报修")
    assert "还没提交" in chat.text  # the new draft (at its first step) is kept in turn


async def test_leaving_the_offer_to_continue_keeps_the_draft(bound_chat: Chat) -> None:
    chat = bound_chat
    await chat.say("报修")
    await chat.press(chat.button("3栋-3-0801"))
    await chat.press("repair:cat:structure")
    await chat.say("承重墙有裂缝")
    await chat.say("进度")
    await chat.say("报修")
    await chat.say("产权证")  # walks away from the offer itself
    await chat.say("报修")
    await chat.say("随便说点什么")  # not an answer: the offer stays
    assert "还没提交" in chat.text
    await chat.press(chat.button("继续填写"))
    await chat.press("repair:done")
    await chat.press("repair:loc:living_room")
    await chat.press("repair:when:anytime")
    assert "承重墙有裂缝" in chat.text and "房屋主体结构的保修期限为设计使用年限" in chat.text
    assert "《质量保证书》" in chat.text and "2075" not in chat.text  # no design life entered


async def test_a_design_life_entered_for_the_project_dates_the_structure_as_the_companys(
    bound_chat: Chat, runtime: Runtime
) -> None:
    rules = runtime.services.rules
    repair = dataclasses.replace(rules.repair, design_life_years={"翠湖花园": 50})
    runtime.services.rules = dataclasses.replace(rules, repair=repair)
    await report(bound_chat, "structure", "承重墙有裂缝", home="3栋-3-0801")
    assert "本公司为您所在项目登记的设计使用年限" in bound_chat.text
    assert "保修至 2075-09-20" in bound_chat.text


async def test_a_report_at_night_is_answered_from_the_next_service_hour(
    bound_chat: Chat, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 11, 23, 20, 4, tzinfo=UTC)  # 04:04 Tuesday in Shanghai
    await report(bound_chat, "walls_floors", "客厅墙面起皮", home="3栋-3-0801")
    await bound_chat.press("repair:submit")
    assert "客服会在 2026-11-24 10:00 前与您联系" in bound_chat.text  # 08:00 + 2 service hours
    assert "2026-11-25 08:00 前安排人员上门查看" in bound_chat.text
    assert "06:04" not in bound_chat.text


async def test_a_structural_problem_is_promised_a_plan_not_a_fix(bound_chat: Chat) -> None:
    await report(bound_chat, "structure", "阳台楼板有细小裂纹", home="3栋-3-0801")
    await bound_chat.press("repair:submit")
    # normal priority, 5 working days (DEFAULT complex_days) from Monday 10:00
    assert "我们会在 2026-11-30 10:00 前给出解决方案和处理时间" in bound_chat.text
    await bound_chat.say("进度")
    await bound_chat.press(bound_chat.button("BX-20261123-0001"))
    assert "给出解决方案和处理时间：2026-11-30 10:00 前" in bound_chat.text
    assert "预计解决" not in bound_chat.text


async def test_an_open_ticket_of_the_same_kind_can_take_the_new_report(
    bound_chat: Chat, runtime: Runtime, tmp_path: Path
) -> None:
    chat = bound_chat
    await report(chat, "plumbing", "厨房下水慢", home="3栋-3-0801")
    await chat.press("repair:submit")
    await chat.say("报修")
    await chat.press(chat.button("3栋-3-0801"))
    await chat.press("repair:cat:plumbing")
    assert "BX-20261123-0001" in chat.text and "补充到原工单" in chat.text
    await chat.press("repair:similar:add")
    await chat.say("现在完全堵住了")
    await chat.photo(image(tmp_path))
    await chat.press("repair:done")
    assert "补充到原工单" in chat.text and "现在完全堵住了" in chat.text
    await chat.press("repair:submit")
    assert "已补充到工单 BX-20261123-0001" in chat.text

    [ticket] = await tickets_of(runtime, chat)
    async with runtime.uow() as uow:
        events = await uow.tickets.events(ticket.id)
    assert events[-1].note == "现在完全堵住了" and len(events[-1].photos) == 1


async def test_a_third_repair_of_the_same_kind_is_flagged_as_a_repeat(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    chat = bound_chat
    staff = Actor(ActorKind.STAFF, "wang")
    for _ in range(2):
        await report(chat, "electrical", "卧室插座没电", home="1栋-1-0101")
        await chat.press("repair:submit")
        ticket = (await tickets_of(runtime, chat))[0]
        async with runtime.uow() as uow:
            for status in ("accepted", "dispatched", "in_progress", "completed", "closed"):
                await change_ticket_status(
                    uow,
                    ticket.id,
                    TicketStatus(status),
                    staff,
                    clock(),
                    runtime.services.texts,
                    survey_delay=runtime.settings.survey_delay,
                )
            await uow.commit()
        clock.advance(days=20)
    await report(chat, "electrical", "卧室插座又没电了", home="1栋-1-0101")
    await chat.press("repair:submit")
    assert "维修过多次" in chat.text
    newest = (await tickets_of(runtime, chat))[0]
    assert newest.is_repeat and newest.number.startswith("BX-20270102-")


async def test_ticket_numbers_stay_unique_when_reports_arrive_together(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    account = await account_of(runtime, bound_chat)
    assert account.owner_id is not None
    async with runtime.uow() as uow:
        home = (await uow.roster.homes_of_owner(account.owner_id))[0]
    report = NewTicket(
        unit_id=home.unit_id,
        owner_id=account.owner_id,
        account_id=account.id,
        category="other",
        description="门铃坏了",
        location="",
        contact_time="",
        photos=(),
        urgency=Urgency.NORMAL,
        warranty=WarrantyDecision(WarrantyStatus.NEEDS_ASSESSMENT),
        is_repeat=False,
        respond_by=clock(),
        visit_by=clock(),
        resolve_by=clock(),
        local_day=date(2026, 11, 23),
    )
    actor = Actor(ActorKind.OWNER, str(account.owner_id))

    async def submit() -> str:
        async with runtime.uow() as uow:
            ticket = await uow.tickets.add(report, actor, clock())
            await uow.commit()
            return ticket.number

    numbers = await asyncio.gather(*(submit() for _ in range(8)))
    assert sorted(numbers) == [f"BX-20261123-{n:04d}" for n in range(1, 9)]
