"""Surveys and revisits end to end on the real engine and database (SQLite and PostgreSQL):
when they fall due, what the push says, answering in the chat, reminders, expiry, low scores,
the revisit scan, campaigns and the report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.app.bootstrap import Runtime
from bot.domain.complaints import EscalationReason
from bot.domain.surveys import FollowUp, InvalidAnswer, SurveyStatus
from bot.domain.tickets import ActorKind, TicketStatus
from bot.services.survey_answers import Via, submit_answers
from bot.services.surveys import (
    SurveyError,
    low_score_summary,
    recent_low_scores,
    start_campaign,
    survey_report,
)
from bot.staff.console import satisfaction
from bot.staff.console.dashboard_pages import figures
from bot.staff.console.web import Console, Page
from bot.storage.models import OutboxMessage, Unit
from bot.storage.models import Survey as SurveyRow
from tests.integration.test_repair import account_of, tickets_of
from tests.integration.test_tickets import TO_COMPLETED, staff_moves, submit
from tests.support import Chat, FakeClock


async def survey_pushes(runtime: Runtime) -> list[tuple[str, str, list[str]]]:
    """(idempotency key, text, button data) of every survey push queued."""
    async with runtime.uow() as uow:
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.purpose == "survey")
            .order_by(OutboxMessage.id)
        )
        rows = (await uow.session.execute(query)).scalars()
        return [
            (
                row.idempotency_key,
                row.replies[0]["text"],
                [b[1] for r in row.replies[0]["buttons"] for b in r],
            )
            for row in rows
        ]


async def surveys(runtime: Runtime) -> list[Any]:
    """Every invitation row as plain values (they outlive the transaction)."""
    async with runtime.uow() as uow:
        table = SurveyRow.__table__
        query = select(table).order_by(table.c.id)
        return list((await uow.session.execute(query)).all())


async def ticket_updates(runtime: Runtime) -> list[str]:
    """The texts of every ticket-status push queued so far."""
    async with runtime.uow() as uow:
        query = (
            select(OutboxMessage.replies)
            .where(OutboxMessage.purpose == "ticket_update")
            .order_by(OutboxMessage.id)
        )
        return [replies[0]["text"] for replies in (await uow.session.execute(query)).scalars()]


async def completed_ticket(chat: Chat, runtime: Runtime, clock: FakeClock) -> int:
    await submit(chat, "plumbing", "厨房水管漏水")
    [ticket] = await tickets_of(runtime, chat)
    await staff_moves(runtime, clock, ticket.id, *TO_COMPLETED)
    return ticket.id


async def answer_in_chat(chat: Chat, *scores: int, comment: str | None = None) -> None:
    for score in scores:
        await chat.press(f"survey:score:{score}")
    if comment is None:
        await chat.press("survey:skip")
    else:
        await chat.say(comment)


async def set_handover(runtime: Runtime, unit_number: str, day: date) -> None:
    async with runtime.uow() as uow:
        await uow.session.execute(
            update(Unit).where(Unit.number == unit_number).values(handover_date=day)
        )
        await uow.commit()


async def test_the_repair_survey_is_due_a_day_after_completion_and_answered_in_chat(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    await submit(bound_chat, "plumbing", "厨房水管漏水")
    [ticket] = await tickets_of(runtime, bound_chat)
    await staff_moves(runtime, clock, ticket.id, *TO_COMPLETED[:-1])
    assert await surveys(runtime) == []  # never before completion
    await staff_moves(runtime, clock, ticket.id, TicketStatus.COMPLETED)
    [row] = await surveys(runtime)
    assert row.due_at == clock() + timedelta(days=1) and row.status == "pending"
    assert await runtime.surveys.send_due() == (0, 0, 0)
    clock.advance(days=1)
    assert await runtime.surveys.send_due() == (1, 0, 0)
    assert await runtime.surveys.send_due() == (0, 0, 0)  # sent once
    [(key, text, buttons)] = await survey_pushes(runtime)
    assert key == f"survey:{row.id}:invite:{(await account_of(runtime, bound_chat)).id}"
    assert f"维修工单 {ticket.number} 的回访" in text and "共 4 个问题" in text
    assert "2026-12-01 10:00 前" in text  # 7 days after it was sent, local time
    assert f"/s/{row.id}?t=" in text
    await bound_chat.press(buttons[0])
    assert "（第 1/4 题）维修是否及时" in bound_chat.text
    assert list(bound_chat.buttons.values())[:5] == [f"survey:score:{n}" for n in range(1, 6)]
    await answer_in_chat(bound_chat, 5, 4, 5, comment="师傅很专业")
    assert "感谢您的评价" in bound_chat.text
    [answered] = await surveys(runtime)
    assert answered.status == "answered" and answered.answered_via == "chat"
    async with runtime.uow() as uow:
        stored = await uow.surveys.answers(answered.id)
    assert [(a.question, a.score, a.text) for a in stored] == [
        ("speed", 5, ""),
        ("quality", 4, ""),
        ("attitude", 5, ""),
        ("comment", None, "师傅很专业"),
    ]
    await bound_chat.press(buttons[0])  # the old button once answered
    assert "已经填写过或已过期" in bound_chat.text


async def test_confirming_the_fix_starts_the_survey_at_once(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    ticket_id = await completed_ticket(bound_chat, runtime, clock)
    await bound_chat.press(f"tickets:fixed:{ticket_id}")
    assert "已确认修好" in bound_chat.last[0].text
    assert "（第 1/4 题）维修是否及时" in bound_chat.last[-1].text
    [row] = await surveys(runtime)
    assert row.status == "open" and row.sent_at == clock()
    assert await runtime.surveys.send_due() == (0, 0, 0)  # already in the chat: no push
    assert await survey_pushes(runtime) == []


async def test_confirming_starts_that_repairs_survey_even_with_a_revisit_open(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    await set_handover(runtime, "3-0801", clock().date() - timedelta(days=90))
    assert await runtime.surveys.daily() == 1  # the 3-month revisit, pushed
    ticket_id = await completed_ticket(bound_chat, runtime, clock)
    await bound_chat.press(f"tickets:fixed:{ticket_id}")
    assert "维修工单 BX-" in bound_chat.text and "（第 1/4 题）维修是否及时" in bound_chat.text
    await answer_in_chat(bound_chat, 5, 5, 5)
    await bound_chat.say("问卷")  # the revisit is still there
    assert (
        "收房三个月回访" in bound_chat.text
        and "（第 1/4 题）入住以来的居住体验如何" in bound_chat.text
    )


async def test_a_repair_reopened_before_the_survey_waits_for_the_next_completion(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    ticket_id = await completed_ticket(bound_chat, runtime, clock)
    await bound_chat.press(f"tickets:notfixed:{ticket_id}")
    clock.advance(days=2)
    assert await runtime.surveys.send_due() == (0, 0, 0)
    assert [r.status for r in await surveys(runtime)] == ["on_hold"]
    await staff_moves(
        runtime,
        clock,
        ticket_id,
        TicketStatus.DISPATCHED,
        TicketStatus.IN_PROGRESS,
        TicketStatus.COMPLETED,
    )
    [row] = await surveys(runtime)
    assert row.status == "pending" and row.due_at == clock() + timedelta(days=1)


async def test_back_quit_and_a_wrong_score_lose_nothing(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    ticket_id = await completed_ticket(bound_chat, runtime, clock)
    await bound_chat.press(f"tickets:fixed:{ticket_id}")
    await bound_chat.say("9")
    assert "1 到 5 之间的数字" in bound_chat.text and "第 1/4 题" in bound_chat.text
    await bound_chat.say("4")  # typed, as in WeChat
    assert "第 2/4 题" in bound_chat.text
    await bound_chat.press("survey:back")
    assert "第 1/4 题" in bound_chat.text
    await bound_chat.press("survey:quit")
    assert "问卷为您保留" in bound_chat.text and "2026-11-30 10:00" in bound_chat.text
    await bound_chat.say("问卷")
    assert "第 1/4 题" in bound_chat.text
    for score in (3, 4, 4):
        await bound_chat.press(f"survey:score:{score}")
    await bound_chat.photo("/no/such/photo.jpg")  # the comment is text: asked again
    assert "第 4/4 题" in bound_chat.text and "选填：请直接输入" in bound_chat.text
    await bound_chat.press("survey:skip")
    assert "感谢您的评价" in bound_chat.text
    assert [r.status for r in await surveys(runtime)] == ["answered"]


async def test_a_low_score_reopens_the_ticket_with_the_owners_words(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    ticket_id = await completed_ticket(bound_chat, runtime, clock)
    await bound_chat.press(f"tickets:fixed:{ticket_id}")
    updates = await ticket_updates(runtime)
    await answer_in_chat(bound_chat, 4, 2, 4, comment="还是有点渗水")
    [ticket] = await tickets_of(runtime, bound_chat)
    assert ticket.status is TicketStatus.REOPENED
    # One clear message: the answer says what happens next; no "status changed" push too.
    assert [r.text for r in bound_chat.last] == [
        f"感谢您的评价。很抱歉这次维修没有让您满意：工单 {ticket.number} 已重新打开，"
        "客服会重新安排处理，进展会在这里通知您。"
    ]
    assert await ticket_updates(runtime) == updates
    async with runtime.uow() as uow:
        last = (await uow.tickets.events(ticket_id))[-1]
    assert last.actor.kind is ActorKind.SYSTEM and last.to_status is TicketStatus.REOPENED
    assert "维修质量 2" in last.note and "还是有点渗水" in last.note
    [row] = await surveys(runtime)
    assert row.low_score and row.follow_up == FollowUp.REOPENED


async def test_a_low_revisit_score_goes_to_staff_and_the_owner_is_told_when(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    await set_handover(runtime, "1-0101", clock().date() - timedelta(days=31))
    assert await runtime.surveys.daily() == 1  # created and sent
    [(_, text, buttons)] = await survey_pushes(runtime)
    assert "收房一个月回访" in text
    await bound_chat.press(buttons[0])
    await answer_in_chat(bound_chat, 1, 3, 3, comment="楼上噪音大")
    # Handed to staff: first reply 30 minutes after the next service hour (10:00 local now).
    assert "会在 2026-11-23 10:30 前与您联系" in bound_chat.text
    account = await account_of(runtime, bound_chat)
    async with runtime.uow() as uow:
        escalation = await uow.escalations.open_for_account(account.id)
        assert escalation is not None and escalation.reason is EscalationReason.LOW_SCORE
        [message] = await uow.escalations.messages(escalation.id)
    said = message.text
    assert "收房一个月回访" in said and "居住体验 1" in said and "楼上噪音大" in said


async def low_scores_of_both_kinds(bound_chat: Chat, runtime: Runtime, clock: FakeClock) -> None:
    """张伟 answers a repair survey well, then another badly (the ticket reopens), then five
    minutes later his one-month revisit badly (he is handed to staff)."""
    for scores in ((5, 5, 5), (4, 2, 4)):
        await submit(bound_chat, "plumbing", "厨房水管漏水")
        ticket = max(await tickets_of(runtime, bound_chat), key=lambda t: t.id)
        await staff_moves(runtime, clock, ticket.id, *TO_COMPLETED)
        await bound_chat.press(f"tickets:fixed:{ticket.id}")
        await answer_in_chat(bound_chat, *scores, comment="还是有点渗水")
    clock.advance(minutes=5)
    await set_handover(runtime, "1-0101", clock().date() - timedelta(days=31))
    assert await runtime.surveys.daily() == 1
    [(_, _, buttons)] = await survey_pushes(runtime)
    await bound_chat.press(buttons[0])
    await answer_in_chat(bound_chat, 1, 3, 3, comment="楼上噪音大")


async def test_the_newest_low_scores_say_what_each_started(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    await low_scores_of_both_kinds(bound_chat, runtime, clock)
    assert [(r.status, r.low_score) for r in await surveys(runtime)] == [
        ("answered", False),
        ("answered", True),
        ("answered", True),
    ]
    reopened_ticket = max(await tickets_of(runtime, bound_chat), key=lambda t: t.id)
    account = await account_of(runtime, bound_chat)
    async with runtime.uow() as uow:
        revisit, repair = await recent_low_scores(uow, 20)  # the good score is not listed
        assert await recent_low_scores(uow, 1) == [revisit]  # newest first
        escalation = await uow.escalations.open_for_account(account.id)
        assert escalation is not None
        [message] = await uow.escalations.messages(escalation.id)
        note = (await uow.tickets.events(reopened_ticket.id))[-1].note
    assert reopened_ticket.status is TicketStatus.REOPENED
    assert (repair.follow_up, repair.ticket_id, repair.ticket_number) == (
        FollowUp.REOPENED,
        reopened_ticket.id,
        reopened_ticket.number,
    )
    assert (repair.ticket_status, repair.escalation_id) == (TicketStatus.REOPENED, None)
    assert (revisit.follow_up, revisit.ticket_id) == (FollowUp.ESCALATED, None)
    assert (revisit.escalation_id, revisit.escalation_status) == (escalation.id, "waiting")
    assert revisit.owner_name == repair.owner_name == "张伟"
    assert revisit.answered_at == clock() and repair.answered_at == clock() - timedelta(minutes=5)
    # The words staff read on the ticket and in the escalation, in the reader's language.
    texts = runtime.services.texts
    assert low_score_summary(texts, "zh", repair) == note
    assert low_score_summary(texts, "zh", revisit) == message.text
    assert "repair quality 2, staff manner 4." in low_score_summary(texts, "en", repair)


async def test_a_low_score_nobody_can_be_handed_to_is_listed_for_a_call(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    """The owner left the chat (account deactivated) and answered on the page: no escalation
    can open, so the dashboard says to call him instead of linking to one."""
    await set_handover(runtime, "1-0101", clock().date() - timedelta(days=31))
    assert await runtime.surveys.daily() == 1
    account = await account_of(runtime, bound_chat)
    services = runtime.services
    async with runtime.uow() as uow:
        await uow.accounts.deactivate(account.id)
        [survey] = await uow.surveys.open_for_owner(account.owner_id or 0, clock())
        given = {q.id: "1" for q in services.rules.survey.questions(survey.kind) if q.scored}
        result = await submit_answers(
            uow,
            services.texts,
            services.rules,
            runtime.settings,
            survey,
            given,
            via=Via.PAGE,
            account_id=None,
            lang="zh",
            now=clock(),
        )
        await uow.commit()
    assert (result.follow_up, result.contact_by) == (FollowUp.ESCALATED, None)
    async with runtime.uow() as uow:
        [row] = await recent_low_scores(uow, 20)
        [listed] = await satisfaction.low_scores(uow, services.texts, "zh")
    assert (row.follow_up, row.escalation_id, row.ticket_id) == (FollowUp.ESCALATED, None, None)
    assert "（无）" in low_score_summary(services.texts, "zh", row)  # no comment
    page = Page(Console(runtime.uow, services), "zh")
    shown = page.render(
        "dashboard.html", figures=figures([], [], clock()), charts=[], low_scores=[listed]
    )
    html = bytes(shown.body)
    assert "请电话联系" in html.decode() and "/console/escalations/" not in html.decode()


async def test_revisits_follow_the_handover_date_and_a_late_binder_gets_only_the_latest(
    runtime: Runtime, new_chat: Callable[..., Chat], demo_codes: dict[str, str], clock: FakeClock
) -> None:
    today = clock().date()
    await set_handover(runtime, "1-0502", today - timedelta(days=2))  # 李娜
    await set_handover(runtime, "A-1601", today - timedelta(days=95))  # 刘洋
    assert await runtime.surveys.daily() == 0  # nobody bound yet
    li, liu = new_chat("li-na"), new_chat("liu-yang")
    await li.say(f"绑定 {demo_codes['李娜']}")
    await liu.say(f"绑定 {demo_codes['刘洋']}")
    # Binding created it (2 days after handover: nothing yet for 李娜); the next run sends it.
    assert [(r.occasion, r.kind) for r in await surveys(runtime)] == [("handover_90d", "revisit")]
    assert await runtime.surveys.send_due() == (1, 0, 0)
    assert await runtime.surveys.daily() == 0  # once per owner-unit and occasion
    clock.advance(days=28)
    assert await runtime.surveys.daily() == 1
    assert [r.occasion for r in await surveys(runtime)][-1] == "handover_30d"


async def test_one_reminder_then_expiry(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    await set_handover(runtime, "1-0101", clock().date() - timedelta(days=30))
    assert await runtime.surveys.daily() == 1
    assert await runtime.surveys.send_due() == (0, 0, 0)  # the daily run sent it already
    clock.advance(days=2, hours=23)
    assert await runtime.surveys.send_due() == (0, 0, 0)
    clock.advance(hours=1)
    assert await runtime.surveys.send_due() == (0, 1, 0)
    clock.advance(days=1)
    assert await runtime.surveys.send_due() == (0, 0, 0)  # one reminder only
    pushes = await survey_pushes(runtime)
    assert [key.split(":")[2] for key, _, _ in pushes] == ["invite", "reminder"]
    assert "提醒" in pushes[1][1] and "2026-11-30 10:00 前有效" in pushes[1][1]
    clock.advance(days=3)
    assert await runtime.surveys.send_due() == (0, 0, 1)
    await bound_chat.press(pushes[0][2][0])
    assert "已经填写过或已过期" in bound_chat.text
    assert [r.status for r in await surveys(runtime)] == ["expired"]


async def test_an_owner_without_an_account_is_unreachable_not_retried(
    runtime: Runtime, demo_codes: dict[str, str], clock: FakeClock
) -> None:
    async with runtime.uow() as uow:
        campaign = await start_campaign(
            uow,
            runtime.services.rules.survey,
            kind="weather",
            project="翠湖花园",
            buildings=["2栋"],
            due_at=clock(),
            by="staff:wang",
            now=clock(),
        )
        await uow.commit()
    assert campaign.invited == 2  # 王芳 and 陈强 share 2-1203
    assert await runtime.surveys.send_due() == (0, 0, 0)
    assert {r.status for r in await surveys(runtime)} == {SurveyStatus.UNREACHABLE.value}


async def test_a_campaign_after_a_storm_reaches_the_chosen_buildings(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    rules = runtime.services.rules.survey
    async with runtime.uow() as uow:
        for kind, buildings, message in [
            ("storm", ["1栋"], "unknown survey kind 'storm'; choose one of: revisit, weather"),
            ("post_repair", ["1栋"], "unknown survey kind"),
            ("weather", ["1栋", "9栋"], "project '翠湖花园' has no building 9栋"),
            ("weather", [], "name at least one building"),
        ]:
            with pytest.raises(SurveyError, match=message):
                await start_campaign(
                    uow,
                    rules,
                    kind=kind,
                    project="翠湖花园",
                    buildings=buildings,
                    due_at=clock(),
                    by="t",
                    now=clock(),
                )
        campaign = await start_campaign(
            uow,
            rules,
            kind="weather",
            project="翠湖花园",
            buildings=["1栋", "3栋"],
            due_at=clock() + timedelta(hours=2),
            by="staff:wang",
            now=clock(),
        )
        await uow.commit()
    assert campaign.invited == 3  # 张伟 1-0101, 李娜 1-0502, 张伟 3-0801
    assert await runtime.surveys.send_due() == (0, 0, 0)
    clock.advance(hours=2)
    assert (await runtime.surveys.send_due())[0] == 2  # 李娜 has no chat account
    pushes = await survey_pushes(runtime)
    assert len(pushes) == 2 and all("恶劣天气后回访" in text for _, text, _ in pushes)
    await bound_chat.say("问卷")
    assert "您有 2 份问卷待填写" in bound_chat.text
    await bound_chat.press(pushes[0][2][0])
    assert "这次恶劣天气后，您家里情况如何" in bound_chat.text


async def test_page_and_chat_answers_count_the_same_and_the_report_adds_them_up(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    first = await completed_ticket(bound_chat, runtime, clock)
    await bound_chat.press(f"tickets:fixed:{first}")
    await answer_in_chat(bound_chat, 5, 5, 4)
    await submit(bound_chat, "electrical", "插座没电")
    second = max(t.id for t in await tickets_of(runtime, bound_chat))
    await staff_moves(runtime, clock, second, *TO_COMPLETED)
    await set_handover(runtime, "3-0801", clock().date() - timedelta(days=180))
    await runtime.surveys.daily()
    clock.advance(days=1)
    await runtime.surveys.send_due()
    rows = await surveys(runtime)
    by_ticket = {r.ticket_id: r for r in rows}
    services = runtime.services
    async with runtime.uow() as uow:
        survey = await uow.surveys.get(by_ticket[second].id)
        assert survey is not None
        answer = partial(
            submit_answers,
            uow,
            services.texts,
            services.rules,
            runtime.settings,
            survey,
            via=Via.PAGE,
            account_id=None,
            lang="zh",
            now=clock(),
        )
        with pytest.raises(InvalidAnswer):
            await answer({"speed": "3", "quality": "6"})
        result = await answer({"speed": "3", "quality": "4", "attitude": "5", "comment": ""})
        await uow.commit()
    assert result.accepted and result.follow_up is FollowUp.NONE
    async with runtime.uow() as uow:
        report = await survey_report(uow, None)
        since_tomorrow = await survey_report(uow, clock() + timedelta(days=1))
    lines = {(line.project, line.category): line.tally for line in report}
    assert lines[("翠湖花园", "plumbing")].scores == (5, 5, 4)
    assert lines[("翠湖花园", "electrical")].scores == (3, 4, 5)
    assert lines[("翠湖花园", "revisit")].answered == 0
    total = lines[("*", "*")]
    assert (total.invited, total.answered) == (3, 2)
    assert total.csat(4) == 5 / 6
    assert [(line.project, line.tally.invited) for line in since_tomorrow] == [("*", 0)]


async def test_owners_only_open_their_own_surveys(
    bound_chat: Chat,
    runtime: Runtime,
    clock: FakeClock,
    new_chat: Callable[..., Chat],
    demo_codes: dict[str, str],
) -> None:
    await completed_ticket(bound_chat, runtime, clock)
    clock.advance(days=1)
    await runtime.surveys.send_due()
    [row] = await surveys(runtime)
    li = new_chat("li-na")
    await li.say(f"绑定 {demo_codes['李娜']}")
    await li.press(f"survey:start:{row.id}")
    assert "已经填写过或已过期" in li.text and "维修是否及时" not in li.text
    assert [r.status for r in await surveys(runtime)] == ["open"]


async def test_every_configured_question_and_occasion_has_its_texts(runtime: Runtime) -> None:
    rules, texts = runtime.services.rules.survey, runtime.services.texts
    for lang in ("zh", "en"):
        keys = texts.keys(lang)
        for questions in rules.kinds.values():
            for q in questions:
                assert {f"survey.q_{q.id}", f"survey.q_{q.id}_short"} <= keys, (lang, q.id)
        for revisit in rules.revisits:
            assert f"survey.about_{revisit.id}" in keys, (lang, revisit.id)
        for kind in rules.kinds:
            assert kind == "post_repair" or f"survey.about_kind_{kind}" in keys, (lang, kind)
