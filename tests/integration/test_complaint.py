"""Complaints and hand-off to a person: the rows the staff side picks up, and what the owner is
told. The clock stands at Monday 2026-11-23 10:00 in Shanghai, inside service hours."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from bot.app.bootstrap import Runtime
from bot.domain.complaints import (
    ComplaintGrade,
    Escalation,
    EscalationReason,
    EscalationStatus,
    MessageAuthor,
)
from bot.storage.models import Complaint as ComplaintRow
from bot.storage.models import Escalation as EscalationRow
from tests.support import Chat, FakeClock


async def escalation_of(runtime: Runtime, chat: Chat) -> Escalation | None:
    async with runtime.uow() as uow:
        account = await uow.accounts.find(chat.channel, chat.user_id)
        assert account is not None
        return await uow.escalations.open_for_account(account.id)


async def test_a_complaint_gets_a_provisional_grade_and_waits_for_staff(
    bound_chat: Chat, runtime: Runtime, tmp_path: Path
) -> None:
    chat = bound_chat
    await chat.say("投诉")
    assert "报修" in chat.text and "投诉" in chat.text  # which one is meant?
    await chat.press("complaint:kind:complaint")
    await chat.say("车库长期积水")  # typed where a home is to be picked
    assert "请点选" in chat.text and "哪一套房屋" in chat.text
    await chat.press(chat.button("1栋-1-0101"))
    await chat.say("车库长期积水没人管，业主们说要拉横幅")
    await chat.press(chat.button("物业服务"))
    await chat.press(chat.button("多户"))
    photo = tmp_path / "garage.png"
    Image.new("RGB", (30, 30), "green").save(photo)
    await chat.photo(str(photo))
    await chat.press("complaint:done")
    assert "拉横幅" in chat.text and "多户" in chat.text and "照片：1 张" in chat.text
    await chat.press("complaint:submit")
    assert "TS-" in chat.text and "2026-11-23 11:00" in chat.text  # 督办令 within 1 hour
    assert "027-00000000" in chat.text

    async with runtime.uow() as uow:
        [row] = (await uow.session.execute(select(ComplaintRow))).scalars()
        complaint = await uow.complaints.get(row.id)
    assert complaint is not None
    assert complaint.details.proposal.grade is ComplaintGrade.G1
    assert "company_keyword:拉横幅" in complaint.details.proposal.reasons
    assert complaint.grade is None  # staff decide
    assert complaint.details.order_due == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    assert len(complaint.details.photos) == 1
    escalation = await escalation_of(runtime, chat)
    assert escalation is not None
    assert escalation.reason is EscalationReason.COMPLAINT
    assert escalation.status is EscalationStatus.WAITING
    assert escalation.complaint_id == complaint.id
    assert escalation.due_at == complaint.details.order_due


async def test_a_grade_one_complaint_at_night_starts_at_once_in_plain_words(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 11, 23, 20, 4, tzinfo=UTC)  # 04:04 in Shanghai
    chat = bound_chat
    await chat.say("投诉")
    await chat.press("complaint:kind:complaint")
    await chat.press(chat.button("1栋-1-0101"))
    await chat.say("车库一直积水，业主们明天要去上访政府")
    await chat.press("complaint:topic:quality")
    await chat.press(chat.button("10 人以上一起反映"))
    await chat.press("complaint:done")
    await chat.press("complaint:submit")
    assert "马上交给项目负责人" in chat.text and "2026-11-24 05:04" in chat.text
    assert "督办令" not in chat.text and "09:00" not in chat.text
    async with runtime.uow() as uow:
        [row] = (await uow.session.execute(select(ComplaintRow))).scalars()
        complaint = await uow.complaints.get(row.id)
    assert complaint is not None
    assert complaint.details.proposal.grade is ComplaintGrade.G1
    assert {"keyword:上访政府", "people:10"} <= set(complaint.details.proposal.reasons)
    assert complaint.details.order_due == datetime(2026, 11, 23, 21, 4, tzinfo=UTC)


async def test_an_ordinary_complaint_at_night_is_told_the_time_from_the_next_service_hour(
    bound_chat: Chat, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 11, 23, 20, 4, tzinfo=UTC)  # 04:04 in Shanghai
    await bound_chat.say("投诉")
    await bound_chat.press("complaint:kind:complaint")
    await bound_chat.press(bound_chat.button("1栋-1-0101"))
    await bound_chat.say("保安态度不好")
    await bound_chat.press("complaint:topic:property_service")
    await bound_chat.press("complaint:households:1")
    await bound_chat.press("complaint:done")
    await bound_chat.press("complaint:submit")
    assert "我们会在 2026-11-24 09:00 前把您的投诉交给负责的部门" in bound_chat.text
    assert "督办令" not in bound_chat.text


async def test_a_single_household_service_complaint_is_grade_three(
    bound_chat: Chat, runtime: Runtime
) -> None:
    chat = bound_chat
    await chat.say("complaint")
    await chat.press("complaint:kind:complaint")
    await chat.press(chat.button("3栋-3-0801"))
    await chat.say("保安态度不好")
    await chat.press("complaint:topic:property_service")
    await chat.press("complaint:households:1")
    await chat.say("完成")
    await chat.press("complaint:submit")
    async with runtime.uow() as uow:
        [(grade, reasons)] = (
            await uow.session.execute(
                select(ComplaintRow.provisional_grade, ComplaintRow.grade_reasons)
            )
        ).all()
    assert grade == "G3" and reasons == []


async def test_complaint_meaning_a_repair_goes_to_the_repair_report(bound_chat: Chat) -> None:
    await bound_chat.say("投诉")
    await bound_chat.press("complaint:kind:repair")
    assert "哪一套房屋" in bound_chat.text
    await bound_chat.press(bound_chat.button("1栋-1-0101"))
    assert "报修类别" in bound_chat.text


async def test_back_from_the_topic_shows_the_description_question_again(
    bound_chat: Chat,
) -> None:
    await bound_chat.say("投诉")
    await bound_chat.press("complaint:kind:complaint")
    await bound_chat.press(bound_chat.button("1栋-1-0101"))
    await bound_chat.say("电梯经常坏")
    await bound_chat.press("complaint:back")
    assert "描述您要投诉的问题" in bound_chat.text


async def test_an_unbound_user_reaches_a_person_and_their_messages_are_kept(
    chat: Chat, runtime: Runtime, tmp_path: Path
) -> None:
    await chat.say("人工")
    assert "08:00-18:00" in chat.text and "2026-11-23 10:30" in chat.text
    await chat.say("我想买房，请问还有房源吗")
    assert "已转给客服" in chat.text
    photo = tmp_path / "ad.png"
    Image.new("RGB", (10, 10), "red").save(photo)
    await chat.photo(str(photo))
    bad = tmp_path / "x.png"
    bad.write_bytes(b"not really")
    await chat.photo(str(bad))
    assert "不是图片" in chat.text

    escalation = await escalation_of(runtime, chat)
    assert escalation is not None and escalation.owner_id is None
    assert escalation.reason is EscalationReason.HUMAN_REQUESTED
    async with runtime.uow() as uow:
        messages = await uow.escalations.messages(escalation.id)
    assert [m.text for m in messages] == ["我想买房，请问还有房源吗", ""]
    assert {m.author_kind for m in messages} == {MessageAuthor.OWNER}
    assert messages[1].photo_path is not None

    await chat.press("handoff:end")
    assert "已结束人工服务" in chat.text
    assert await escalation_of(runtime, chat) is None


async def test_asking_again_while_waiting_keeps_one_escalation(
    chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    clock.advance(hours=12)  # 22:00 local: answered from 08:00 next morning
    await chat.say("转人工")
    assert "2026-11-24 08:30" in chat.text
    end_button = chat.button("结束人工服务")
    await chat.say("菜单")
    await chat.say("human")
    assert "已经在等待" in chat.text
    async with runtime.uow() as uow:
        count = len((await uow.session.execute(select(EscalationRow.id))).all())
    assert count == 1
    await chat.say("菜单")
    await chat.press(end_button)  # from the older message, outside the flow
    assert "已结束人工服务" in chat.text
    assert await escalation_of(runtime, chat) is None


async def test_when_staff_close_it_the_waiting_ends(chat: Chat, runtime: Runtime) -> None:
    await chat.say("人工")
    escalation = await escalation_of(runtime, chat)
    assert escalation is not None
    async with runtime.uow() as uow:
        await uow.escalations.close(escalation.id, datetime(2026, 11, 23, 3, tzinfo=UTC), "x")
        await uow.commit()
    await chat.say("还在吗？")
    assert "人工服务已结束" in chat.text
    async with runtime.uow() as uow:
        assert await uow.escalations.messages(escalation.id) == []
