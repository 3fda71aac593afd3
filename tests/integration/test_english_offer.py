"""English typed in a Chinese conversation (WeChat gives no language hint): handled as usual,
and English is offered once — one bilingual line and the language flow's own button, last —
through the real engine on SQLite and PostgreSQL. 李娜 owns one home; the clock stands at
Monday 2026-11-23 10:00 in Shanghai."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.engine.nudges import OFFER_ENGLISH_EVERY
from bot.engine.types import Reply
from tests.support import Chat, FakeClock

OFFER = "Prefer English?"
SWITCH = "language:en"


@pytest.fixture
async def lina(new_chat: Callable[..., Chat], demo_codes: dict[str, str]) -> Chat:
    """李娜, bound, from an account with no language hint (as every WeChat account)."""
    chat = new_chat("lina", language=None)
    await chat.say(f"绑定 {demo_codes['李娜']}")
    assert "绑定成功" in chat.text
    return chat


def offered(chat: Chat) -> bool:
    return OFFER in chat.text or SWITCH in chat.buttons.values()


def numbered(replies: list[Reply]) -> list[str]:
    """The data of the buttons a typed number presses (those of the last reply with any)."""
    shown = [reply for reply in replies if reply.buttons]
    return [button.data for button in shown[-1].flat_buttons()] if shown else []


async def test_an_english_repair_is_reported_as_usual_and_english_offered_last(
    lina: Chat,
) -> None:
    await lina.say("my kitchen pipe is leaking")
    assert "已记下您的描述" in lina.text and "照片" in lina.text  # the usual replies, in Chinese
    assert lina.last[-1].text.startswith("🌐 Prefer English?")
    assert "如需英文服务" in lina.last[-1].text  # one line in both languages
    # The switch comes last: the photo step's own numbers are unchanged.
    assert numbered(lina.last) == ["repair:done", "repair:back", "flow:cancel", SWITCH]
    await lina.say("1")  # still "done"
    assert "请核对报修信息" in lina.text and "问题：my kitchen pipe is leaking" in lina.text
    assert not offered(lina)


@pytest.mark.parametrize("how", ["number", "button", "word"])
async def test_taking_the_offer_switches_to_english(lina: Chat, how: str) -> None:
    await lina.say("how much is the property fee")
    assert "物业费" in lina.text and offered(lina)  # answered in Chinese, English offered
    if how == "number":
        await lina.say(str(len(numbered(lina.last))))  # WeChat: the last number
    elif how == "button":
        await lina.press(SWITCH)  # Telegram: the button
    else:
        await lina.say("english")
    assert "Language set to English." in lina.text
    assert "Choose a service" in lina.text  # the menu, in English
    await lina.say("how much is the property fee")
    assert "property fee" in lina.text.lower() and not offered(lina)


async def test_english_is_offered_once_not_at_every_sentence(lina: Chat, clock: FakeClock) -> None:
    await lina.say("how much is the property fee")
    assert offered(lina)
    await lina.say("菜单")  # the flow ends: the offer is remembered beyond it
    await lina.say("my kitchen pipe is leaking")
    assert "已记下您的描述" in lina.text and not offered(lina)
    assert SWITCH not in numbered(lina.last)
    await lina.say("取消")
    clock.advance(days=OFFER_ENGLISH_EVERY.days - 1)
    await lina.say("when will I get my property certificate")
    assert not offered(lina)
    clock.advance(days=2)
    await lina.say("when will I get my property certificate")
    assert offered(lina)  # a month later, once more


@pytest.mark.parametrize(
    "said",
    [
        "ok",
        "hi",
        "thanks",
        "thank you",
        "ok ok ok",
        "物业fee多少",
        "my 水管 is leaking",
        "BX-20261123-0001",
        "/help",
        "repair",
        "1",
    ],
)
async def test_short_words_numbers_commands_and_mixed_chinese_offer_nothing(
    lina: Chat, said: str
) -> None:
    await lina.say("菜单")
    await lina.say(said)
    assert lina.last and not offered(lina)


async def test_an_english_conversation_is_never_offered_english(
    new_chat: Callable[..., Chat], demo_codes: dict[str, str]
) -> None:
    chat = new_chat("en-owner", language="en")
    await chat.say(f"bind {demo_codes['李娜']}")
    for said in ("my kitchen pipe is leaking", "how much is the property fee"):
        await chat.say(said)
        assert chat.last and not offered(chat)


async def test_an_unbound_owner_is_offered_english_too(new_chat: Callable[..., Chat]) -> None:
    chat = new_chat("stranger", language=None)
    await chat.say("my kitchen pipe is leaking")
    assert "绑定" in chat.text and offered(chat)
    await chat.say(str(len(numbered(chat.last))))
    assert "Language set to English." in chat.text


async def test_the_menus_own_english_button_is_not_doubled(lina: Chat) -> None:
    await lina.say("thank you so much")  # small talk: a short answer and the menu
    assert "🔧 报修" in lina.buttons and "flow:language" in numbered(lina.last)
    assert lina.last[-1].text.startswith("🌐 Prefer English?")
    assert SWITCH not in lina.buttons.values()  # the menu's "🌐 English" is the way
    await lina.say(str(numbered(lina.last).index("flow:language") + 1))
    await lina.press(lina.buttons["English"])  # the chooser
    assert "Language set to English." in lina.text


async def test_no_offer_while_waiting_for_a_person(lina: Chat) -> None:
    await lina.say("人工")
    await lina.say("my kitchen pipe is leaking badly")  # kept for staff
    assert not offered(lina)
    await lina.say("it is getting worse now")
    assert not offered(lina)


async def test_a_step_that_reads_typed_answers_without_buttons_waits_for_a_later_message(
    new_chat: Callable[..., Chat],
) -> None:
    chat = new_chat("by-phone", language=None)
    await chat.say("绑定")
    await chat.press("bind:phone")
    await chat.say("13800001234")
    await chat.say("I lost my ID card")  # "1" here must stay an answer, not the offer
    assert "后 4 位" in chat.text and not any(reply.buttons for reply in chat.last)
    assert not offered(chat)
    await chat.say("取消")
    await chat.say("I lost my ID card")
    assert offered(chat)
