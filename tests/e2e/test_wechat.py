"""The WeChat channel end to end: a fake WeChat server posts signed (and AES-encrypted)
callbacks to our app over real loopback HTTP; our app talks to a fake WeChat API.

Every test runs on SQLite and on PostgreSQL (the `runtime` fixture).
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

import bot.channels.wechat.channel as wechat_module
from bot.app import redaction
from bot.app.bootstrap import Runtime
from bot.app.http import create_app
from bot.channels.wechat.channel import WeChatChannel
from bot.channels.wechat.setup import create_menu, create_qrcodes, load_menu, unknown_flows
from bot.config import ConfigError
from bot.domain.access_token import StoredToken
from bot.engine.engine import EngineUnavailable
from bot.engine.ports import DeliveryError, MediaError, Push
from bot.engine.types import Button, IncomingMessage, Reply
from bot.handlers import all_flows
from bot.services.roster import valid_invite_codes
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.models import AuditLog, ProcessedUpdate
from bot.storage.wechat_tokens import DatabaseTokenStore
from bot.testing.fake_wechat_api import APP_ID, APP_SECRET, FakeWeChatApi, png_bytes
from bot.testing.fake_wechat_server import AES_KEY, TOKEN, WeChatServer, message_xml, serving
from tests.fakes.wechat_harness import make_wechat_channel
from tests.integration.test_surveys import set_handover, surveys
from tests.support import Chat, FakeClock

OPENID = "oWeChatOwner0000000000000001"
CUSTOM = "cgi-bin/message/custom/send"
TEMPLATE = "cgi-bin/message/template/send"
#: Flows the test menu names.
FLOWS = {"faq", "bind"}
#: Tests run in safe mode; those about the callback's wire format run in plaintext mode too.
BOTH_MODES = pytest.mark.parametrize("wechat", ["safe", "plaintext"], indirect=True)


@dataclass
class WeChat:
    channel: WeChatChannel
    server: WeChatServer
    api: FakeWeChatApi
    runtime: Runtime

    async def inbox_rows(self) -> int:
        async with self.runtime.uow() as uow:
            query = select(func.count()).select_from(ProcessedUpdate)
            return int((await uow.session.execute(query)).scalar_one())


@pytest.fixture(scope="module")
def running_wechat_api() -> Iterator[FakeWeChatApi]:
    api = FakeWeChatApi().start()
    yield api
    api.stop()


@pytest.fixture
def wechat_api(running_wechat_api: FakeWeChatApi) -> FakeWeChatApi:
    running_wechat_api.reset()
    return running_wechat_api


@pytest.fixture
def wechat_config(tmp_path: Path) -> Path:
    """The project's config with template ids filled in, as an operator would."""
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    templates = config / "wechat_templates.yaml"
    text = templates.read_text(encoding="utf-8")
    templates.write_text(text.replace('template_id: ""', 'template_id: "TPL-ID"'), "utf-8")
    return config


@pytest.fixture
def wechat_settings(
    make_settings: Callable[..., Settings],
    database_url: str,
    wechat_api: FakeWeChatApi,
    wechat_config: Path,
) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": database_url,
            "config_dir": wechat_config,
            "wechat_app_id": APP_ID,
            "wechat_app_secret": APP_SECRET,
            "wechat_token": TOKEN,
            "wechat_aes_key": AES_KEY,
            "wechat_api_base_url": wechat_api.base_url,
        }
        return make_settings(**(values | overrides))

    return make


@pytest.fixture
async def wechat(
    request: pytest.FixtureRequest,
    runtime: Runtime,
    wechat_settings: Callable[..., Settings],
    wechat_api: FakeWeChatApi,
    clock: FakeClock,
) -> AsyncIterator[WeChat]:
    safe = getattr(request, "param", "safe") == "safe"
    settings = wechat_settings(wechat_aes_key=AES_KEY if safe else None)
    channel = make_wechat_channel(settings, runtime)
    runtime.channels.append(channel)
    runtime.services.gateways[channel.name] = channel
    await runtime.outbox.start()  # sends what cannot go passively, as `run` does
    async with serving(create_app(runtime)) as url, httpx.AsyncClient(base_url=url) as client:
        yield WeChat(
            channel, WeChatServer(client, clock, app_id=APP_ID, safe=safe), wechat_api, runtime
        )
        await runtime.outbox.stop()
        await channel.stop()


