"""Relay both ways through the real channel adapters: a Telegram owner (real adapter and PTB
against the fake Bot API) and a WeChat owner (signed callbacks from the fake WeChat server,
客服 and template messages to the fake WeChat API) reach staff through the REST API, get the
staff's answers in their own channel while the bot stays silent, and get the bot back when
staff close. Pushes leave through the real outbox worker."""

from __future__ import annotations

import asyncio
import json

import httpx

from bot.app.bootstrap import Runtime
from bot.channels.telegram.channel import TelegramChannel
from bot.testing.fake_telegram import FakeTelegram, text_update
from tests.e2e.conftest import fake  # noqa: F401  (fixture)
from tests.e2e.test_telegram_conversation import Owner, telegram, texts_to  # noqa: F401
from tests.e2e.test_wechat import (  # noqa: F401  (fixtures)
    CUSTOM,
    OPENID,
    TEMPLATE,
    WeChat,
    running_wechat_api,
    wechat,
    wechat_api,
    wechat_config,
    wechat_settings,
)
from tests.fakes.telegram_harness import eventually
from tests.staff.conftest import sign_in
from tests.support import FakeClock

H = dict[str, dict[str, str]]
TELEGRAM_OWNER = 6001


async def escalation_messages(runtime: Runtime) -> int:
    async with runtime.uow() as uow:
        [listing] = await uow.escalations.listing()
        return len(await uow.escalations.messages(listing.escalation.id))


async def test_a_telegram_complaint_is_answered_by_staff_and_closed(
    telegram: TelegramChannel,  # noqa: F811
    fake: FakeTelegram,  # noqa: F811
    demo_codes: dict[str, str],
    api: httpx.AsyncClient,
    headers: H,
    runtime: Runtime,
) -> None:
    owner = Owner(fake, TELEGRAM_OWNER)
    await owner.says(f"/start {demo_codes['张伟']}", expect="绑定成功")
    await owner.says("投诉", expect="报修")
    await owner.presses("投诉", expect="哪一套房屋")
    await owner.presses("1栋-1-0101", expect="描述")
    await owner.says("小区门禁坏了一个月没人修", expect="哪方面")
    await owner.presses("物业服务", expect="多少户")
    await owner.presses("只有我家", expect="照片")
    await owner.says("完成", expect="提交")
    await owner.presses("提交", expect="TS-")

    [item] = (await api.get("/api/v1/escalations?status=waiting", headers=headers["agent"])).json()
    assert item["channel"] == "telegram" and item["owner_name"] == "张伟" and item["grade"] == "G3"
    path = f"/api/v1/escalations/{item['id']}"
    assert (await api.post(f"{path}/claim", headers=headers["agent"])).status_code == 200
    await runtime.outbox.run_once()
    await eventually(lambda: _told(fake, "客服王芳正在为您服务"))

    before = len(fake.sent_to(TELEGRAM_OWNER))
    stored = await escalation_messages(runtime)
    fake.push_update(text_update(TELEGRAM_OWNER, "门禁在2号门"))
    await eventually(lambda: _more(runtime, stored))
    reply = {"text": "已安排维修，今天下午修好"}
    assert (await api.post(f"{path}/messages", json=reply, headers=headers["agent"])).is_success
    await runtime.outbox.run_once()
    await eventually(lambda: _told(fake, "已安排维修", before))
    new = [call.params["text"] for call in fake.sent_to(TELEGRAM_OWNER)[before:]]
    assert new == ["客服王芳：已安排维修，今天下午修好"]  # nothing from the bot in between

    detail = (await api.get(path, headers=headers["agent"])).json()
    assert ("owner", "门禁在2号门") in [(m["author"], m["text"]) for m in detail["messages"]]
    assert (await api.post(f"{path}/close", headers=headers["agent"])).status_code == 200
    await runtime.outbox.run_once()
    await eventually(lambda: _told(fake, "结束本次人工服务", before))
    await owner.presses("满意", expect="感谢您的评价")
    await owner.says("屋面防水保修几年", expect="5年")  # the bot answers again


