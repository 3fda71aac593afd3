"""Owners who type (issue 17): every example sentence of the issue through the real engine, on
SQLite and PostgreSQL. 张伟 owns two homes; 李娜 one (1栋-1-0502, handed over 2021-12-15).
The clock stands at Monday 2026-11-23 10:00 in Shanghai."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app.bootstrap import Runtime
from bot.domain.complaints import ComplaintGrade
from bot.engine.types import VOICE, MessageKind
from bot.storage.models import Complaint as ComplaintRow
from tests.integration.test_complaint import escalation_of
from tests.integration.test_repair import image, tickets_of
from tests.support import Chat

REPAIR_SENTENCES = [
    "我家卫生间漏水了，楼下都渗了",
    "报修 厨房水管漏水",
    "我要报修，卫生间漏水",
    "我家厨房水管漏水了，师傅能不能今天来",
    "我家卫生间天花板漏水了怎么办",
]


@pytest.fixture
async def lina(new_chat: Callable[..., Chat], demo_codes: dict[str, str]) -> Chat:
    """李娜, owner of one home, bound."""
    chat = new_chat("lina")
    await chat.say(f"绑定 {demo_codes['李娜']}")
    assert "绑定成功" in chat.text
    return chat


async def staff_messages(runtime: Runtime, chat: Chat) -> list[str]:
    escalation = await escalation_of(runtime, chat)
    assert escalation is not None
    async with runtime.uow() as uow:
        messages = await uow.escalations.messages(escalation.id)
    return [message.text for message in messages]


@pytest.mark.parametrize("sentence", REPAIR_SENTENCES)
async def test_a_repair_sentence_opens_the_report_with_the_description_kept(
    lina: Chat, sentence: str
) -> None:
    await lina.say(sentence)
    assert "已记下您的描述" in lina.text
    assert "没有确切的资料" not in lina.text
    await lina.press(lina.buttons.get("给排水管道", "repair:cat:plumbing"))
    if "照片" not in lina.text:  # the category was not clear: it was asked
        await lina.press("repair:cat:plumbing")
    assert "照片" in lina.text
    await lina.press("repair:done")
    if "哪个位置" in lina.text:
        await lina.press("repair:loc:bathroom")
    assert "请核对报修信息" in lina.text
    description = sentence.removeprefix("报修 ").removeprefix("我要报修，")
    assert f"问题：{description}" in lina.text


async def test_a_typed_repair_naming_the_place_with_a_photo_takes_four_turns(
    lina: Chat, runtime: Runtime, tmp_path: Path
) -> None:
    await lina.say("报修 厨房水管漏水")  # 1: the problem
    await lina.photo(image(tmp_path))  # 2: the photo
    await lina.say("完成")  # 3: done
    assert "类别：给排水管道" in lina.text and "位置：厨房" in lina.text
    assert "紧急" in lina.text and "照片：1 张" in lina.text
    await lina.say("1")  # 4: confirm (the first button is "submit")
    assert "工单号：BX-20261123-0001" in lina.text
    [ticket] = await tickets_of(runtime, lina)
    assert (ticket.description, ticket.location, len(ticket.photos)) == ("厨房水管漏水", "厨房", 1)


async def test_the_assumed_contact_time_can_be_changed_before_submitting(lina: Chat) -> None:
    await lina.say("厨房水管漏水了")
    await lina.press("repair:done")
    assert "联系时间：随时" in lina.text
    await lina.press("repair:contact")
    await lina.press("repair:when:evening")
    assert "请核对报修信息" in lina.text and "联系时间：随时" not in lina.text


async def test_report_a_repair_without_details_asks_everything(lina: Chat) -> None:
    await lina.say("报个修")
    assert "报修类别" in lina.text and "已记下" not in lina.text


@pytest.mark.parametrize(
    ("said", "answer"),
    [("你好", "您好"), ("谢谢", "不客气"), ("hi", "您好"), ("好的", "好的"), ("你好朋友", "您好")],
)
async def test_small_talk_gets_a_short_answer_and_the_menu(
    lina: Chat, said: str, answer: str
) -> None:
    await lina.say(said)
    assert lina.last[0].text.startswith(answer)
    assert "🔧 报修" in lina.buttons  # the menu
    assert "没有确切的资料" not in lina.text and "您是不是想问" not in lina.text


async def test_small_talk_answers_in_english(new_chat: Callable[..., Chat]) -> None:
    chat = new_chat("en-owner", language="en")
    await chat.say("hi")
    assert chat.last[0].text.startswith("Hello!")


async def test_an_angry_message_opens_a_complaint_with_the_text_kept(
    lina: Chat, runtime: Runtime
) -> None:
    said = "你们物业太垃圾了，漏水半个月都没人管！！"
    await lina.say(said)
    assert f"已记下您的投诉内容：“{said}”" in lina.text
    assert "投诉主要涉及哪方面" not in lina.text  # 物业: the topic is implied
    assert "涉及多少户" in lina.text  # the households are not: asked
    await lina.press(lina.button("只有我家"))
    await lina.press("complaint:done")
    assert "方面：物业服务" in lina.text and "影响：只有我家" in lina.text
    await lina.press("complaint:submit")
    assert "TS-" in lina.text


async def test_a_group_threat_is_a_complaint_asking_only_for_photos_then_confirmed(
    lina: Chat, runtime: Runtime
) -> None:
    await lina.say("整栋楼外墙都在渗水，好多户都受影响，再不处理我们就拉横幅上访")
    assert "已记下您的投诉内容" in lina.text
    assert "投诉主要涉及哪方面" not in lina.text and "涉及多少户" not in lina.text
    assert "照片" in lina.text
    await lina.press("complaint:done")
    assert "方面：重大质量问题" in lina.text and "影响：多户（2 户及以上）" in lina.text
    assert "✏️ 修改方面或影响范围" in lina.buttons
    await lina.press("complaint:submit")
    assert "TS-" in lina.text
    async with runtime.uow() as uow:
        [row] = (await uow.session.execute(select(ComplaintRow))).scalars()
        complaint = await uow.complaints.get(row.id)
    assert complaint is not None and complaint.details.proposal.grade is ComplaintGrade.G1
    assert (complaint.details.topic, complaint.details.households) == ("major_quality", 2)


async def test_an_implied_topic_and_households_can_be_changed_before_filing(
    lina: Chat, runtime: Runtime
) -> None:
    await lina.say("整栋楼外墙都在渗水，好多户都受影响")
    assert {"🔧 报修（安排维修）", "📣 投诉"} <= set(lina.buttons)  # a repair or a complaint?
    await lina.press("clarify:pick:complaint")
    assert "已记下您的投诉内容" in lina.text and "照片" in lina.text
    await lina.press("complaint:done")
    assert "方面：重大质量问题" in lina.text and "影响：多户（2 户及以上）" in lina.text
    await lina.press("complaint:change")
    assert "投诉主要涉及哪方面" in lina.text
    await lina.press(lina.button("房屋质量"))
    assert "涉及多少户" in lina.text
    await lina.press(lina.button("只有我家"))
    await lina.press("complaint:done")
    assert "方面：房屋质量" in lina.text and "影响：只有我家" in lina.text
    assert "✏️ 修改方面或影响范围" not in lina.buttons
    await lina.press("complaint:submit")
    async with runtime.uow() as uow:
        [row] = (await uow.session.execute(select(ComplaintRow))).scalars()
        complaint = await uow.complaints.get(row.id)
    assert complaint is not None
    assert (complaint.details.topic, complaint.details.households) == ("quality", 1)


async def test_complaining_about_the_manager_files_a_complaint_not_a_plain_hand_off(
    lina: Chat,
) -> None:
    await lina.say("我要投诉你们物业经理")
    assert "已记下您的投诉内容" in lina.text and "涉及多少户" in lina.text


async def test_asking_for_the_manager_hands_off_with_the_words_kept(
    lina: Chat, runtime: Runtime
) -> None:
    await lina.say("我要跟你们经理说话")
    assert "转接人工客服" in lina.text
    assert await staff_messages(runtime, lina) == ["我要跟你们经理说话"]


async def test_an_emergency_gets_the_hotline_staff_and_a_prefilled_repair_report_at_once(
    lina: Chat, runtime: Runtime, tmp_path: Path
) -> None:
    await lina.say("厨房水管爆了 水流了一地 急！！！")  # 1: the problem
    assert "027-00000000" in lina.last[0].text  # the company hotline from rules.yaml
    assert "转接人工客服" in lina.text
    assert await staff_messages(runtime, lina) == ["厨房水管爆了 水流了一地 急！！！"]
    escalation = await escalation_of(runtime, lina)
    assert escalation is not None and escalation.reason.value == "emergency"
    assert "已记下您的描述" in lina.text and "照片" in lina.text
    await lina.photo(image(tmp_path))  # 2: the photo
    await lina.say("完成")  # 3: done
    assert "问题：厨房水管爆了 水流了一地 急！！！" in lina.text
    assert "类别：给排水管道" in lina.text and "位置：厨房" in lina.text and "紧急" in lina.text
    await lina.say("1")  # 4: confirm
    assert "工单号：BX-20261123-0001" in lina.text
    [ticket] = await tickets_of(runtime, lina)
    assert (ticket.location, len(ticket.photos)) == ("厨房", 1)
    assert await escalation_of(runtime, lina) is not None  # staff still come


async def test_an_unbound_owners_emergency_gets_the_hotline_and_a_person(
    new_chat: Callable[..., Chat], runtime: Runtime
) -> None:
    stranger = new_chat("stranger")
    await stranger.say("家里煤气味很大")
    assert "027-00000000" in stranger.last[0].text and "转接人工客服" in stranger.text
    assert "报修单" not in stranger.text
    assert await staff_messages(runtime, stranger) == ["家里煤气味很大"]


async def test_a_question_at_the_description_step_is_answered_and_the_step_asked_again(
    lina: Chat,
) -> None:
    await lina.say("报修")
    await lina.press("repair:cat:plumbing")
    await lina.say("物业费怎么交")
    assert "物业费" in lina.last[0].text
    assert "请描述问题" in lina.text
    await lina.say("厨房水槽下面的管子漏水")
    assert "照片" in lina.text
    await lina.press("repair:done")
    await lina.press("repair:loc:kitchen")
    await lina.press("repair:when:anytime")
    assert "问题：厨房水槽下面的管子漏水" in lina.text and "物业费" not in lina.text


@pytest.mark.parametrize("word", ["算了不报了", "不报了", "算了", "取消", "cancel"])
async def test_cancel_words_work_at_the_photo_step(lina: Chat, word: str) -> None:
    await lina.say("厨房水管漏水了")
    assert "照片" in lina.text
    await lina.say(word)
    assert "已取消" in lina.text or "cancelled" in lina.text.lower()
    assert "🔧 报修" in lina.buttons


@pytest.mark.parametrize("word", ["返回", "上一步", "back"])
async def test_back_words_work_at_the_photo_step(lina: Chat, word: str) -> None:
    await lina.say("报修")
    await lina.press("repair:cat:doors_windows")
    await lina.say("阳台门关不上")
    assert "照片" in lina.text
    await lina.say(word)
    assert "请描述问题" in lina.text


async def test_menu_word_leaves_the_form_and_keeps_the_draft(lina: Chat) -> None:
    await lina.say("厨房水管漏水了")
    await lina.say("菜单")
    assert "🔧 报修" in lina.buttons
    await lina.say("报修")
    assert "继续" in lina.text  # the paused draft is offered back


async def test_giving_up_in_a_ticket_comment_is_not_saved_as_a_comment(
    lina: Chat, runtime: Runtime
) -> None:
    await lina.say("报修 厨房水管漏水")
    await lina.press("repair:done")
    await lina.press("repair:submit")
    [ticket] = await tickets_of(runtime, lina)
    await lina.press(f"tickets:comment:{ticket.id}")
    await lina.say("不修了，我自己找人修")
    assert "已补充到工单" not in lina.text
    async with runtime.uow() as uow:
        events = await uow.tickets.events(ticket.id)
    assert all("自己找人修" not in (event.note or "") for event in events)


async def test_end_of_hand_off_typed_ends_it_instead_of_reaching_staff(
    lina: Chat, runtime: Runtime
) -> None:
    await lina.say("转人工")
    await lina.say("结束人工服务")
    assert "已结束人工服务" in lina.text
    assert await escalation_of(runtime, lina) is None


async def test_a_photo_outside_a_flow_offers_a_repair_report_with_it(
    lina: Chat, tmp_path: Path
) -> None:
    await lina.photo(image(tmp_path))
    assert "要用这张照片报修吗" in lina.text
    await lina.say("1")
    assert "报修类别" in lina.text
    await lina.press("repair:cat:walls_floors")
    await lina.say("客厅墙皮起鼓")
    await lina.press("repair:done")
    await lina.press("repair:loc:living_room")
    await lina.press("repair:when:anytime")
    assert "照片：1 张" in lina.text


async def test_my_certificate_question_shows_the_owners_case(bound_chat: Chat) -> None:
    await bound_chat.say("我的房产证办到哪了")
    assert "办证进度" in bound_chat.text  # which of his two homes: his own cases
    assert "没有确切的资料" not in bound_chat.text


async def test_my_repairs_question_opens_the_owners_tickets(lina: Chat) -> None:
    await lina.say("我报的修怎么样了")
    assert "工单" in lina.text and "没有确切的资料" not in lina.text


async def test_a_question_that_may_be_a_repair_asks_which_one(lina: Chat) -> None:
    await lina.say("水管坏了保修吗")
    assert "您是想" in lina.text
    await lina.press(lina.button("了解相关规定"))
    assert "2年" in lina.text
    await lina.say("水管坏了保修吗")
    await lina.press(lina.button("报修"))
    assert "已记下您的描述" in lina.text


@pytest.mark.parametrize("question", ["物业费可以微信交吗", "过了保修期修要钱吗"])
async def test_fresh_questions_get_an_answer_or_a_choice_never_i_dont_know(
    lina: Chat, question: str
) -> None:
    await lina.say(question)
    assert "没有确切的资料" not in lina.text


async def test_voice_without_recognition_asks_politely_to_type(lina: Chat) -> None:
    await lina.send(kind=MessageKind.UNSUPPORTED, payload=VOICE)
    assert "语音" in lina.text and "🔧 报修" not in lina.text
    assert lina.buttons  # the menu button
