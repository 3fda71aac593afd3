"""The hand-off as the services run it: claim, silence, relay, notes, transfer, close, rating.
The clock stands at Monday 2026-11-23 10:00 in Shanghai, inside service hours."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.app.bootstrap import Runtime
from bot.domain.complaints import EscalationError, EscalationStatus, MessageAuthor, Satisfaction
from bot.domain.staff import StaffRole, StaffUser
from bot.services import escalations
from bot.storage.models import AuditLog
from tests.staff.support import make_staff, pushes
from tests.support import Chat, FakeClock


async def open_escalation(runtime: Runtime, chat: Chat) -> int:
    await chat.say("人工")
    async with runtime.uow() as uow:
        account = await uow.accounts.find(chat.channel, chat.user_id)
        assert account is not None
        escalation = await uow.escalations.open_for_account(account.id)
    assert escalation is not None
    return escalation.id


async def test_a_claimed_hand_off_is_silent_relayed_and_closed(
    chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    agent = await make_staff(runtime, "wangfang", StaffRole.AGENT, "王芳")
    texts = runtime.services.texts
    escalation_id = await open_escalation(runtime, chat)
    assert await chat.say("我家门口的灯坏了") and "已转给客服" in chat.text
    assert await chat.say("还有楼道也很暗") == []  # acknowledged once only

    async with runtime.uow() as uow:
        claimed = await escalations.claim(uow, texts, escalation_id, agent, clock())
        await uow.commit()
    assert claimed.status is EscalationStatus.ACTIVE and claimed.assigned_to == "wangfang"
    assert "客服王芳正在为您服务" in (await pushes(runtime, chat))[-1]["text"]

    assert await chat.say("你好，在吗") == []
    assert await chat.say("报修") == []  # a shortcut is for the person now, not the bot
    clock.advance(hours=7)  # longer than a flow's idle pause
    assert await chat.say("/menu") == []

    async with runtime.uow() as uow:
        await escalations.reply(uow, texts, escalation_id, agent, "您好，明天上午派人", clock())
        await escalations.add_note(uow, escalation_id, agent, "业主很着急", clock())
        await uow.commit()
    relayed = await pushes(runtime, chat)
    assert relayed[-1]["text"] == "客服王芳：您好，明天上午派人"
    assert relayed[-1]["purpose"] == "escalation_reply"
    assert not any("着急" in push["text"] for push in relayed)  # notes stay with staff

    async with runtime.uow() as uow:
        await escalations.close(uow, texts, escalation_id, agent, clock())
        await uow.commit()
        detail = await escalations.escalation_detail(uow, escalation_id)
    closing = (await pushes(runtime, chat))[-1]
    assert "结束本次人工服务" in closing["text"] and len(closing["buttons"][0]) == 3
    assert detail is not None
    said = [(m.author_kind, m.text) for m in detail.messages if not m.internal]
    assert (MessageAuthor.OWNER, "报修") in said and (MessageAuthor.OWNER, "/menu") in said
    assert said[-1][0] is MessageAuthor.BOT
    assert [m.text for m in detail.messages if m.internal] == ["业主很着急"]

    await chat.say("1")  # WeChat-style numbered answer to the satisfaction question
    assert "感谢您的评价" in chat.text
    await chat.say("报修")  # the bot answers again
    assert "报修" in chat.text or "绑定" in chat.text
    async with runtime.uow() as uow:
        rated = await uow.escalations.get(escalation_id)
        actions = (await uow.session.execute(select(AuditLog.action))).scalars().all()
    assert rated is not None and rated.satisfaction is Satisfaction.SATISFIED
    assert {"escalation_claim", "escalation_reply", "escalation_note", "escalation_close"} <= set(
        actions
    )


async def test_the_owner_ends_an_active_hand_off_with_words(
    chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    agent = await make_staff(runtime, "wangfang", StaffRole.AGENT)
    escalation_id = await open_escalation(runtime, chat)
    async with runtime.uow() as uow:
        await escalations.claim(uow, runtime.services.texts, escalation_id, agent, clock())
        await uow.commit()
    await chat.say("结束人工服务")
    assert "已结束人工服务" in chat.text and "满意" in chat.text
    async with runtime.uow() as uow:
        ended = await uow.escalations.get(escalation_id)
    assert ended is not None and ended.status is EscalationStatus.CLOSED
    assert ended.closed_by == "owner"
    async with runtime.uow() as uow:
        with pytest.raises(EscalationError, match="closed"):
            await escalations.reply(
                uow, runtime.services.texts, escalation_id, agent, "hi", clock()
            )


async def test_only_the_assignee_or_a_supervisor_acts_and_transfer_tells_the_owner(
    chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    texts = runtime.services.texts
    first = await make_staff(runtime, "wangfang", StaffRole.AGENT, "王芳")
    other = await make_staff(runtime, "lilei", StaffRole.AGENT, "李雷")
    boss = await make_staff(runtime, "boss", StaffRole.SUPERVISOR, "主管")
    escalation_id = await open_escalation(runtime, chat)
    async with runtime.uow() as uow:
        await escalations.reply(uow, texts, escalation_id, first, "您好", clock())  # claims
        await uow.commit()
    async with runtime.uow() as uow:
        with pytest.raises(EscalationError, match="assigned_to_other"):
            await escalations.reply(uow, texts, escalation_id, other, "我来", clock())
        with pytest.raises(EscalationError, match="already_claimed"):
            await escalations.claim(uow, texts, escalation_id, other, clock())
        with pytest.raises(EscalationError, match="unknown_staff"):
            await escalations.transfer(uow, texts, escalation_id, boss, "nobody", clock())
        moved = await escalations.transfer(uow, texts, escalation_id, boss, "LiLei", clock())
        await uow.commit()
    assert moved.assigned_to == "lilei"
    assert "客服李雷继续服务" in (await pushes(runtime, chat))[-1]["text"]
    async with runtime.uow() as uow:
        await escalations.reply(uow, texts, escalation_id, other, "我来处理", clock())
        with pytest.raises(EscalationError, match="empty"):
            await escalations.reply(uow, texts, escalation_id, other, "   ", clock())
        await uow.commit()
    assert await chat.say("好的") == []


async def test_outside_service_hours_the_owner_learns_when_a_person_answers(
    chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    clock.advance(hours=12)  # 22:00 local
    await chat.say("人工")
    assert "2026-11-24 08:00" in chat.text and "不在人工服务时间" in chat.text


async def test_overdue_lists_only_unclaimed_escalations_past_their_deadline(
    new_chat: object, runtime: Runtime, clock: FakeClock
) -> None:
    make = new_chat  # type: ignore[assignment]
    late, claimed_late = make("late"), make("claimed")  # type: ignore[operator]
    late_id = await open_escalation(runtime, late)
    claimed_id = await open_escalation(runtime, claimed_late)
    agent = await make_staff(runtime, "wangfang", StaffRole.AGENT)
    async with runtime.uow() as uow:
        await escalations.claim(uow, runtime.services.texts, claimed_id, agent, clock())
        await uow.commit()
        assert await escalations.overdue_escalations(uow, clock()) == []
    clock.advance(hours=1)
    async with runtime.uow() as uow:
        overdue = await escalations.overdue_escalations(uow, clock())
    assert [item.escalation.id for item in overdue] == [late_id]


async def test_two_people_claiming_at_once_one_gets_it(
    chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    first = await make_staff(runtime, "wangfang", StaffRole.AGENT)
    second = await make_staff(runtime, "lilei", StaffRole.AGENT)
    escalation_id = await open_escalation(runtime, chat)

    async def claim_as(staff: StaffUser) -> str:
        try:
            async with runtime.uow() as uow:
                await escalations.claim(uow, runtime.services.texts, escalation_id, staff, clock())
                await uow.commit()
        except EscalationError as error:
            return error.reason
        return "claimed"

    results = await asyncio.gather(claim_as(first), claim_as(second))
    assert results.count("claimed") == 1
    assert {"already_claimed", "changed_meanwhile"} & set(results)
    async with runtime.uow() as uow:
        claimed = await uow.escalations.get(escalation_id)
    assert claimed is not None
    winner = first if results[0] == "claimed" else second
    assert claimed.assigned_to == winner.username
    told = [p["text"] for p in await pushes(runtime, chat) if "正在为您服务" in p["text"]]
    assert len(told) == 1  # the owner hears of one person only