async def test_a_ticket_completed_through_the_api_reaches_the_telegram_owner(
    telegram: TelegramChannel,  # noqa: F811
    fake: FakeTelegram,  # noqa: F811
    demo_codes: dict[str, str],
    api: httpx.AsyncClient,
    headers: H,
    runtime: Runtime,
    clock: FakeClock,
) -> None:
    owner = Owner(fake, TELEGRAM_OWNER)
    await owner.says(f"/start {demo_codes['李娜']}", expect="绑定成功")
    await owner.says("报修", expect="报修类别")
    await owner.presses("给排水管道", expect="描述")
    await owner.says("卫生间地漏返味", expect="照片")
    await owner.says("完成", expect="哪个位置")
    await owner.presses("卫生间", expect="联系")
    await owner.says("周末全天", expect="提交")
    await owner.presses("提交", expect="BX-")

    [ticket] = (await api.get("/api/v1/tickets", headers=headers["agent"])).json()
    path = f"/api/v1/tickets/{ticket['id']}/status"
    steps = [
        {"status": "accepted"},
        {"status": "dispatched", "assignee": "张师傅"},
        {"status": "in_progress"},
        {"status": "completed", "note": "已重做地漏防臭芯。"},
    ]
    for step in steps:
        assert (await api.post(path, json=step, headers=headers["agent"])).status_code == 200
    # Four pushes to one chat: Telegram's 1/s per chat defers the last to a later second.
    for _ in range(20):
        await runtime.outbox.run_once()
        if "已重做地漏防臭芯" in texts_to(fake, TELEGRAM_OWNER):
            break
        clock.advance(seconds=2)
        await asyncio.sleep(0.5)  # a send the pacer holds back may still be on its way
    pushed = texts_to(fake, TELEGRAM_OWNER)
    assert "已受理" in pushed and "张师傅" in pushed and "已重做地漏防臭芯" in pushed
    await owner.presses("已修好", expect="感谢确认")
    detail = (await api.get(f"/api/v1/tickets/{ticket['id']}", headers=headers["agent"])).json()
    assert detail["status"] == "confirmed" and detail["events"][-1]["actor"].startswith("owner:")


async def _told(chat: FakeTelegram, text: str, after: int = 0) -> bool:
    """The owner's chat shows `text`. The channel's own outbox worker runs beside the test and
    may claim the row first; `run_once` then returns before that worker has sent it."""
    return text in texts_to(chat, TELEGRAM_OWNER, after)


async def _more(runtime: Runtime, than: int) -> bool:
    return await escalation_messages(runtime) > than


async def test_a_wechat_hand_off_relays_by_customer_service_then_by_template(
    wechat: WeChat,  # noqa: F811
    api: httpx.AsyncClient,
    headers: H,
    runtime: Runtime,
    clock: FakeClock,
) -> None:
    server = wechat.server
    started = await server.send(server.text(OPENID, "人工"))
    assert "转接人工客服" in started.content
    [item] = (await api.get("/api/v1/escalations", headers=headers["agent"])).json()
    assert item["channel"] == "wechat" and item["grade"] is None
    path = f"/api/v1/escalations/{item['id']}"

    await api.post(f"{path}/claim", headers=headers["agent"])
    await runtime.outbox.run_once()
    [claimed] = wechat.api.calls(CUSTOM)
    assert "客服王芳正在为您服务" in json.dumps(claimed.body, ensure_ascii=False)

    silent = await server.send(server.text(OPENID, "楼上装修太吵了"))
    assert silent.is_success  # no reply: a person is answering
    await api.post(f"{path}/messages", json={"text": "我们马上联系楼上"}, headers=headers["agent"])
    await runtime.outbox.run_once()
    relayed = wechat.api.calls(CUSTOM)[-1].body
    assert relayed["msgtype"] == "text"
    assert relayed["text"]["content"] == "客服王芳：我们马上联系楼上"

    clock.advance(hours=49)  # beyond the 48-hour window: a template message with the page link
    agent = {"Authorization": f"Bearer {await sign_in(api, 'agent')}"}  # the old token expired
    sent = await api.post(f"{path}/messages", json={"text": "已协调完毕"}, headers=agent)
    assert sent.status_code == 201
    await runtime.outbox.run_once()
    [template] = wechat.api.calls(TEMPLATE)
    assert "/m/" in template.body["url"] and "t=" in template.body["url"]
    assert template.body["data"]["thing2"]["value"].startswith("客服王芳")
    page = await api.get(template.body["url"].split("127.0.0.1:8080")[-1])
    assert "已协调完毕" in page.text  # the signed page shows the whole message

    await api.post(f"{path}/close", headers=agent)
    await runtime.outbox.run_once()
    assert len(wechat.api.calls(TEMPLATE)) == 2
    rated = await server.send(server.text(OPENID, "1"))
    assert "感谢您的评价" in rated.content
    clock.advance(minutes=1)
    assert "5年" in (await server.send(server.text(OPENID, "屋面防水保修几年"))).content
    assert (await api.get(path, headers=agent)).json()["satisfaction"] == "satisfied"
