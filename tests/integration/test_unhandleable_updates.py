"""An update that cannot be handled never stops the channel: it is recorded as failed with its
reason, the owner gets an apology or a polite answer, and the next update is handled.

Button data comes from the platform and can be anything a client sends: ids beyond 64 bits
(PostgreSQL refuses them as query parameters) or digits that are not ASCII ("²".isdigit())."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.app.bootstrap import Runtime
from bot.engine.context import Context
from bot.engine.engine import Engine
from bot.engine.flow import Flow, Outcome
from bot.engine.types import IncomingMessage, MessageKind
from bot.handlers import all_flows
from bot.storage.models import ProcessedUpdate
from tests.support import Chat

HOSTILE_BUTTONS = [
    "tickets:show:99999999999999999999",
    "tickets:show:²",
    "tickets:close:٣",
    "tickets:show:-1",
    "complaint:households:²",
]


@pytest.mark.parametrize("data", HOSTILE_BUTTONS)
async def test_hostile_button_data_gets_a_polite_answer(bound_chat: Chat, data: str) -> None:
    await bound_chat.press(data)
    assert bound_chat.text and "出了点问题" not in bound_chat.text  # not the crash apology
    await bound_chat.say("菜单")
    assert "报修" in " ".join(bound_chat.buttons)


async def test_a_hostile_numbered_choice_is_read_as_text(bound_chat: Chat) -> None:
    await bound_chat.say("菜单")
    await bound_chat.say("²")
    assert bound_chat.text and "出了点问题" not in bound_chat.text


class DuplicatingFlow(Flow):
    """A step whose SQL the database refuses (a unique key broken): a bug the engine must
    contain, not a transient outage it should retry."""

    name = "duplicating"
    commands = ("/duplicate",)
    requires_binding = False

    async def start(self, ctx: Context, argument: str) -> Outcome:
        row = {"channel": ctx.msg.channel, "update_key": ctx.msg.update_key, "payload": {}}
        ctx.uow.session.add(ProcessedUpdate(**row, status="pending", received_at=ctx.now))
        await ctx.uow.session.flush()
        return Outcome([])


def _message(key: str, text: str) -> IncomingMessage:
    return IncomingMessage(
        channel="console", user_id="owner-9", update_key=key, kind=MessageKind.TEXT, text=text
    )


async def _inbox_row(runtime: Runtime, key: str) -> Any:
    async with runtime.uow() as uow:
        query = select(ProcessedUpdate.status, ProcessedUpdate.failure).where(
            ProcessedUpdate.update_key == key
        )
        return (await uow.session.execute(query)).one()


async def test_a_database_error_in_a_step_is_recorded_as_failed_and_the_next_update_runs(
    runtime: Runtime,
) -> None:
    engine = Engine(runtime.engine.uow_factory, runtime.services, [*all_flows(), DuplicatingFlow()])
    failed = await engine.handle(_message("bad-1", "/duplicate"))
    assert "出了点问题" in failed.replies[0].text
    row = await _inbox_row(runtime, "bad-1")
    assert row.status == "failed" and "IntegrityError" in row.failure
    assert (await engine.process_pending("console")) == []  # not retried at every start
    again = await engine.handle(_message("bad-1", "/duplicate"))  # the platform redelivers
    assert again.duplicate and "出了点问题" in again.replies[0].text
    after = await engine.handle(_message("good-1", "菜单"))
    assert after.replies and (await _inbox_row(runtime, "good-1")).status == "done"
