"""Certificate progress: staff import a CSV, owners see their own case and get a push when the
stage moves; a bad file writes nothing."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from bot.app.bootstrap import Runtime
from bot.services.certificates import ImportReport, import_certificates
from bot.storage.models import CertificateCase, OutboxMessage
from tests.support import Chat, FakeClock

HEADER = "project,building,unit,stage,stage_date,mortgage,eta,outstanding_items,note\n"
ZHANG_FIRST = "翠湖花园,1栋,1-0101"
ZHANG_SECOND = "翠湖花园,3栋,3-0801"
LI = "翠湖花园,1栋,1-0502"


async def run_import(
    runtime: Runtime, clock: FakeClock, *lines: str, dry_run: bool = False
) -> ImportReport:
    return await import_certificates(
        runtime.uow,
        (HEADER + "".join(line + "\n" for line in lines)).encode(),
        rules=runtime.services.rules.certificate,
        texts=runtime.services.texts,
        tz=runtime.settings.tz,
        now=clock(),
        dry_run=dry_run,
    )


async def count(runtime: Runtime, model: type[CertificateCase] | type[OutboxMessage]) -> int:
    async with runtime.uow() as uow:
        return int(
            (await uow.session.execute(select(func.count()).select_from(model))).scalar_one()
        )


async def test_an_owner_sees_stage_next_step_checklist_and_eta(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    report = await run_import(
        runtime,
        clock,
        f"{ZHANG_SECOND},deed_tax_paid,2026-11-20,yes,2027-03-31,"
        "full_payment_receipt;fund_and_taxes;loan_contract,请带原件",
    )
    assert report.ok and report.created == 1
    await bound_chat.say("产权证")
    await bound_chat.press(bound_chat.button("3栋-3-0801"))
    text = bound_chat.text
    assert "当前阶段：契税缴纳完成（2026-11-20）" in text
    assert "下一步：提交分户产权登记" in text
    assert "预计完成时间：2027-03-31" in text
    # a mortgage case's two lists (002): what the owner brings or pays, what the company obtains
    assert "还需要您提供或缴纳：全额交款收据（交回换取发票）、维修资金和产权税费" in text
    assert "我们正在为您办理：按揭合同（向按揭银行取回）" in text
    assert "契税完税证明" not in text  # obtained already: in neither list
    assert "客服留言：请带原件" in text
    assert "✅ 按揭贷款办理" in text and "⬜ 抵押登记完成" in text  # a mortgage case

    await bound_chat.press(bound_chat.button("其他房屋"))
    await bound_chat.press(bound_chat.button("1栋-1-0101"))
    assert "暂时还没有办证记录" in bound_chat.text


async def test_without_an_eta_none_is_invented_and_mortgage_stages_are_skipped(
    new_chat: Callable[..., Chat], demo_codes: dict[str, str], runtime: Runtime, clock: FakeClock
) -> None:
    li = new_chat("li-na", language="en")
    await li.say(f"/start {demo_codes['李娜']}")
    await run_import(runtime, clock, f"{LI},area_surveyed,2026-09-01,no,,-,")
    await li.say("certificate")
    assert "Current stage: Floor area surveyed (2026-09-01)" in li.text
    assert "No expected date yet" in li.text
    assert "Nothing more is needed from you" in li.text
    assert "Mortgage" not in li.text


async def test_an_owner_cannot_open_another_owners_case(
    bound_chat: Chat,
    new_chat: Callable[..., Chat],
    demo_codes: dict[str, str],
    runtime: Runtime,
    clock: FakeClock,
) -> None:
    await run_import(runtime, clock, f"{ZHANG_SECOND},certificate_issued,2026-11-01,no,,,")
    li = new_chat("li-na")
    await li.say(f"绑定 {demo_codes['李娜']}")
    await bound_chat.say("产权证")
    zhang_unit = bound_chat.button("3栋-3-0801")
    await li.press(zhang_unit)
    assert "没有找到" in li.text and "产权证已出证" not in li.text


async def test_a_stage_change_queues_a_push_to_the_units_owners_once(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    await run_import(runtime, clock, f"{ZHANG_FIRST},docs_collected,2026-11-01,no,,,")
    async with runtime.uow() as uow:
        rows = (
            await uow.session.execute(select(OutboxMessage.purpose, OutboxMessage.replies))
        ).all()
    assert [purpose for purpose, _ in rows] == ["certificate_update"]
    assert "收取办证资料（2026-11-01）" in rows[0][1][0]["text"]

    again = await run_import(runtime, clock, f"{ZHANG_FIRST},docs_collected,,no,,,改了备注")
    assert again.updated == 1 and again.stage_changes == 0 and again.notified == 0
    moved = await run_import(runtime, clock, f"{ZHANG_FIRST},fees_collected,,,,,")
    assert moved.stage_changes == 1 and moved.notified == 1
    assert await count(runtime, OutboxMessage) == 2
    async with runtime.uow() as uow:
        case = await uow.certificates.for_unit(
            await uow.certificates.find_unit("翠湖花园", "1栋", "1-0101") or 0
        )
    assert (
        case is not None and case.note == "改了备注" and case.stage_date.isoformat() == "2026-11-23"
    )


async def test_a_file_with_errors_writes_nothing(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    report = await run_import(
        runtime,
        clock,
        f"{ZHANG_FIRST},docs_collected,2026-11-01,no,,,",
        "翠湖花园,9栋,9-9999,docs_collected,,,,,",
        f"{LI},mortgage_registered,,no,,,",
        f"{ZHANG_FIRST},fees_collected,,,,,",
    )
    assert report.errors == [
        "line 3: no unit 翠湖花园/9栋/9-9999",
        "line 4: stage 'mortgage_registered' needs mortgage=yes",
        "line 5: same unit as line 2",
    ]
    assert await count(runtime, CertificateCase) == 0
    assert await count(runtime, OutboxMessage) == 0


async def test_a_dry_run_counts_but_writes_nothing(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    report = await run_import(
        runtime,
        clock,
        f"{ZHANG_FIRST},contract_filed,,,,,",
        f"{LI},contract_filed,,,,,",
        dry_run=True,
    )
    assert report.ok and report.created == 2 and report.notified == 1  # 李娜 has not bound
    assert await count(runtime, CertificateCase) == 0
    assert await count(runtime, OutboxMessage) == 0
