"""The deadline watcher on its own (no staff group): alerts from the rows, with an injected
clock, on SQLite and PostgreSQL."""

from __future__ import annotations

from bot.app.bootstrap import Runtime
from bot.domain.complaints import EscalationReason
from bot.services.escalations import request_person
from tests.support import Chat, FakeClock


async def test_danger_while_already_waiting_makes_it_an_emergency_alerted_once(
    runtime: Runtime, chat: Chat, clock: FakeClock
) -> None:
    await chat.say("人工")
    assert await runtime.deadlines.run_once() == 0
    async with runtime.uow() as uow:
        [listing] = await uow.escalations.listing()
        account = await uow.accounts.get(listing.escalation.account_id)
        assert account is not None
        again, created = await request_person(
            uow,
            runtime.services.rules,
            account.id,
            None,
            clock(),
            runtime.settings.tz,
            EscalationReason.EMERGENCY,
        )
        await uow.commit()
    assert not created and again.id == listing.escalation.id
    assert again.reason is EscalationReason.EMERGENCY
    assert await runtime.deadlines.run_once() == 1
    assert await runtime.deadlines.run_once() == 0
    async with runtime.uow() as uow:
        [alert] = await uow.staff_group.alerts()
    assert (alert.kind.value, alert.audience.value, alert.posted_at) == (
        "emergency",
        "on_duty",
        None,  # no staff group configured: raised, audited and listed, not posted
    )


async def test_a_claimed_escalation_past_its_deadline_is_not_overdue(
    runtime: Runtime, chat: Chat, clock: FakeClock
) -> None:
    """Only escalations nobody acknowledged alert the supervisor."""
    await chat.say("人工")
    async with runtime.uow() as uow:
        [listing] = await uow.escalations.listing()
        await uow.escalations.claim(listing.escalation.id, "wangfang", clock())
        await uow.commit()
    clock.now = listing.escalation.due_at
    clock.advance(hours=2)
    assert await runtime.deadlines.run_once() == 0
