"""The Telegram staff group end to end: the real adapter and PTB against the fake Bot API (a
forum supergroup with topics and members), owners in Telegram and WeChat, the real outbox
worker and the deadline watcher with an injected clock."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from bot.app.bootstrap import Runtime, staff_desk
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.staff_group import StaffGroup
from bot.domain.staff import StaffRole
from bot.engine.types import IncomingMessage, MessageKind
from bot.scheduler.deadlines import DeadlineWatcher
from bot.services.staff import link_telegram
from bot.services.staff_group import CHANNEL
from bot.storage.models import AuditLog, ProcessedUpdate
from bot.testing.fake_telegram import FakeTelegram, photo_update, text_update, topic_update
from tests.e2e.conftest import fake  # noqa: F401  (fixture)
from tests.e2e.test_telegram_conversation import Owner, texts_to
from tests.e2e.test_wechat import (  # noqa: F401  (fixtures)
    CUSTOM,
    OPENID,
    WeChat,
    running_wechat_api,
    wechat,
    wechat_api,
    wechat_config,
    wechat_settings,
)
from tests.fakes.telegram_harness import RecordingSleep, eventually, running
from tests.staff.support import make_staff
from tests.support import Chat, FakeClock

GROUP = -1001234567890
AGENT_TG, SUPERVISOR_TG, ADMIN_TG, STRANGER_TG, LEFT_TG = 7001, 7002, 7003, 7999, 7004
TELEGRAM_OWNER = 6101


@pytest.fixture
async def staff(runtime: Runtime, fake: FakeTelegram) -> None:  # noqa: F811
    """王芳 (agent), 主管 (supervisor), 经理 (admin) linked and in the group; 小李 (agent) linked
    but no longer a member; a stranger in the group with no account."""
    people = [
        ("wangfang", StaffRole.AGENT, "王芳", AGENT_TG),
        ("zhuguan", StaffRole.SUPERVISOR, "主管", SUPERVISOR_TG),
        ("jingli", StaffRole.ADMIN, "经理", ADMIN_TG),
        ("xiaoli", StaffRole.AGENT, "小李", LEFT_TG),
    ]
    for username, role, name, telegram_id in people:
        await make_staff(runtime, username, role, name)
        async with runtime.uow() as uow:
            await link_telegram(uow, username, telegram_id, "test", runtime.services.clock())
            await uow.commit()
    fake.members[GROUP] = {
        AGENT_TG: "member",
        SUPERVISOR_TG: "administrator",
        ADMIN_TG: "creator",
        STRANGER_TG: "member",
        LEFT_TG: "left",
    }


@pytest.fixture
async def telegram(
    runtime: Runtime,
    fake: FakeTelegram,  # noqa: F811
    staff: None,
) -> AsyncIterator[TelegramChannel]:
    async with running(group_channel(runtime, fake), runtime) as channel:
        yield channel


def group_channel(runtime: Runtime, fake: FakeTelegram) -> TelegramChannel:  # noqa: F811
    settings = runtime.settings.model_copy(
        update={
            "telegram_token": fake.token,
            "telegram_api_base_url": fake.base_url,
            "staff_telegram_chat_id": GROUP,
        }
    )
    channel = TelegramChannel(
        settings,
        runtime.engine,
        sleep=RecordingSleep(),
        staff_desk=staff_desk(settings, runtime.engine, runtime.uow),
    )
    runtime.services.gateways[channel.name] = channel
    return channel


def group_of(channel: TelegramChannel) -> StaffGroup:
    assert channel.staff_group is not None
    return channel.staff_group


def topic_texts(fake: FakeTelegram, thread_id: int | None) -> str:  # noqa: F811
    return "\n".join(
        str(call.params.get("text", call.params.get("caption", "")))
        for call in fake.in_topic(GROUP, thread_id)
    )


def the_topic(fake: FakeTelegram) -> tuple[int, str]:  # noqa: F811
    [(thread_id, name)] = fake.topics[GROUP].items()
    return thread_id, name


async def staff_says(
    runtime: Runtime,
    fake: FakeTelegram,  # noqa: F811
    user_id: int,
    text: str,
    thread_id: int | None,
    expect: str | None = None,
) -> int:
    """Post in the group; wait for the bot's answer in the topic (or for the update to be
    handled, when no answer is expected)."""
    seen = len(fake.in_topic(GROUP, thread_id))
    update_id = fake.push_update(topic_update(GROUP, user_id, text, thread_id))
    if expect is not None:
        await fake.wait_until(
            lambda: (
                expect
                in "\n".join(
                    str(c.params.get("text")) for c in fake.in_topic(GROUP, thread_id)[seen:]
                )
            )
        )
    await eventually(lambda: handled(runtime, update_id))
    return update_id


async def handled(runtime: Runtime, update_id: int) -> bool:
    async with runtime.uow() as uow:
        status = await uow.session.scalar(
            select(ProcessedUpdate.status).where(
                ProcessedUpdate.channel == "telegram_staff",
                ProcessedUpdate.update_key == str(update_id),
            )
        )
    return status == "done"


async def file_complaint(owner: Owner, codes: dict[str, str], description: str) -> None:
    await owner.says(f"/start {codes['张伟']}", expect="绑定成功")
    await owner.says("投诉", expect="报修")
    await owner.presses("投诉", expect="哪一套房屋")
    await owner.presses("1栋-1-0101", expect="描述")
    await owner.says(description, expect="哪方面")
    await owner.presses("物业服务", expect="多少户")
    await owner.presses("只有我家", expect="照片")
    await owner.says("完成", expect="提交")
    await owner.presses("提交", expect="TS-")


async def test_a_telegram_complaint_gets_a_topic_and_staff_answer_claim_and_close_in_it(
    telegram: TelegramChannel,
    fake: FakeTelegram,  # noqa: F811
    demo_codes: dict[str, str],
    runtime: Runtime,
) -> None:
    owner = Owner(fake, TELEGRAM_OWNER)
    await file_complaint(owner, demo_codes, "小区门禁坏了一个月没人修")
    group = group_of(telegram)
    await group.run_once()
    thread_id, name = the_topic(fake)
    assert "1栋-1-0101" in name and "TS-" in name and "张伟" in name

    await staff_says(runtime, fake, AGENT_TG, "/claim", thread_id, expect="客服王芳已认领")
    await runtime.outbox.run_once()
    assert "客服王芳正在为您服务" in texts_to(fake, TELEGRAM_OWNER)

    before = len(fake.sent_to(TELEGRAM_OWNER))
    fake.push_update(text_update(TELEGRAM_OWNER, "门禁在2号门"))
    await eventually(lambda: _owner_said(runtime, "门禁在2号门"))
    await group.run_once()
    await group.run_once()  # shown once, not again
    assert topic_texts(fake, thread_id).count("业主：门禁在2号门") == 1

    await staff_says(runtime, fake, AGENT_TG, "已安排维修，今天下午修好", thread_id)
    await runtime.outbox.run_once()
    new = [call.params["text"] for call in fake.sent_to(TELEGRAM_OWNER)[before:]]
    assert new == ["客服王芳：已安排维修，今天下午修好"]

    # Photos both ways: the owner's appears in the topic, a staff photo reaches the owner.
    fake.push_update(photo_update(TELEGRAM_OWNER, fake.add_file(jpeg("blue")), "门禁照片"))
    await eventually(lambda: _owner_said(runtime, "门禁照片"))
    await group.run_once()
    [shown] = [c for c in fake.in_topic(GROUP, thread_id) if c.method == "sendPhoto"]
    assert shown.params["caption"] == "业主：门禁照片" and shown.files
    staff_photo = topic_update(
        GROUP, AGENT_TG, "修好后的门禁", thread_id, photo_file_id=fake.add_file(jpeg("green"))
    )
    update_id = fake.push_update(staff_photo)
    await eventually(lambda: handled(runtime, update_id))
    await runtime.outbox.run_once()
    [relayed] = [c for c in fake.sent_to(TELEGRAM_OWNER) if c.method == "sendPhoto"]
    assert relayed.params["caption"] == "客服王芳：修好后的门禁" and relayed.files

    await staff_says(
        runtime, fake, AGENT_TG, "/Close@OwnerServiceBot", thread_id, expect="已结束本次人工服务"
    )
    await runtime.outbox.run_once()
    assert "结束本次人工服务" in texts_to(fake, TELEGRAM_OWNER, before)
    await owner.says("屋面防水保修几年", expect="5年")  # the bot answers again
    async with runtime.uow() as uow:
        [listing] = await uow.escalations.listing()
        actions = (
            await uow.session.scalars(
                select(AuditLog.action).where(AuditLog.actor == "staff:wangfang")
            )
        ).all()
    assert listing.escalation.closed_by == "staff:wangfang"
    assert {"escalation_claim", "escalation_reply", "escalation_close"} <= set(actions)


def jpeg(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "JPEG")
    return out.getvalue()


async def _owner_said(runtime: Runtime, text: str) -> bool:
    async with runtime.uow() as uow:
        [listing] = await uow.escalations.listing()
        messages = await uow.escalations.messages(listing.escalation.id)
    return any(m.text == text for m in messages)


async def test_a_reply_in_the_topic_reaches_a_wechat_owner_as_customer_service_message(
    telegram: TelegramChannel,
    fake: FakeTelegram,  # noqa: F811
    wechat: WeChat,  # noqa: F811
    runtime: Runtime,
) -> None:
    server = wechat.server
    assert "转接人工客服" in (await server.send(server.text(OPENID, "人工"))).content
    await server.send(server.text(OPENID, "楼上装修太吵了"))
    group = group_of(telegram)
    await group.run_once()
    thread_id, name = the_topic(fake)
    assert "人工 #" in name
    assert "业主：楼上装修太吵了" in topic_texts(fake, thread_id)

    update_id = await staff_says(runtime, fake, AGENT_TG, "OK 我们马上联系楼上", thread_id)
    fake.replay(update_id)  # Telegram delivers it again: recorded once, relayed once
    await fake.wait_until(lambda: fake.acknowledged_below > update_id)

    def bodies() -> list[str]:
        return [json.dumps(call.body, ensure_ascii=False) for call in wechat.api.calls(CUSTOM)]

    async def relayed() -> bool:
        # Sent straight after its commit by the worker, or by the worker's next round.
        await runtime.outbox.run_once()
        return any("OK 我们马上联系楼上" in body for body in bodies())

    await eventually(relayed)
    await runtime.outbox.run_once()
    assert any("客服王芳正在为您服务" in body for body in bodies())  # replying claimed it
    assert len([b for b in bodies() if "OK 我们马上联系楼上" in b]) == 1
    assert wechat.api.calls(CUSTOM)[-1].body["text"]["content"] == "客服王芳：OK 我们马上联系楼上"


async def test_only_linked_members_of_the_group_act(
    telegram: TelegramChannel,
    fake: FakeTelegram,  # noqa: F811
    wechat: WeChat,  # noqa: F811
    runtime: Runtime,
) -> None:
    await wechat.server.send(wechat.server.text(OPENID, "人工"))
    await group_of(telegram).run_once()
    thread_id, _ = the_topic(fake)

    # A member without a staff account is told how to be linked, with their Telegram id.
    await staff_says(
        runtime, fake, STRANGER_TG, "/claim", thread_id, expect=f"--telegram-user-id {STRANGER_TG}"
    )
    # A linked account that is no longer a member of the chat is ignored (recorded, handled).
    update_id = fake.push_update(topic_update(GROUP, LEFT_TG, "/claim", thread_id))
    await eventually(lambda: handled(runtime, update_id))
    # A message in another group never reaches the staff desk or the owner flows.
    fake.push_update(topic_update(-100999, AGENT_TG, "/claim", 1))
    async with runtime.uow() as uow:
        [listing] = await uow.escalations.listing()
    assert listing.escalation.status.value == "waiting" and listing.escalation.assigned_to is None
    await runtime.outbox.run_once()
    assert not wechat.api.calls(CUSTOM)  # the owner heard nothing

    # An agent may not grade; the supervisor may, with a reason, in the audit log — but this is
    # no complaint, so the usage is explained.
    await staff_says(
        runtime, fake, AGENT_TG, "/grade 一级 聚众", thread_id, expect="只有主管或管理员"
    )
    await staff_says(
        runtime, fake, SUPERVISOR_TG, "/grade 一级 聚众", thread_id, expect="仅限投诉话题"
    )


async def test_the_supervisor_grades_a_complaint_in_its_topic(
    telegram: TelegramChannel,
    fake: FakeTelegram,  # noqa: F811
    demo_codes: dict[str, str],
    runtime: Runtime,
) -> None:
    await file_complaint(Owner(fake, TELEGRAM_OWNER), demo_codes, "电梯经常停运")
    await group_of(telegram).run_once()
    thread_id, _ = the_topic(fake)
    await staff_says(
        runtime, fake, SUPERVISOR_TG, "/grade 二级 整栋楼都受影响", thread_id, expect="二级"
    )
    await staff_says(runtime, fake, SUPERVISOR_TG, "/grade G1", thread_id, expect="必须说明理由")
    async with runtime.uow() as uow:
        [listing] = await uow.complaints.listing()
    assert listing.complaint.grade is not None and listing.complaint.grade.value == "G2"


async def test_a_missed_deadline_alerts_the_supervisor_exactly_once(
    telegram: TelegramChannel,
    fake: FakeTelegram,  # noqa: F811
    wechat: WeChat,  # noqa: F811
    runtime: Runtime,
    clock: FakeClock,
    api: httpx.AsyncClient,
    headers: dict[str, dict[str, str]],
) -> None:
    await wechat.server.send(wechat.server.text(OPENID, "人工"))
    group = group_of(telegram)
    await group.run_once()
    thread_id, _ = the_topic(fake)
    assert await runtime.deadlines.run_once() == 0  # not due yet

    async with runtime.uow() as uow:
        [listing] = await uow.escalations.listing()
    clock.now = listing.escalation.due_at
    assert await runtime.deadlines.run_once() == 0  # due now, not yet missed
    clock.advance(seconds=1)
    other_instance = DeadlineWatcher(runtime.uow, clock)
    assert [await runtime.deadlines.run_once(), await other_instance.run_once()] == [1, 0]
    await group.run_once()
    await group.run_once()
    clock.advance(hours=1)
    assert await runtime.deadlines.run_once() == 0  # still waiting: never alerted again
    await group.run_once()

    alerts = [c for c in fake.in_topic(GROUP, thread_id) if "超时未受理" in c.params["text"]]
    assert len(alerts) == 1
    assert "主管" in alerts[0].params["text"] and "王芳" not in alerts[0].params["text"]
    async with runtime.uow() as uow:
        rows = await uow.session.execute(
            select(AuditLog.subject, AuditLog.detail).where(AuditLog.action == "staff_alert")
        )
        audited = [(subject, detail["kind"]) for subject, detail in rows]
    assert audited == [(f"escalation:{listing.escalation.id}", "overdue")]
    listed = (await api.get("/api/v1/alerts", headers=headers["agent"])).json()
    assert [(a["kind"], a["audience"]) for a in listed] == [("overdue", "supervisor")]
    assert listed[0]["posted_at"] is not None


async def test_a_g1_complaint_at_three_in_the_morning_alerts_management_at_once(
    telegram: TelegramChannel,
    fake: FakeTelegram,  # noqa: F811
    demo_codes: dict[str, str],
    runtime: Runtime,
    clock: FakeClock,
) -> None:
    clock.now = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)  # 03:00 in Asia/Shanghai
    await file_complaint(Owner(fake, TELEGRAM_OWNER), demo_codes, "十几户业主明天要拉横幅")
    assert await runtime.deadlines.run_once() == 1  # at once: no waiting for 09:00
    await group_of(telegram).run_once()
    thread_id, _ = the_topic(fake)
    [alert] = [
        c.params["text"] for c in fake.in_topic(GROUP, thread_id) if "一级投诉" in c.params["text"]
    ]
    assert "经理" in alert and "管理层" in alert
    async with runtime.uow() as uow:
        [found] = await uow.staff_group.alerts()
    assert found.kind.value == "complaint_g1" and found.created_at == clock.now


async def test_an_emergency_alerts_the_on_duty_staff_at_any_hour(
    telegram: TelegramChannel,
    fake: FakeTelegram,  # noqa: F811
    runtime: Runtime,
    clock: FakeClock,
) -> None:
    clock.now = datetime(2026, 11, 24, 18, 30, tzinfo=UTC)  # 02:30 in Asia/Shanghai
    owner = Owner(fake, TELEGRAM_OWNER)
    await owner.says("家里水管爆了，水一直往外冒", expect="人工")
    assert await runtime.deadlines.run_once() == 1
    await group_of(telegram).run_once()
    thread_id, name = the_topic(fake)
    assert "紧急 #" in name
    [alert] = [
        c.params["text"] for c in fake.in_topic(GROUP, thread_id) if "紧急情况" in c.params["text"]
    ]
    assert "值班客服" in alert and "王芳" in alert


async def test_a_staff_update_recorded_before_a_crash_is_handled_at_the_next_start(
    fake: FakeTelegram,  # noqa: F811
    staff: None,
    chat: Chat,
    runtime: Runtime,
) -> None:
    await chat.say("人工")
    async with running(group_channel(runtime, fake), runtime) as channel:
        await group_of(channel).run_once()
    thread_id, _ = the_topic(fake)
    # Recorded (Telegram was told it arrived), then the process died before handling it.
    claim = IncomingMessage(
        channel=CHANNEL,
        user_id=str(AGENT_TG),
        update_key="4242",
        kind=MessageKind.TEXT,
        text="/claim",
        payload=str(thread_id),
    )
    assert not (await runtime.engine.record(claim)).duplicate
    async with running(group_channel(runtime, fake), runtime):
        await eventually(lambda: handled(runtime, 4242))
    async with runtime.uow() as uow:
        [listing] = await uow.escalations.listing()
    assert listing.escalation.assigned_to == "wangfang"
    assert "客服王芳已认领" in topic_texts(fake, thread_id)
