"""Binding: an owner proves who they are once, then sees only their own homes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.app.bootstrap import Runtime
from tests.support import Chat, FakeClock


async def test_owner_binds_with_a_printed_code_and_sees_their_homes_in_the_menu(
    chat: Chat, demo_codes: dict[str, str]
) -> None:
    await chat.say(f"/start {demo_codes['张伟']}")
    assert "绑定成功" in chat.text
    assert "翠湖花园 1栋-1-0101" in chat.text
    assert "翠湖花园 3栋-3-0801" in chat.text  # one owner, two homes
    assert "报修" in " ".join(chat.buttons)


async def test_typed_code_is_forgiving_about_case_spaces_and_full_width(
    chat: Chat, demo_codes: dict[str, str]
) -> None:
    code = demo_codes["李娜"]
    spaced = f"{code[:4].lower()} {code[4:]}".replace("2", "２")
    await chat.say(f"绑定 {spaced}")
    assert "绑定成功" in chat.text
    assert "李娜" in chat.text


async def test_a_used_code_cannot_bind_a_second_account(
    new_chat: Callable[..., Chat], demo_codes: dict[str, str]
) -> None:
    first, second = new_chat("a"), new_chat("b")
    await first.say(f"绑定 {demo_codes['王芳']}")
    assert "绑定成功" in first.text
    await second.say(f"绑定 {demo_codes['王芳']}")
    assert "已被使用" in second.text
    assert "王芳" not in second.text


async def test_one_unit_can_have_several_owners(
    new_chat: Callable[..., Chat], demo_codes: dict[str, str]
) -> None:
    wang, chen = new_chat("wang"), new_chat("chen")
    await wang.say(f"绑定 {demo_codes['王芳']}")
    await chen.say(f"绑定 {demo_codes['陈强']}")
    assert "2栋-2-1203" in wang.text
    assert "2栋-2-1203" in chen.text
    assert "陈强" in chen.text and "王芳" not in chen.text


async def test_expired_code_is_refused(
    chat: Chat, demo_codes: dict[str, str], clock: FakeClock, runtime: Runtime
) -> None:
    clock.advance(days=3651)
    await chat.say(f"绑定 {demo_codes['刘洋']}")
    assert "已过期" in chat.text
    async with runtime.uow() as uow:
        account = await uow.accounts.find("console", chat.user_id)
    assert account is not None and not account.is_bound


async def test_guessing_codes_locks_the_account_for_an_hour(
    chat: Chat, demo_codes: dict[str, str], clock: FakeClock
) -> None:
    for attempt in range(5):
        await chat.say("绑定 ZZZZ9999")
        assert "无效" in chat.text or "次数过多" in chat.text, attempt
    assert "次数过多" in chat.text
    await chat.say(f"绑定 {demo_codes['张伟']}")  # even the right code waits
    assert "次数过多" in chat.text and "绑定成功" not in chat.text
    clock.advance(minutes=61)
    await chat.say(f"绑定 {demo_codes['张伟']}")
    assert "绑定成功" in chat.text


async def test_manual_binding_with_shared_phone_and_id_last4(
    chat: Chat, demo_codes: dict[str, str]
) -> None:
    await chat.say("/start")
    await chat.press(chat.button("手机号"))
    assert chat.last[-1].request_contact
    await chat.contact("+86 138-0000-0005")
    assert "后 4 位" in chat.text and "138****0005" in chat.text  # masked, never echoed whole
    assert "13800000005" not in chat.text
    await chat.say("9012")
    assert "绑定成功" in chat.text and "锦绣园 A座-A-1601" in chat.text


async def test_manual_binding_with_wrong_id_counts_as_a_failed_attempt(
    chat: Chat, demo_codes: dict[str, str]
) -> None:
    await chat.say("绑定")
    await chat.say("13800000005")
    await chat.say("0000")
    assert "不符" in chat.text and "4 次" in chat.text
    assert "锦绣园" not in chat.text


async def test_unbound_user_gets_faq_and_ways_to_bind_but_no_data(
    chat: Chat, demo_codes: dict[str, str]
) -> None:
    await chat.say("菜单")
    assert set(chat.buttons.values()) >= {"flow:bind", "flow:faq", "flow:handoff"}
    await chat.say("/unbind")
    assert "先绑定" in chat.text


@pytest.mark.parametrize(("number", "answer"), [("1", "邀请码"), ("2", "已为您转接人工客服")])
async def test_the_ways_to_bind_shown_to_an_unbound_user_answer_to_their_numbers(
    chat: Chat, number: str, answer: str
) -> None:
    """WeChat shows them as "回复 1 绑定房屋", "回复 2 联系人工客服": the number presses them."""
    await chat.say("报修")
    assert "先绑定" in chat.text and list(chat.buttons.values()) == ["flow:bind", "flow:handoff"]
    await chat.say(number)
    assert answer in chat.text


async def test_unbind_needs_confirmation_and_then_hides_the_homes(bound_chat: Chat) -> None:
    await bound_chat.say("解绑")
    await bound_chat.press(bound_chat.button("不解绑"))
    await bound_chat.say("菜单")
    assert "1-0101" in bound_chat.text
    await bound_chat.say("解绑")
    await bound_chat.press(bound_chat.button("确定解绑"))
    assert "已解除绑定" in bound_chat.text
    await bound_chat.say("菜单")
    assert "1-0101" not in bound_chat.text


async def test_wechat_qr_scene_binds_on_subscribe(
    new_chat: Callable[..., Chat], demo_codes: dict[str, str]
) -> None:
    wechat = new_chat("openid-1", channel="wechat", language=None)
    await wechat.event("subscribe", f"qrscene_{demo_codes['赵敏']}")
    assert "绑定成功" in wechat.text and "赵敏" in wechat.text