# -- the handshake and round trips ------------------------------------------------------------
@BOTH_MODES
async def test_url_verification_echoes_echostr(wechat: WeChat) -> None:
    response = await wechat.server.verify("echo-42")
    assert (response.status_code, response.text) == (200, "echo-42")


@BOTH_MODES
async def test_url_verification_with_a_wrong_signature_is_refused(wechat: WeChat) -> None:
    response = await wechat.server.verify("echo-42", signature="0" * 40)
    assert response.status_code == 403


@BOTH_MODES
async def test_a_text_message_gets_a_passive_reply_in_the_same_mode(wechat: WeChat) -> None:
    answer = await wechat.server.send(wechat.server.text(OPENID, "帮助"))
    assert answer.encrypted is wechat.server.safe
    assert answer.fields["ToUserName"] == OPENID
    assert answer.fields["MsgType"] == "text"
    assert "邀请码" in answer.content
    assert "回复 1 " in answer.content  # the menu button as a numbered option


async def test_a_typed_number_presses_the_numbered_button(wechat: WeChat) -> None:
    await wechat.server.send(wechat.server.text(OPENID, "菜单"))
    answer = await wechat.server.send(wechat.server.text(OPENID, "1"))
    assert "邀请码" in answer.content  # 1 = 绑定房屋 for an unbound owner


async def test_english_typed_in_wechat_is_answered_and_english_offered_by_number(
    wechat: WeChat, demo_codes: dict[str, str]
) -> None:
    """WeChat gives no language hint: the owner starts in Chinese and types English."""
    await wechat.server.send(
        wechat.server.event(OPENID, "subscribe", f"qrscene_{demo_codes['张伟']}")
    )
    answer = await wechat.server.send(wechat.server.text(OPENID, "my kitchen pipe is leaking"))
    assert "已记下您的描述" in answer.content and "Prefer English?" in answer.content
    options = [line for line in answer.content.splitlines() if line.startswith("回复 ")]
    assert options[-1].endswith("🌐 English")  # the last numbered option
    number = options[-1].split()[1]
    answer = await wechat.server.send(wechat.server.text(OPENID, number))
    assert "Language set to English." in answer.content
    assert "Reply 1: 🔧 Repair" in answer.content  # the menu, numbered in English


@BOTH_MODES
async def test_an_image_is_acknowledged_and_its_media_downloadable(wechat: WeChat) -> None:
    wechat.api.media["MEDIA-1"] = png_bytes()
    answer = await wechat.server.send(wechat.server.image(OPENID, "MEDIA-1"))
    assert "图片" in answer.content
    assert await wechat.channel.fetch_media("MEDIA-1", 1_000_000) == png_bytes()


async def test_voice_is_answered_politely(wechat: WeChat) -> None:
    fields = wechat.server.text(OPENID, "")
    fields.update(MsgType="voice", MediaId="VOICE-1", Format="amr")
    del fields["Content"]
    answer = await wechat.server.send(fields)
    assert "文字" in answer.content


async def test_notifications_are_acknowledged_without_recording(wechat: WeChat) -> None:
    answer = await wechat.server.send(
        wechat.server.event(OPENID, "TEMPLATESENDJOBFINISH") | {"Status": "success"}
    )
    assert answer.is_success
    assert await wechat.inbox_rows() == 0


# -- binding through a QR scene ---------------------------------------------------------------
async def test_subscribing_through_a_qr_code_binds_the_home(
    wechat: WeChat, demo_codes: dict[str, str]
) -> None:
    code = demo_codes["张伟"]
    answer = await wechat.server.send(wechat.server.event(OPENID, "subscribe", f"qrscene_{code}"))
    assert "绑定成功" in answer.content
    assert "回复 1 " in answer.content  # followed by the menu


async def test_scanning_when_already_following_binds_too(
    wechat: WeChat, demo_codes: dict[str, str]
) -> None:
    answer = await wechat.server.send(wechat.server.event(OPENID, "SCAN", demo_codes["张伟"]))
    assert "绑定成功" in answer.content


async def test_a_menu_click_starts_its_flow(wechat: WeChat) -> None:
    answer = await wechat.server.send(wechat.server.event(OPENID, "CLICK", "flow:help"))
    assert "邀请码" in answer.content


