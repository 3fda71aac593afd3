"""Guessing an owner's ID digits from many accounts: the lockout per account (5 an hour) is
cheap to get round with new WeChat or Telegram accounts, so failed attempts are also counted
per target phone, and the target is locked for everybody for the window."""

from __future__ import annotations

from collections.abc import Callable

from tests.support import Chat, FakeClock

PHONE = "13800000005"  # 刘洋, ID digits 9012, in the sample roster


async def _try(chat: Chat, phone: str, id_last4: str) -> str:
    await chat.say("绑定")
    await chat.say(phone)
    await chat.say(id_last4)
    return chat.text


async def test_wrong_id_digits_from_many_accounts_lock_the_target_phone(
    new_chat: Callable[..., Chat], demo_codes: dict[str, str], clock: FakeClock
) -> None:
    for attacker in range(5):
        text = await _try(new_chat(f"attacker-{attacker}"), PHONE, f"{1000 + attacker}")
        assert "绑定成功" not in text
    late = await _try(new_chat("attacker-5"), PHONE, "9012")  # right digits, locked target
    assert "次数过多" in late and "绑定成功" not in late
    other = await _try(new_chat("someone-else"), "13800000001", "123X")  # another owner
    assert "绑定成功" in other
    clock.advance(minutes=61)
    assert "绑定成功" in await _try(new_chat("owner-later"), PHONE, "9012")
