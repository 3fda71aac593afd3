"""The staff API doing the work: an owner's complaint answered and closed, a ticket moved from
submitted to closed with each step pushed, a grade changed with a reason, certificate stages
set one by one and in bulk. The owner talks through the console channel; pushes are read from
the outbox. Clock: Monday 2026-11-23 10:00 in Shanghai."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from bot.app.bootstrap import Runtime
from bot.app.demo_data import import_certificates_into
from bot.storage.models import AuditLog
from bot.testing.fake_wechat_api import png_bytes
from tests.integration.test_tickets import outbox_texts, submit
from tests.staff.support import pushes
from tests.support import Chat, FakeClock

H = dict[str, dict[str, str]]


async def file_complaint(chat: Chat) -> None:
    await chat.say("投诉")
    await chat.press("complaint:kind:complaint")
    await chat.press(chat.button("1栋-1-0101"))
    await chat.say("物业收费不透明，好几户都有意见")
    await chat.press("complaint:topic:property_service")
    await chat.press("complaint:households:1")
    await chat.say("完成")
    await chat.press("complaint:submit")
    assert "TS-" in chat.text


async def test_a_typed_complaint_is_answered_by_staff_while_the_bot_is_silent(
    bound_chat: Chat, api: httpx.AsyncClient, headers: H, runtime: Runtime
) -> None:
    chat = bound_chat
    await file_complaint(chat)
    waiting = (await api.get("/api/v1/escalations?status=waiting", headers=headers["agent"])).json()
    [item] = waiting
    assert item["channel"] == "console" and item["owner_name"] == "张伟"
    assert item["grade"] == "G3" and item["reason"] == "complaint"
    assert item["due_at"].startswith("2026-11-23T03:00")  # 督办令 within 1 hour
    escalation = f"/api/v1/escalations/{item['id']}"

    claimed = (await api.post(f"{escalation}/claim", headers=headers["agent"])).json()
    assert claimed["status"] == "active" and claimed["assigned_to"] == "agent"
    assert "客服王芳正在为您服务" in (await pushes(runtime, chat))[-1]["text"]
    assert await chat.say("请尽快处理，谢谢") == []  # the bot is silent now

    sent = await api.post(
        f"{escalation}/messages", json={"text": "您好，已转物业经理核查"}, headers=headers["agent"]
    )
    assert sent.status_code == 201 and sent.json()["author"] == "staff"
    await api.post(f"{escalation}/notes", json={"text": "需回访"}, headers=headers["agent"])
    photo = await api.post(
        f"{escalation}/photos",
        files={"photo": ("bill.png", png_bytes(), "image/png")},
        data={"text": "收费明细"},
        headers=headers["agent"],
    )
    assert photo.status_code == 201 and photo.json()["photo"]
    relayed = (await pushes(runtime, chat))[-1]
    assert relayed["photo_path"] == photo.json()["photo"] and "收费明细" in relayed["text"]
    assert (await pushes(runtime, chat))[-2]["text"] == "客服王芳：您好，已转物业经理核查"

    taken = await api.post(f"{escalation}/claim", headers=headers["supervisor"])
    assert taken.status_code == 409 and taken.json()["detail"] == "already_claimed"

    closed = (await api.post(f"{escalation}/close", headers=headers["agent"])).json()
    assert closed["status"] == "closed"
    authors = [(m["author"], m["text"]) for m in closed["messages"]]
    assert ("owner", "请尽快处理，谢谢") in authors
    assert ("staff", "您好，已转物业经理核查") in authors
    assert authors[-1][0] == "bot" and [n["text"] for n in closed["notes"]] == ["需回访"]
    assert "结束本次人工服务" in (await pushes(runtime, chat))[-1]["text"]
    again = await api.post(f"{escalation}/messages", json={"text": "x"}, headers=headers["agent"])
    assert again.status_code == 409 and again.json()["detail"] == "closed"

    await chat.say("保修期多久")  # the bot answers again
    assert "保修" in chat.text
    listed = await api.get("/api/v1/escalations?status=closed", headers=headers["agent"])
    assert [e["id"] for e in listed.json()] == [item["id"]]


async def test_a_ticket_moves_through_the_api_and_each_step_reaches_the_owner(
    bound_chat: Chat, api: httpx.AsyncClient, headers: H, runtime: Runtime, clock: FakeClock
) -> None:
    await submit(bound_chat, "plumbing", "厨房下水慢")
    [ticket] = (await api.get("/api/v1/tickets?status=submitted", headers=headers["agent"])).json()
    path = f"/api/v1/tickets/{ticket['id']}/status"

    async def move(body: dict[str, object]) -> httpx.Response:
        return await api.post(path, json=body, headers=headers["agent"])

    no_reason = await move({"status": "rejected", "note": "  "})
    assert no_reason.status_code == 422 and no_reason.json()["detail"] == "reason_needed"
    skipped = await move({"status": "completed", "note": ""})
    assert skipped.status_code == 409 and skipped.json()["detail"] == "illegal_transition"
    assert (await move({"status": "accepted", "note": "已受理"})).status_code == 200
    nobody = await move({"status": "dispatched"})
    assert nobody.status_code == 422 and nobody.json()["detail"] == "assignee_needed"
    naive = await move(
        {"status": "dispatched", "assignee": "李师傅", "appointment_at": "2026-11-24T09:00"}
    )
    assert naive.status_code == 422  # a time without its zone is refused, not guessed
    dispatched = await move(
        {"status": "dispatched", "assignee": "李师傅", "appointment_at": "2026-11-24T09:00+08:00"}
    )
    assert dispatched.json()["assignee"] == "李师傅"
    assert dispatched.json()["appointment_at"].startswith("2026-11-24T01:00")
    assert (await move({"status": "in_progress"})).status_code == 200
    done = await move({"status": "completed", "note": "已更换下水管"})
    assert done.json()["status"] == "completed"

    texts = [text for _, text, _ in await outbox_texts(runtime)]
    assert any("已受理" in text for text in texts)
    assert any("李师傅" in text and "2026-11-24 09:00" in text for text in texts)
    purpose, completed, buttons = (await outbox_texts(runtime))[-1]
    assert purpose == "ticket_update" and "已完工" in completed and "已更换下水管" in completed
    assert any(data.startswith("tickets:fixed:") for data in buttons)

    await bound_chat.press(f"tickets:fixed:{ticket['id']}")  # the owner's answer …
    assert "已确认修好" in bound_chat.text
    photos = await api.post(
        f"/api/v1/tickets/{ticket['id']}/photos",
        files=[("photos", ("after.png", png_bytes(), "image/png"))],
        data={"note": "修好后的照片"},
        headers=headers["agent"],
    )
    assert photos.status_code == 200, photos.text
    assert len(photos.json()["events"][-1]["photos"]) == 1
    not_image = await api.post(
        f"/api/v1/tickets/{ticket['id']}/photos",
        files=[("photos", ("x.png", b"not an image", "image/png"))],
        headers=headers["agent"],
    )
    assert not_image.status_code == 422 and not_image.json()["detail"] == "photo_not_image"
    detail = (await api.get(f"/api/v1/tickets/{ticket['id']}", headers=headers["agent"])).json()
    [answer] = [e for e in detail["events"] if e["to_status"] == "confirmed"]
    assert answer["actor"].startswith("owner:")  # … is in the timeline staff read
    assert (await move({"status": "closed", "note": ""})).json()["status"] == "closed"
    async with runtime.uow() as uow:
        audited = (
            await uow.session.execute(
                select(AuditLog.detail).where(AuditLog.action == "ticket_status")
            )
        ).scalars()
        assert [row["new"] for row in audited] == [
            "accepted", "dispatched", "in_progress", "completed", "closed",
        ]  # fmt: skip


async def test_grading_needs_a_supervisor_and_a_reason(
    bound_chat: Chat, api: httpx.AsyncClient, headers: H, runtime: Runtime
) -> None:
    await file_complaint(bound_chat)
    [complaint] = (await api.get("/api/v1/complaints", headers=headers["agent"])).json()
    assert complaint["grade"] is None and complaint["provisional_grade"] == "G3"
    path = f"/api/v1/complaints/{complaint['id']}/grade"
    body = {"grade": "G2", "reason": "涉及多户收费，存在群体投诉风险"}
    assert (await api.post(path, json=body, headers=headers["agent"])).status_code == 403
    missing = await api.post(
        path, json={"grade": "G2", "reason": ""}, headers=headers["supervisor"]
    )
    assert missing.status_code == 422
    graded = await api.post(path, json=body, headers=headers["supervisor"])
    assert graded.json()["grade"] == "G2"
    assert graded.json()["resolve_due"] < complaint["resolve_due"]  # G2: a plan within 24 h
    by_grade = await api.get("/api/v1/complaints?grade=G2", headers=headers["agent"])
    assert [c["id"] for c in by_grade.json()] == [complaint["id"]]
    escalations = await api.get("/api/v1/escalations", headers=headers["agent"])
    assert escalations.json()[0]["grade"] == "G2"
    async with runtime.uow() as uow:
        [(actor, detail)] = (
            await uow.session.execute(
                select(AuditLog.actor, AuditLog.detail).where(AuditLog.action == "complaint_grade")
            )
        ).all()
    assert actor == "staff:supervisor"
    assert detail == {"old": "G3", "new": "G2", "reason": body["reason"]}


async def test_certificate_stages_one_and_many_with_the_owner_told(
    bound_chat: Chat, api: httpx.AsyncClient, headers: H, runtime: Runtime
) -> None:
    data = (runtime.settings.config_dir / "sample_certificates.csv").read_bytes()
    assert (await import_certificates_into(runtime, data)).ok
    cases = (await api.get("/api/v1/certificates", headers=headers["agent"])).json()
    by_home = {case["home"]: case for case in cases}
    first = by_home["翠湖花园 1栋-1-0101"]  # 张伟's, with a mortgage
    second = by_home["翠湖花园 3栋-3-0801"]  # 张伟's, no mortgage
    before = len(await pushes(runtime, bound_chat))

    one = await api.post(
        f"/api/v1/certificates/{first['id']}/stage",
        json={"stage": "title_submitted", "note": "已递交产权监理处"},
        headers=headers["agent"],
    )
    assert one.status_code == 200, one.text
    assert one.json()["stage"] == "title_submitted" and one.json()["stage_date"] == "2026-11-23"
    told = (await pushes(runtime, bound_chat))[before:]
    assert len(told) == 1 and "1栋-1-0101" in told[0]["text"]

    mortgage_only = await api.post(
        "/api/v1/certificates/stage",
        json={"ids": [first["id"], second["id"]], "stage": "mortgage_registered"},
        headers=headers["agent"],
    )
    assert mortgage_only.status_code == 422  # 3-0801 has no mortgage: nothing is written
    assert mortgage_only.json()["detail"] == "mortgage_stage_without_mortgage"
    both = await api.post(
        "/api/v1/certificates/stage",
        json={"ids": [first["id"], second["id"]], "stage": "certificate_issued"},
        headers=headers["agent"],
    )
    assert [case["stage"] for case in both.json()] == ["certificate_issued"] * 2
    assert len(await pushes(runtime, bound_chat)) == before + 3
    unknown = await api.post(
        f"/api/v1/certificates/{first['id']}/stage",
        json={"stage": "flying"},
        headers=headers["agent"],
    )
    assert unknown.status_code == 422