# -- WeChat's retries -------------------------------------------------------------------------
@BOTH_MODES
async def test_a_retried_message_gets_the_same_reply_and_is_handled_once(
    wechat: WeChat, demo_codes: dict[str, str]
) -> None:
    fields = wechat.server.event(OPENID, "subscribe", f"qrscene_{demo_codes['张伟']}")
    first = await wechat.server.send(fields)
    again = await wechat.server.send(fields)
    assert again.content == first.content
    assert await wechat.inbox_rows() == 1
    assert await _bind_audits(wechat) == 1


async def test_concurrent_retries_are_handled_once(
    wechat: WeChat, demo_codes: dict[str, str]
) -> None:
    fields = wechat.server.event(OPENID, "subscribe", f"qrscene_{demo_codes['张伟']}")
    answers = await asyncio.gather(*(wechat.server.send(fields) for _ in range(3)))
    replies = {a.content for a in answers if not a.is_success}
    assert len(replies) == 1
    assert "绑定成功" in replies.pop()
    assert await _bind_audits(wechat) == 1


async def test_a_passive_reply_closes_its_outbox_row(wechat: WeChat) -> None:
    """The reply went back in the HTTP response: the outbox must not send it again."""
    answer = await wechat.server.send(wechat.server.text(OPENID, "帮助"))
    assert not answer.is_success
    async with wechat.runtime.uow() as uow:
        counts = await uow.outbox.status_counts(wechat.runtime.services.clock())
    assert [(c.purpose, c.state, c.count) for c in counts] == [("reply", "sent", 1)]
    assert wechat.api.calls(CUSTOM) == []


@BOTH_MODES
async def test_a_slow_reply_goes_by_customer_service_after_success(
    wechat: WeChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wechat_module, "REPLY_DEADLINE_SECONDS", 0.0)
    answer = await wechat.server.send(wechat.server.text(OPENID, "帮助"))
    assert answer.is_success  # a bare success, never encrypted
    [call] = await wechat.api.wait_for(CUSTOM)
    assert call.body["touser"] == OPENID
    assert call.body["msgtype"] == "msgmenu"
    assert "邀请码" in call.body["msgmenu"]["head_content"]


