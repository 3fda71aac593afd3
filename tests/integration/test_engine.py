"""The engine: each update once, state in the database, no silence, no crash."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.app.bootstrap import Runtime, build_runtime
from bot.engine.engine import EngineUnavailable
from bot.engine.types import IncomingMessage, MessageKind
from bot.settings import Settings
from bot.storage.models import OutboxMessage, ProcessedUpdate
from tests.support import Chat, FakeClock


def text_message(key: str, text: str, user: str = "owner-1") -> IncomingMessage:
    return IncomingMessage(
        channel="console", user_id=user, update_key=key, kind=MessageKind.TEXT, text=text
    )


async def _state_version(runtime: Runtime, user_id: str) -> int:
    async with runtime.uow() as uow:
        account = await uow.accounts.find("console", user_id)
        assert account is not None
        return (await uow.conversations.load(account.id)).version


async def test_the_same_update_delivered_twice_is_handled_once(
    runtime: Runtime, demo_codes: dict[str, str]
) -> None:
    msg = text_message("dup-1", f"绑定 {demo_codes['张伟']}")
    first = await runtime.engine.handle(msg)
    again = await runtime.engine.handle(msg)
    assert not first.duplicate and again.duplicate
    assert [r.text for r in again.replies] == [r.text for r in first.replies]
    assert "绑定成功" in again.replies[0].text  # not "code already used" from a second run


async def test_concurrent_messages_from_one_owner_never_corrupt_state(
    runtime: Runtime, demo_codes: dict[str, str]
) -> None:
    await runtime.engine.handle(text_message("c0", f"绑定 {demo_codes['张伟']}"))
    # In a flow every message is saved, in whatever order they come (outside one, a message
    # that leaves the state as it was writes nothing).
    messages = [text_message(f"c{i}", "报修") for i in range(1, 11)]
    results = await asyncio.gather(*(runtime.engine.handle(m) for m in messages))
    assert all(result.replies for result in results)
    assert (
        await _state_version(runtime, "owner-1") == 11
    )  # the bind and each of the 10 messages saved exactly once


async def test_a_message_that_changes_no_state_outside_a_flow_writes_none(
    runtime: Runtime, demo_codes: dict[str, str]
) -> None:
    await runtime.engine.handle(text_message("h0", f"绑定 {demo_codes['张伟']}"))
    await runtime.engine.handle(text_message("h1", "帮助"))  # its button is now what "1" presses
    before = await _state_version(runtime, "owner-1")
    result = await runtime.engine.handle(text_message("h2", "帮助"))
    assert result.replies and not result.duplicate
    assert await _state_version(runtime, "owner-1") == before


async def test_two_engines_on_one_database_take_turns_through_the_optimistic_lock(
    runtime: Runtime,
    database_url: str,
    make_settings: Callable[..., Settings],
    clock: FakeClock,
    demo_codes: dict[str, str],
) -> None:
    other = build_runtime(
        make_settings(database_url=database_url), clock=clock, with_channels=False
    )
    try:
        await runtime.engine.handle(text_message("m0", f"绑定 {demo_codes['张伟']}"))
        batch = [
            (runtime if i % 2 else other).engine.handle(text_message(f"m{i}", "报修"))
            for i in range(1, 9)
        ]
        results = await asyncio.gather(*batch)
        # the repair flow answered each one (its home choice, then its offer to continue)
        assert all(r.replies[-1].flat_buttons()[0].data.startswith("repair:") for r in results)
        assert (
            await _state_version(runtime, "owner-1") == 9
        )  # every one of the 9 messages saved exactly once
    finally:
        await other.close()


async def test_two_engines_handling_one_update_queue_one_reply(
    runtime: Runtime,
    database_url: str,
    make_settings: Callable[..., Settings],
    clock: FakeClock,
) -> None:
    """Completing the update and queueing its reply are one step: the engine that loses the
    race queues nothing and answers with the winner's stored replies."""
    other = build_runtime(
        make_settings(database_url=database_url), clock=clock, with_channels=False
    )
    try:
        msg = text_message("race-1", "帮助")
        assert not (await runtime.engine.record(msg)).duplicate
        first, second = await asyncio.gather(runtime.engine.process(msg), other.engine.process(msg))
        assert [r.text for r in first.replies] == [r.text for r in second.replies]
        async with runtime.uow() as uow:
            rows = await uow.session.execute(
                select(OutboxMessage.id).where(
                    OutboxMessage.idempotency_key == "reply:console:race-1"
                )
            )
            assert len(rows.all()) == 1
    finally:
        await other.close()


async def test_a_restart_mid_flow_resumes_where_the_owner_was(
    runtime: Runtime,
    database_url: str,
    make_settings: Callable[..., Settings],
    clock: FakeClock,
    demo_codes: dict[str, str],
) -> None:
    await runtime.engine.handle(text_message("r1", "绑定"))
    await runtime.engine.handle(text_message("r2", "13800000005"))
    await runtime.close()
    restarted = build_runtime(
        make_settings(database_url=database_url), clock=clock, with_channels=False
    )
    try:
        result = await restarted.engine.handle(text_message("r3", "9012"))
        assert "绑定成功" in result.replies[0].text
    finally:
        await restarted.close()


