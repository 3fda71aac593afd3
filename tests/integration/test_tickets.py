"""My tickets: list, detail, comments, fixed / not fixed, cancel — and nobody sees another
owner's tickets, whatever button data they forge."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from bot.app.bootstrap import Runtime
from bot.domain.tickets import Actor, ActorKind, IllegalTransition, TicketStatus
from bot.services.tickets import change_ticket_status
from bot.storage.models import OutboxMessage
from tests.integration.test_repair import report, tickets_of
from tests.support import Chat, FakeClock

STAFF = Actor(ActorKind.STAFF, "wang")
TO_COMPLETED = (
    TicketStatus.ACCEPTED,
    TicketStatus.DISPATCHED,
    TicketStatus.IN_PROGRESS,
    TicketStatus.COMPLETED,
)


async def submit(
    chat: Chat, category: str, description: str, home: str | None = "1栋-1-0101"
) -> None:
    """A report from 张伟's first home (or a one-home owner's, home=None), submitted."""
    await report(chat, category, description, home)
    await chat.press("repair:submit")
    assert "工单号" in chat.text


async def staff_moves(
    runtime: Runtime, clock: FakeClock, ticket_id: int, *statuses: TicketStatus
) -> None:
    async with runtime.uow() as uow:
        for status in statuses:
            await change_ticket_status(
                uow,
                ticket_id,
                status,
                STAFF,
                clock(),
                runtime.services.texts,
                note="师傅已处理",
                survey_delay=runtime.settings.survey_delay,
            )
        await uow.commit()


async def outbox_texts(runtime: Runtime) -> list[tuple[str, str, list[str]]]:
    """(purpose, text, button data) of every queued push."""
    async with runtime.uow() as uow:
        rows = (
            await uow.session.execute(select(OutboxMessage).order_by(OutboxMessage.id))
        ).scalars()
        return [
            (
                row.purpose,
                row.replies[0]["text"],
                [b[1] for r in row.replies[0]["buttons"] for b in r],
            )
            for row in rows
        ]


async def test_the_list_shows_open_tickets_first_and_the_detail_its_history(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    await submit(bound_chat, "plumbing", "厨房下水慢")
    clock.advance(hours=1)
    await submit(bound_chat, "electrical", "插座松动")
    plumbing, electrical = sorted(await tickets_of(runtime, bound_chat), key=lambda t: t.id)
    await staff_moves(
        runtime,
        clock,
        electrical.id,
        *TO_COMPLETED,
        TicketStatus.CLOSED,
    )
    await bound_chat.say("进度")
    assert bound_chat.text.index(plumbing.number) < bound_chat.text.index(electrical.number)
    assert "已提交" in bound_chat.text and "已关闭" in bound_chat.text
    await bound_chat.press(f"tickets:show:{electrical.id}")
    assert "插座松动" in bound_chat.text
    for step in ("已受理", "已派工", "维修中", "已完工", "已关闭"):
        assert step in bound_chat.text, step
    assert "师傅已处理" in bound_chat.text
    assert "tickets:comment:" not in " ".join(bound_chat.buttons.values())  # closed: no additions


async def test_an_owner_never_sees_another_owners_ticket(
    bound_chat: Chat, new_chat: Callable[..., Chat], demo_codes: dict[str, str], runtime: Runtime
) -> None:
    li = new_chat("li-na")
    await li.say(f"绑定 {demo_codes['李娜']}")
    await submit(li, "plumbing", "李娜家的水管", home=None)
    [theirs] = await tickets_of(runtime, li)
    for forged in ("show", "comment", "cancel", "cancelyes", "fixed", "notfixed"):
        await bound_chat.press(f"tickets:{forged}:{theirs.id}")
        assert "没有找到这张工单" in bound_chat.text, forged
        assert theirs.number not in bound_chat.text and "李娜家的水管" not in bound_chat.text
    await bound_chat.say("进度")
    assert theirs.number not in bound_chat.text
    [unchanged] = await tickets_of(runtime, li)
    assert unchanged.status is TicketStatus.SUBMITTED
    async with runtime.uow() as uow:
        assert len(await uow.tickets.events(theirs.id)) == 1


async def test_an_unbound_user_pressing_a_ticket_button_is_asked_to_bind_first(
    bound_chat: Chat, runtime: Runtime
) -> None:
    await submit(bound_chat, "plumbing", "漏水")
    [ticket] = await tickets_of(runtime, bound_chat)
    stranger = Chat(runtime, user_id="stranger")
    await stranger.press(f"tickets:show:{ticket.id}")
    assert ticket.number not in stranger.text and "先绑定" in stranger.text


async def test_completed_then_not_fixed_reopens_and_takes_the_owners_words(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock, tmp_path: Path
) -> None:
    await submit(bound_chat, "plumbing", "卫生间地漏反水")
    [ticket] = await tickets_of(runtime, bound_chat)
    await staff_moves(
        runtime,
        clock,
        ticket.id,
        *TO_COMPLETED,
    )
    pushes = await outbox_texts(runtime)
    assert len(pushes) == 4 and all(purpose == "ticket_update" for purpose, _, _ in pushes)
    _, text, buttons = pushes[-1]
    assert ticket.number in text and "已完工" in text
    assert buttons == [f"tickets:fixed:{ticket.id}", f"tickets:notfixed:{ticket.id}"]

    await bound_chat.press(f"tickets:notfixed:{ticket.id}")  # from the push
    assert "已重新打开" in bound_chat.text
    await bound_chat.say("还是反水，师傅只清了表面")
    photo = tmp_path / "drain.png"
    Image.new("RGB", (20, 20), "gray").save(photo)
    await bound_chat.photo(str(photo))
    await bound_chat.press("tickets:done")
    assert "已重新打开" in bound_chat.text and "还是反水" in bound_chat.text

    [reopened] = await tickets_of(runtime, bound_chat)
    assert reopened.status is TicketStatus.REOPENED
    async with runtime.uow() as uow:
        events = await uow.tickets.events(ticket.id)
    assert events[-3].to_status is TicketStatus.REOPENED
    assert str(events[-3].actor).startswith("owner:")
    assert events[-2].note == "还是反水，师傅只清了表面" and len(events[-1].photos) == 1
    assert len(await outbox_texts(runtime)) == 4  # the owner's own move is not pushed back


async def test_fixed_confirms_and_a_second_press_is_refused(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    await submit(bound_chat, "doors_windows", "阳台门关不严")
    [ticket] = await tickets_of(runtime, bound_chat)
    await staff_moves(
        runtime,
        clock,
        ticket.id,
        *TO_COMPLETED,
    )
    await bound_chat.press(f"tickets:fixed:{ticket.id}")
    assert "已确认修好" in bound_chat.text
    await bound_chat.press(f"tickets:notfixed:{ticket.id}")  # an old push pressed later
    assert "不能进行这个操作" in bound_chat.text
    [confirmed] = await tickets_of(runtime, bound_chat)
    assert confirmed.status is TicketStatus.CONFIRMED


async def test_cancel_is_offered_before_dispatch_only(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    await submit(bound_chat, "plumbing", "水龙头滴水")
    await submit(bound_chat, "electrical", "灯不亮")
    first, second = sorted(await tickets_of(runtime, bound_chat), key=lambda t: t.id)
    await bound_chat.press(f"tickets:show:{first.id}")
    await bound_chat.press(bound_chat.button("取消工单"))
    await bound_chat.press(bound_chat.button("确认取消"))
    assert f"工单 {first.number} 已取消" in bound_chat.text

    await staff_moves(runtime, clock, second.id, TicketStatus.ACCEPTED, TicketStatus.DISPATCHED)
    await bound_chat.press(f"tickets:show:{second.id}")
    assert "取消工单" not in " ".join(bound_chat.buttons)
    await bound_chat.press(f"tickets:cancelyes:{second.id}")  # forged from an older message
    assert "不能进行这个操作" in bound_chat.text
    statuses = {t.id: t.status for t in await tickets_of(runtime, bound_chat)}
    assert statuses == {first.id: TicketStatus.CANCELLED, second.id: TicketStatus.DISPATCHED}


async def test_staff_cannot_skip_steps(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    await submit(bound_chat, "plumbing", "漏水")
    [ticket] = await tickets_of(runtime, bound_chat)
    with pytest.raises(IllegalTransition):
        await staff_moves(runtime, clock, ticket.id, TicketStatus.COMPLETED)
    [unchanged] = await tickets_of(runtime, bound_chat)
    assert unchanged.status is TicketStatus.SUBMITTED
    assert await outbox_texts(runtime) == []


async def test_a_comment_reaches_the_ticket(bound_chat: Chat, runtime: Runtime) -> None:
    await submit(bound_chat, "walls_floors", "墙皮脱落")
    [ticket] = await tickets_of(runtime, bound_chat)
    await bound_chat.press(f"tickets:comment:{ticket.id}")
    await bound_chat.say("周六上午家里有人")
    assert "已补充到工单" in bound_chat.text
    await bound_chat.say("完成")
    assert "周六上午家里有人" in bound_chat.text  # the detail with its history