async def test_a_burst_is_answered_success_at_once_and_replied_by_customer_service(
    wechat: WeChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A callback that finds others in flight or just arrived (here: any, the budget being 0)
    gets `success` as soon as it is recorded; its reply goes by 客服 once the burst leaves
    room. Every owner gets exactly one reply, one way or the other (the first, alone, is
    answered passively), and every message is in the inbox."""
    monkeypatch.setattr(wechat_module, "PASSIVE_BUDGET_SECONDS", 0.0)
    alone = await wechat.server.send(wechat.server.text("oBurstOwnerAlone", "帮助"))
    assert alone.content, "a callback with no other around was not answered passively"
    messages = [wechat.server.text(f"oBurstOwner{n:02d}", "帮助") for n in range(20)]
    answers = await asyncio.gather(*(wechat.server.send(m) for m in messages))
    assert all(answer.status == 200 for answer in answers)
    late = sorted(m["FromUserName"] for m, a in zip(messages, answers, strict=True) if a.is_success)
    assert late, "no callback found another in flight"
    await wechat.api.wait_for(CUSTOM, len(late))
    await asyncio.sleep(0.5)  # a reply sent twice would show up by now
    assert sorted(call.body["touser"] for call in wechat.api.calls(CUSTOM)) == late
    assert await wechat.inbox_rows() == len(messages) + 1


async def test_database_down_answers_503_so_wechat_retries(
    wechat: WeChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unavailable(msgs: Sequence[IncomingMessage]) -> None:
        raise EngineUnavailable("database unavailable")

    monkeypatch.setattr(wechat.runtime.engine, "record_batch", unavailable)
    answer = await wechat.server.send(wechat.server.text(OPENID, "帮助"))
    assert answer.status == 503


async def test_a_photo_in_a_flow_with_no_stored_token_answers_in_time(
    wechat: WeChat, demo_codes: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """Without Redis the token lives in a database row. Fetching it while the flow's
    transaction held SQLite's write lock made a second writer wait for that very lock:
    "database is locked" three times and 45 s, callbacks of other owners late too."""
    chat = Chat(wechat.runtime, user_id=OPENID, channel="wechat")
    await chat.say(f"绑定 {demo_codes['李娜']}")
    await chat.say("报修")
    await chat.press(chat.button("给排水管道"))
    await chat.say("卫生间地漏堵了")
    assert "照片" in chat.text
    wechat.api.media["MEDIA-9"] = png_bytes()
    started = time.monotonic()
    answer = await wechat.server.send(wechat.server.image(OPENID, "MEDIA-9"))
    assert time.monotonic() - started < 4.5
    assert answer.status == 200 and "第 1 张" in answer.content
    assert wechat.api.token_fetches == 1
    assert not [r for r in caplog.records if "locked" in r.getMessage()]


async def test_a_failed_media_download_logs_no_access_token(
    runtime: Runtime,
    wechat_settings: Callable[..., Settings],
    wechat_api: FakeWeChatApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The URL of a failed download carries `access_token=`: logged, it lets anyone with the
    logs call the WeChat API as us for two hours."""
    token = StoredToken("ACCESS-TOKEN-0123456789", runtime.services.clock() + timedelta(hours=2))
    store, now = DatabaseTokenStore(runtime.uow, APP_ID), runtime.services.clock()
    assert await store.try_lease("test", now)
    await store.save("test", token, now)
    settings = wechat_settings(wechat_api_base_url=wechat_api.base_url + "/moved/")
    channel = make_wechat_channel(settings, runtime)
    redaction.install(settings.secret_values)
    try:
        with pytest.raises(MediaError):
            await channel.fetch_media("MEDIA-1", 1_000_000)
    finally:
        redaction.uninstall()
        await channel.stop()
    assert "/moved/cgi-bin/media/get" in caplog.text
    assert token.token not in caplog.text


@pytest.mark.parametrize("backend", ["sqlite"])  # PostgreSQL locks rows, not the database
async def test_a_sqlite_write_lock_held_elsewhere_is_answered_within_wechats_5_s(
    wechat: WeChat, database_url: str
) -> None:
    """Another process holding SQLite's write lock (a backup, a long import) made callbacks
    wait ~47 s (three busy timeouts); WeChat gives up after 5 s and tells the owner the
    account cannot serve. The callback answers in time and WeChat's retry finds the update."""
    holder = sqlite3.connect(database_url.split("///", 1)[1])
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        answer = await wechat.server.send(wechat.server.text(OPENID, "帮助", msg_id=777))
        elapsed = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert elapsed < 4.8 and answer.status in (200, 503)


# -- forged and hostile requests --------------------------------------------------------------
@BOTH_MODES
async def test_forged_requests_are_refused_without_touching_data(wechat: WeChat) -> None:
    server = wechat.server
    xml = message_xml(server.text(OPENID, "帮助"))
    stale = server.signed_params(timestamp=int(server.clock().timestamp()) - 301)
    assert (await server.post(xml, signature="f" * 40)).status == 403
    assert (await server.post_raw(xml.encode(), stale)).status == 403
    assert (await server.post_raw(b"<xml><Broken>", server.signed_params())).status in (400, 403)
    assert await wechat.inbox_rows() == 0


@pytest.mark.parametrize("wechat", ["plaintext"], indirect=True)
async def test_a_replayed_signature_with_another_body_is_refused(wechat: WeChat) -> None:
    """Plaintext mode signs only (timestamp, nonce): a captured query string must not carry
    a forged body (another FromUserName) within the 300-s window. WeChat's own retry sends
    the same body again and still gets its answer."""
    server = wechat.server
    params = server.signed_params()
    genuine = message_xml(server.text(OPENID, "帮助", msg_id=4242)).encode()
    assert (await server.post_raw(genuine, params)).status == 200
    assert (await server.post_raw(genuine, params)).status == 200
    forged = message_xml(server.text("oForgedOwner000000000000000", "帮助")).encode()
    assert (await server.post_raw(forged, params)).status == 403
    assert await wechat.inbox_rows() == 1


async def test_plaintext_mode_is_announced_at_start(
    wechat_settings: Callable[..., Settings], runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    channel = make_wechat_channel(wechat_settings(wechat_aes_key=None), runtime)
    await channel.start()
    await channel.stop()
    warnings = [r for r in caplog.records if "WECHAT_AES_KEY" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"


async def test_safe_mode_refuses_bad_msg_signature_other_app_and_plaintext(
    wechat: WeChat,
) -> None:
    server = wechat.server
    xml = message_xml(server.text(OPENID, "帮助"))
    assert (await server.post(xml, msg_signature="0" * 40)).status == 403
    assert (await server.post(xml, app_id="wxsomeoneelse0000")).status == 403
    assert (await server.post_raw(xml.encode(), server.signed_params())).status == 403
    assert await wechat.inbox_rows() == 0


@BOTH_MODES
async def test_malformed_and_entity_bodies_are_refused(wechat: WeChat) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        "<xml><ToUserName>x</ToUserName><FromUserName>&b;</FromUserName>"
        "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content>"
        "<MsgId>1</MsgId></xml>"
    )
    external = '<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml>&e;</xml>'
    for body in (bomb, external, "<xml><MsgType>text</MsgType>", "not xml", "<xml></xml>"):
        assert (await wechat.server.post(body)).status == 400, body
    assert await wechat.inbox_rows() == 0


@BOTH_MODES
@pytest.mark.parametrize("create_time", ["soon", "²", "9" * 40])
async def test_a_signed_message_whose_create_time_is_not_a_number_is_refused(
    wechat: WeChat, create_time: str, caplog: pytest.LogCaptureFixture
) -> None:
    fields = wechat.server.text(OPENID, "帮助") | {"CreateTime": create_time}
    assert (await wechat.server.send(fields)).status == 400
    assert await wechat.inbox_rows() == 0
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1 and refusals[0].exc_info is None


@BOTH_MODES
async def test_oversized_bodies_are_refused_by_length_and_while_streaming(
    wechat: WeChat,
) -> None:
    server = wechat.server
    huge = b"<xml>" + b"a" * 70_000 + b"</xml>"
    assert (await server.post_raw(huge, server.signed_params())).status == 413

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"a" * 8192

    response = await server.client.post("/wechat", params=server.signed_params(), content=chunked())
    assert response.status_code == 413
    assert await wechat.inbox_rows() == 0


# -- sending: the 48-hour window, errors, the token -------------------------------------------
async def test_push_within_48_hours_goes_by_customer_service(
    wechat: WeChat, clock: FakeClock
) -> None:
    reply = Reply("工单已完成", buttons=((Button("评价", "survey:rate"),),))
    push = Push("ticket_update", last_inbound_at=clock() - timedelta(hours=47))
    await wechat.channel.send(OPENID, [reply], lang="zh", push=push)
    [call] = wechat.api.calls(CUSTOM)
    assert call.body["msgmenu"]["list"] == [{"id": "1", "content": "评价"}]
    assert not wechat.api.calls(TEMPLATE)


async def test_push_beyond_48_hours_is_a_template_message_with_the_link(
    wechat: WeChat, clock: FakeClock
) -> None:
    push = Push("survey", clock() - timedelta(hours=49), link_url="https://bot.example/s/1?sig=x")
    await wechat.channel.send(OPENID, [Reply("请为本次维修服务评分")], lang="zh", push=push)
    [call] = wechat.api.calls(TEMPLATE)
    assert call.body["url"] == "https://bot.example/s/1?sig=x"
    assert call.body["template_id"] == "TPL-ID"
    assert call.body["data"]["thing2"]["value"] == "请为本次维修服务评分"
    assert not wechat.api.calls(CUSTOM)


async def test_a_survey_beyond_48_hours_opens_the_survey_page_in_one_tap(
    wechat: WeChat, demo_codes: dict[str, str], clock: FakeClock
) -> None:
    """The template message leads to the survey itself, not to a page with a link on it."""
    server = wechat.server
    await server.send(server.event(OPENID, "subscribe", f"qrscene_{demo_codes['张伟']}"))
    clock.advance(hours=49)
    await set_handover(wechat.runtime, "1-0101", clock().date() - timedelta(days=31))
    assert await wechat.runtime.surveys.daily() == 1  # the one-month revisit, queued
    await wechat.runtime.outbox.run_once()
    [call] = wechat.api.calls(TEMPLATE)
    link = httpx.URL(call.body["url"])
    [survey] = await surveys(wechat.runtime)
    assert link.path == f"/s/{survey.id}" and link.params["t"]
    page = await server.client.get(f"{link.path}?{link.query.decode()}")
    assert page.status_code == 200
    assert "收房一个月回访" in page.text and "入住以来的居住体验如何" in page.text
    assert not wechat.api.calls(CUSTOM)


async def test_out_of_window_error_falls_back_to_a_template(
    wechat: WeChat, clock: FakeClock
) -> None:
    wechat.api.fail_next(CUSTOM, 45015)
    push = Push("ticket_update", clock() - timedelta(hours=1), link_url="https://bot.example/t/9")
    await wechat.channel.send(OPENID, [Reply("师傅已出发")], lang="zh", push=push)
    assert len(wechat.api.calls(TEMPLATE)) == 1


async def test_an_unsubscribed_owner_is_a_permanent_failure(
    wechat: WeChat, clock: FakeClock
) -> None:
    wechat.api.fail_next(CUSTOM, 43004)
    with pytest.raises(DeliveryError) as raised:
        await wechat.channel.send(
            OPENID, [Reply("hi")], lang="zh", push=Push("ticket_update", clock())
        )
    assert raised.value.permanent


async def test_a_rate_limit_asks_to_retry_later(wechat: WeChat, clock: FakeClock) -> None:
    wechat.api.fail_next(CUSTOM, 45009)
    with pytest.raises(DeliveryError) as raised:
        await wechat.channel.send(
            OPENID, [Reply("hi")], lang="zh", push=Push("ticket_update", clock())
        )
    assert not raised.value.permanent
    assert raised.value.retry_after is not None and raised.value.retry_after > 0


async def test_an_expired_token_is_refreshed_once_and_the_call_retried_once(
    wechat: WeChat,
) -> None:
    await wechat.channel.send(OPENID, [Reply("第一条")], lang="zh")
    wechat.api.expire_tokens()
    await wechat.channel.send(OPENID, [Reply("第二条")], lang="zh")
    calls = wechat.api.calls(CUSTOM)
    assert wechat.api.token_fetches == 2
    assert len(calls) == 3  # ok, rejected (42001), retried
    assert calls[1].tokens == calls[0].tokens
    assert len(calls[2].tokens) == 1 and calls[2].tokens != calls[1].tokens


async def test_a_persistent_token_error_is_not_retried_forever(wechat: WeChat) -> None:
    wechat.api.fail_always(CUSTOM, 40001)
    with pytest.raises(DeliveryError):
        await wechat.channel.send(OPENID, [Reply("hi")], lang="zh")
    assert len(wechat.api.calls(CUSTOM)) == 2
    assert wechat.api.token_fetches == 2


async def test_a_token_is_fetched_once_for_many_concurrent_sends(wechat: WeChat) -> None:
    await asyncio.gather(
        *(wechat.channel.send(OPENID, [Reply(f"#{n}")], lang="zh") for n in range(20))
    )
    assert wechat.api.token_fetches == 1


async def test_too_large_media_is_refused_by_length_and_while_streaming(
    wechat: WeChat,
) -> None:
    wechat.api.media["BIG"] = b"x" * 50_000
    wechat.api.media["CHUNKED-BIG"] = b"x" * 50_000
    for media_id in ("BIG", "CHUNKED-BIG"):
        with pytest.raises(MediaError) as raised:
            await wechat.channel.fetch_media(media_id, 10_000)
        assert raised.value.reason == "too_large"
    with pytest.raises(MediaError):
        await wechat.channel.fetch_media("UNKNOWN", 10_000)


async def _bind_audits(wechat: WeChat) -> int:
    async with wechat.runtime.uow() as uow:
        query = select(func.count()).select_from(AuditLog).where(AuditLog.action == "bind")
        return int((await uow.session.execute(query)).scalar_one())


# -- set-up commands --------------------------------------------------------------------------
async def test_the_menu_is_created_from_config(wechat: WeChat, wechat_config: Path) -> None:
    (wechat_config / "wechat_menu.yaml").write_text(
        "buttons:\n"
        "  - {name: 常见问题, key: 'flow:faq'}\n"
        "  - name: 更多\n"
        "    buttons:\n"
        "      - {name: 绑定房屋, key: 'flow:bind'}\n"
        "      - {name: 物业官网, url: 'https://example.com'}\n",
        encoding="utf-8",
    )
    assert await create_menu(wechat.channel.api, wechat_config / "wechat_menu.yaml", FLOWS) == 0
    [call] = wechat.api.calls("cgi-bin/menu/create")
    assert call.body == {
        "button": [
            {"type": "click", "name": "常见问题", "key": "flow:faq"},
            {
                "name": "更多",
                "sub_button": [
                    {"type": "click", "name": "绑定房屋", "key": "flow:bind"},
                    {"type": "view", "name": "物业官网", "url": "https://example.com"},
                ],
            },
        ]
    }


def test_the_shipped_menu_names_only_flows_the_bot_has() -> None:
    menu = load_menu(PROJECT_ROOT / "config" / "wechat_menu.yaml")
    assert unknown_flows(menu, {flow.name for flow in all_flows()}) == []


async def test_a_menu_beyond_wechats_limits_is_refused_before_sending(
    wechat: WeChat, wechat_config: Path
) -> None:
    (wechat_config / "wechat_menu.yaml").write_text(
        "buttons:\n  - {name: 这个名字实在是太长了, key: 'flow:faq'}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError):
        await create_menu(wechat.channel.api, wechat_config / "wechat_menu.yaml", FLOWS)
    assert not wechat.api.calls("cgi-bin/menu/create")


async def test_a_qr_code_per_valid_invite_code_and_none_twice(
    wechat: WeChat, demo_codes: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "qrcodes"
    codes = await valid_invite_codes(wechat.runtime.uow, wechat.runtime.services.clock())
    await create_qrcodes(wechat.channel.api, codes, out)
    created = wechat.api.calls("cgi-bin/qrcode/create")
    assert len(created) >= len(demo_codes)
    code = demo_codes["张伟"]
    assert (out / f"{code}.png").read_bytes() == png_bytes()
    scenes = {c.body["action_info"]["scene"]["scene_str"] for c in created}
    assert code in scenes
    assert {c.body["action_name"] for c in created} == {"QR_LIMIT_STR_SCENE"}
    assert f"{code},http://weixin.qq.com/q/{code}" in (out / "qrcodes.csv").read_text()
    await create_qrcodes(wechat.channel.api, codes, out)
    assert len(wechat.api.calls("cgi-bin/qrcode/create")) == len(created)


async def test_a_photo_reply_is_uploaded_and_sent_as_an_image(wechat: WeChat) -> None:
    path = wechat.runtime.services.media.save_image(png_bytes())
    await wechat.channel.send(OPENID, [Reply("现场照片", photo_path=path)], lang="zh")
    assert len(wechat.api.calls("cgi-bin/media/upload")) == 1
    text, image = wechat.api.calls(CUSTOM)
    assert text.body["text"] == {"content": "现场照片"}
    assert image.body["msgtype"] == "image"
    assert image.body["image"]["media_id"].startswith("UPLOADED-")


async def test_template_keywords_are_cut_to_wechats_limits(
    wechat: WeChat, clock: FakeClock
) -> None:
    long_line = "您的报修单已由维修师傅处理完毕，请对本次服务进行评价，感谢您的配合"
    await wechat.channel.send(
        OPENID, [Reply(long_line)], lang="zh", push=Push("survey", None, "https://x/s")
    )
    [call] = wechat.api.calls(TEMPLATE)
    value = call.body["data"]["thing2"]["value"]
    assert len(value) == 20 and value.endswith("…")
    assert call.body["data"]["thing1"]["value"] == "满意度回访"


async def test_an_owner_with_a_reply_left_for_after_a_burst_keeps_the_order(
    wechat: WeChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An owner's message answered `success` in a burst is handled after it; their next
    message, even once the burst is over, waits its turn behind it instead of being handled
    (and answered passively) first."""
    monkeypatch.setattr(wechat_module, "PASSIVE_BUDGET_SECONDS", 0.0)
    owner = "oOrderedOwner"
    async with wechat.channel._backlog._deferred_turn:  # the burst's replies wait
        first = [wechat.server.text(owner, "帮助")]
        others = [wechat.server.text(f"oBurstOwner{n:02d}", "帮助") for n in range(5)]
        answers = await asyncio.gather(*(wechat.server.send(m) for m in first + others))
        assert answers[0].is_success
        monkeypatch.setattr(wechat_module, "PASSIVE_BUDGET_SECONDS", 3600.0)
        second = await wechat.server.send(wechat.server.text(owner, "你好"))
        assert second.is_success  # not handled before the first
    calls = await wechat.api.wait_for(CUSTOM, 1 + sum(a.is_success for a in answers))
    mine = [call.body for call in calls if call.body["touser"] == owner]
    assert len(mine) == 2
    assert mine[0]["msgtype"] == "msgmenu" and "邀请码" in mine[0]["msgmenu"]["head_content"]
