"""`/metrics` in Prometheus' text format: updates handled per channel and how long they took,
the outbox backlog and its lag, escalations waiting and overdue, 429s from platforms."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.app.bootstrap import Runtime
from bot.app.http import create_app
from bot.engine.types import Reply
from tests.support import Chat, FakeClock


async def _scrape(runtime: Runtime) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def test_metrics_count_updates_and_show_the_backlog(
    runtime: Runtime, bound_chat: Chat, clock: FakeClock
) -> None:
    before = await _scrape(runtime)
    handled = ("bot_updates_total", (("channel", "console"), ("outcome", "handled")))
    latency = ("bot_update_handling_seconds_count", (("channel", "console"),))
    await bound_chat.say("帮助")
    async with runtime.uow() as uow:
        account = await uow.accounts.find("console", bound_chat.user_id)
        assert account is not None
        await uow.outbox.add(
            account_id=account.id,
            purpose="ticket_update",
            idempotency_key="metrics-due",
            replies=[Reply("工单已完成").to_dict()],
            due_at=clock(),
            now=clock(),
        )
        await uow.commit()
    clock.advance(seconds=90)
    after = await _scrape(runtime)
    assert after[handled] == before.get(handled, 0) + 1
    assert after[latency] == before.get(latency, 0) + 1
    assert after[("bot_outbox_messages", (("state", "due"),))] == 1
    assert after[("bot_outbox_lag_seconds", ())] == 90
    assert after[("bot_escalations", (("state", "waiting"),))] == 0