async def test_recorded_but_unhandled_updates_are_handled_after_a_crash(
    runtime: Runtime, demo_codes: dict[str, str]
) -> None:
    msg = text_message("crash-1", f"绑定 {demo_codes['李娜']}")
    await runtime.engine.record(msg)  # acknowledged to the platform, then the process died
    handled = await runtime.engine.process_pending("console")
    assert [m.update_key for m, _ in handled] == ["crash-1"]
    assert "绑定成功" in handled[0][1].replies[0].text
    assert handled[0][1].lang == "zh"
    assert await runtime.engine.process_pending("console") == []
    assert await runtime.engine.process_pending("telegram") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", "没有收到内容"), ("   ", "没有收到内容"), ("漏" * 100_000, "消息太长")],
)
async def test_empty_and_huge_messages_get_a_clear_answer(
    chat: Chat, text: str, expected: str
) -> None:
    await chat.say(text)
    assert expected in chat.text


async def test_unsupported_messages_and_stale_buttons_get_help_not_silence(chat: Chat) -> None:
    await chat.send(kind=MessageKind.UNSUPPORTED)
    assert "暂时只能处理" in chat.text
    await chat.press("bind:phone")  # a button from an old message
    assert "已过期" in chat.text
    await chat.press("nonsense")
    assert "已过期" in chat.text


async def test_a_crashing_step_apologises_and_keeps_the_conversation_usable(
    chat: Chat, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(runtime.services.faq, "ask", broken)
    await chat.say("有什么问题")
    assert "出了点问题" in chat.text
    async with runtime.uow() as uow:  # kept as failed, with the reason, never retried
        query = select(ProcessedUpdate.status, ProcessedUpdate.failure)
        rows = (await uow.session.execute(query)).all()
    assert [tuple(row) for row in rows] == [("failed", "flow error: RuntimeError")]
    monkeypatch.undo()
    await chat.say("菜单")
    assert "绑定" in chat.text


async def test_numbered_answers_press_the_offered_buttons(
    chat: Chat, demo_codes: dict[str, str]
) -> None:
    await chat.say("/start")
    options = list(chat.buttons)
    phone_index = next(i for i, label in enumerate(options, 1) if "手机号" in label)
    await chat.say(str(phone_index))
    assert "手机号" in chat.text and chat.last[-1].request_contact


async def test_a_number_presses_the_buttons_shown_last_also_after_help_in_a_form(
    bound_chat: Chat,
) -> None:
    """/help keeps the form's step but shows one numbered option of its own ("1 返回菜单" on
    WeChat): 1 goes to the menu, not to the form's first home."""
    await bound_chat.say("报修")
    assert "哪一套房屋" in bound_chat.text
    await bound_chat.say("帮助")
    assert len(bound_chat.buttons) == 1
    await bound_chat.say("1")
    assert "请选择要办理的业务" in bound_chat.text
    await bound_chat.say("报修")  # the draft was kept
    assert "还没提交的内容" in bound_chat.text


async def test_language_follows_the_platform_and_can_be_switched(
    new_chat: Callable[..., Chat], demo_codes: dict[str, str]
) -> None:
    english = new_chat("en-1", language="en-US")
    await english.say("menu")
    assert "Link my home" in " ".join(english.buttons)
    await english.say("/lang")
    await english.press("language:zh")
    assert "已切换为中文" in english.text
    await english.say("menu")  # the choice beats the platform's hint from now on
    assert "绑定房屋" in " ".join(english.buttons)


async def test_database_unreachable_raises_engine_unavailable_and_loses_nothing(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> None:
    dead = build_runtime(
        make_settings(database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none"),
        clock=clock,
        with_channels=False,
    )
    dead.engine._retry_delay = 0.01
    try:
        with pytest.raises(EngineUnavailable):
            await dead.engine.handle(text_message("down-1", "菜单"))
    finally:
        await dead.close()


async def test_a_page_of_updates_is_recorded_at_once_and_tells_each_repeat(
    runtime: Runtime,
) -> None:
    handled = text_message("page-0", "菜单", user="page-owner")
    await runtime.engine.handle(handled)
    page = [
        text_message("page-1", "菜单", user="page-a"),
        handled,
        text_message("page-2", "菜单", user="page-b"),
        text_message("page-1", "菜单", user="page-a"),
    ]
    recorded = await runtime.engine.record_batch(page)
    assert [r.duplicate for r in recorded] == [False, True, False, True]
    assert recorded[1].answer is not None and recorded[1].answer.replies  # its first answer
    assert recorded[3].answer is None  # recorded, not handled yet
    async with runtime.uow() as uow:
        pending = await uow.inbox.pending("console")
    assert [entry.update_key for entry in pending] == ["page-1", "page-2"]
