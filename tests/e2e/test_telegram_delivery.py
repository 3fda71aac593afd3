"""Replies on their way to Telegram: shapes, limits and errors, through the real PTB `Bot` and
our sender against the fake Bot API (no database needed)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY
from telegram import Bot

from bot.channels.telegram.pacing import (
    LocalBuckets,
    Pacer,
    SendWindow,
    TelegramLimits,
    shared_buckets,
)
from bot.channels.telegram.request import AiohttpRequest
from bot.channels.telegram.sender import TelegramSender
from bot.engine.ports import DeliveryError
from bot.engine.types import Button, Reply, button_rows
from bot.i18n import LANGUAGES, Texts
from bot.settings import PROJECT_ROOT
from bot.testing.fake_telegram import Failure, FakeTelegram
from tests.fakes.telegram_harness import RecordingSleep

OWNER = 7001
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def telegram_texts() -> Texts:
    """Only the channel's own texts: these tests must not depend on the flows' locale files."""
    catalog = {}
    for lang in LANGUAGES:
        path = PROJECT_ROOT / "config" / "locales" / lang / "telegram.yaml"
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
        catalog[lang] = {f"telegram.{key}": str(text) for key, text in entries.items()}
    return Texts(catalog, {})


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


def sender_for(
    fake: FakeTelegram,
    sleeps: RecordingSleep,
    media_dir: Path,
    limits: TelegramLimits | None = None,
    read_timeout: float = 5.0,
) -> TelegramSender:
    bot = Bot(
        fake.token,
        base_url=f"{fake.base_url}/bot",
        request=AiohttpRequest(connections=4, keepalive_seconds=2.0, read_timeout=read_timeout),
    )
    pacer = Pacer(limits or TelegramLimits.unlimited(), sleeps)
    return TelegramSender(bot, pacer, media_dir, telegram_texts(), sleeps)


@pytest.fixture
def sender(fake: FakeTelegram, sleeps: RecordingSleep, tmp_path: Path) -> TelegramSender:
    return sender_for(fake, sleeps, tmp_path)


async def test_429_waits_retry_after_then_resends_exactly_once(
    sender: TelegramSender, fake: FakeTelegram, sleeps: RecordingSleep
) -> None:
    fake.fail("sendMessage", Failure(429, "Too Many Requests: retry after 7", retry_after=7))
    await sender.send(str(OWNER), [Reply("您的报修已受理")], "zh")
    assert [call.params["text"] for call in fake.calls_to("sendMessage")] == ["您的报修已受理"] * 2
    assert sleeps.waits == [7]


async def test_a_second_429_is_handed_to_the_caller_with_its_retry_after(
    sender: TelegramSender, fake: FakeTelegram
) -> None:
    throttled = REGISTRY.get_sample_value("bot_platform_throttled_total", {"channel": "telegram"})
    fake.fail("sendMessage", Failure(429, "Too Many Requests", retry_after=5), times=2)
    with pytest.raises(DeliveryError) as raised:
        await sender.send(str(OWNER), [Reply("hello")], "en")
    assert raised.value.retry_after == 5 and not raised.value.permanent
    assert len(fake.calls_to("sendMessage")) == 2
    after = REGISTRY.get_sample_value("bot_platform_throttled_total", {"channel": "telegram"})
    assert after == (throttled or 0) + 2  # both 429s reach /metrics


async def test_blocked_user_is_a_permanent_failure(
    sender: TelegramSender, fake: FakeTelegram
) -> None:
    fake.blocked.add(OWNER)
    with pytest.raises(DeliveryError) as raised:
        await sender.send(str(OWNER), [Reply("hello")], "en")
    assert raised.value.permanent
    assert len(fake.calls_to("sendMessage")) == 1


async def test_server_errors_are_retried_with_backoff(
    sender: TelegramSender, fake: FakeTelegram, sleeps: RecordingSleep
) -> None:
    fake.fail("sendMessage", Failure(502, "Bad Gateway"), times=2)
    await sender.send(str(OWNER), [Reply("hello")], "en")
    assert len(fake.calls_to("sendMessage")) == 3
    assert sleeps.waits == [0.5, 1.0]


async def test_a_timeout_after_sending_is_resent_a_duplicate_at_most(
    fake: FakeTelegram, sleeps: RecordingSleep, tmp_path: Path
) -> None:
    """At least once: the slow answer may mean the message arrived (then the owner sees it
    twice) or that the request was lost (then the resend is the only copy)."""
    sender = sender_for(fake, sleeps, tmp_path, read_timeout=0.2)
    fake.delays["sendMessage"] = 0.5
    with pytest.raises(DeliveryError):  # every attempt timed out: the outbox tries later
        await sender.send(str(OWNER), [Reply("maybe delivered")], "en")
    assert len(fake.calls_to("sendMessage")) == 3
    del fake.delays["sendMessage"]
    fake.fail("sendMessage", Failure(504, "Gateway Timeout", hold=0.5))  # lost on its way
    ids = await sender.send(str(OWNER), [Reply("resent")], "en")
    assert len(ids) == 1 and fake.calls_to("sendMessage")[-1].params["text"] == "resent"


async def test_long_text_is_split_at_line_ends_and_buttons_go_last(
    sender: TelegramSender, fake: FakeTelegram
) -> None:
    line = "第" + "一" * 98 + "\n"  # 100 characters per line
    reply = Reply(line * 60, buttons=button_rows([Button("菜单", "flow:menu")]))
    await sender.send(str(OWNER), [reply], "en")
    sent = fake.calls_to("sendMessage")
    assert [len(call.params["text"]) for call in sent] == [40 * 100 - 1, 20 * 100 - 1]
    assert "reply_markup" not in sent[0].params
    assert sent[1].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "flow:menu"


async def test_button_with_too_long_data_is_dropped_not_fatal(
    sender: TelegramSender, fake: FakeTelegram
) -> None:
    rows = button_rows([Button("ok", "flow:menu"), Button("bad", "x" * 65)])
    await sender.send(str(OWNER), [Reply("choose", buttons=rows)], "en")
    [call] = fake.calls_to("sendMessage")
    labels = [b["text"] for row in call.params["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["ok"]


async def test_contact_request_is_a_one_time_reply_keyboard(
    sender: TelegramSender, fake: FakeTelegram
) -> None:
    await sender.send(str(OWNER), [Reply("请发送手机号", request_contact=True)], "zh")
    [call] = fake.calls_to("sendMessage")
    markup = call.params["reply_markup"]
    assert markup["one_time_keyboard"] is True
    assert markup["keyboard"][0][0] == {"text": "📱 发送我的手机号", "request_contact": True}


async def test_contact_request_with_buttons_gets_a_message_of_its_own(
    sender: TelegramSender, fake: FakeTelegram
) -> None:
    reply = Reply(
        "Send your phone number",
        buttons=button_rows([Button("Use a code", "bind:code")]),
        request_contact=True,
    )
    await sender.send(str(OWNER), [reply], "en")
    first, second = fake.calls_to("sendMessage")
    assert "inline_keyboard" in first.params["reply_markup"]
    assert second.params["reply_markup"]["keyboard"][0][0]["text"] == "📱 Share my phone number"


async def test_photo_is_uploaded_once_then_sent_by_file_id(
    fake: FakeTelegram, sleeps: RecordingSleep, tmp_path: Path
) -> None:
    (tmp_path / "guide.jpg").write_bytes(b"\xff\xd8fake-jpeg")
    sender = sender_for(fake, sleeps, tmp_path)
    await sender.send(str(OWNER), [Reply("报修指引", photo_path="guide.jpg")] * 2, "zh")
    first, second = fake.calls_to("sendPhoto")
    assert first.files["photo"] == b"\xff\xd8fake-jpeg"
    assert first.params["caption"] == "报修指引"
    assert second.params["photo"] == "sent-photo" and not second.files


async def test_missing_photo_still_sends_the_text(
    sender: TelegramSender, fake: FakeTelegram
) -> None:
    await sender.send(str(OWNER), [Reply("see the picture", photo_path="../../etc/passwd")], "en")
    assert fake.calls_to("sendPhoto") == []
    assert fake.calls_to("sendMessage")[0].params["text"] == "see the picture"


async def test_messages_to_one_chat_are_paced(
    fake: FakeTelegram, sleeps: RecordingSleep, tmp_path: Path
) -> None:
    sender = sender_for(fake, sleeps, tmp_path, TelegramLimits(overall_rate=1e6, overall_burst=100))
    await sender.send(str(OWNER), [Reply(f"message {n}") for n in range(5)], "en")
    assert len(sleeps.waits) == 2  # a burst of 3, then one a second
    assert sleeps.waits[0] == pytest.approx(1.0, abs=0.2)
    assert sleeps.waits[1] == pytest.approx(2.0, abs=0.2)


def test_overall_bucket_spaces_messages_evenly() -> None:
    now = [0.0]
    bucket = LocalBuckets(rate=30, burst=1, clock=lambda: now[0])
    waits = [bucket.reserve("bot") for _ in range(4)]
    assert waits == pytest.approx([0, 1 / 30, 2 / 30, 3 / 30])
    now[0] = 10.0
    assert bucket.reserve("bot") == 0


def test_per_chat_buckets_are_independent() -> None:
    now = [0.0]
    bucket = LocalBuckets(rate=1, burst=1, clock=lambda: now[0])
    assert [bucket.reserve("a"), bucket.reserve("b"), bucket.reserve("a")] == [0, 0, 1]


async def test_instances_share_the_overall_bucket_through_redis() -> None:
    """Redis is required like PostgreSQL: without it this fails, it does not skip."""
    limits = TelegramLimits(overall_rate=10, overall_burst=1)
    token = f"{uuid.uuid4().int % 10**9}:test"  # a bucket of its own on the shared server
    first, second = (shared_buckets(REDIS_URL, token, limits) for _ in range(2))
    try:
        waits = [
            await first.overall.reserve(),
            await second.overall.reserve(),
            await first.overall.reserve(),
        ]
    finally:
        await first.close()
        await second.close()
    assert waits == pytest.approx([0, 0.1, 0.2], abs=0.05)


async def test_pacing_goes_on_alone_while_redis_is_down() -> None:
    limits = TelegramLimits(overall_rate=10, overall_burst=1)
    buckets = shared_buckets("redis://127.0.0.1:9/0", "1:test", limits)
    try:
        waits = [await buckets.overall.reserve(), await buckets.overall.reserve()]
    finally:
        await buckets.close()
    assert waits == pytest.approx([0, 0.1], abs=0.05)


def test_the_send_window_counts_a_request_until_a_second_after_its_answer() -> None:
    """Telegram may count a request any time before we read its answer: a place is held from
    leaving until a second after the answer, so bunching on the way cannot exceed the limit."""
    now = [0.0]
    window = SendWindow(limit=2, seconds=1.0, clock=lambda: now[0])
    assert window.admit() and window.admit()
    assert not window.admit()  # two unanswered
    assert window.wait() == pytest.approx(0.005)
    now[0] = 0.5
    window.answered()  # the first answer: its place is held until 1.5
    assert not window.admit()
    assert window.wait() == pytest.approx(1.0)
    now[0] = 1.5
    assert window.admit()


async def test_instances_share_per_chat_buckets_through_redis() -> None:
    limits = TelegramLimits(per_chat_rate=1, per_chat_burst=1)
    token = f"{uuid.uuid4().int % 10**9}:test"
    first, second = (shared_buckets(REDIS_URL, token, limits) for _ in range(2))
    try:
        waits = [
            await first.per_chat.reserve("42"),
            await second.per_chat.reserve("42"),
            await second.per_chat.reserve("7"),
        ]
    finally:
        await first.close()
        await second.close()
    assert waits == pytest.approx([0, 1.0, 0], abs=0.05)
