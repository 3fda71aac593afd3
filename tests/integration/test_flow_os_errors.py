"""An OSError inside a flow is the flow's failure, not a database outage.

The engine used to take every OSError for a lost database connection: it retried the update
three times and gave up with "database unavailable", leaving it pending, to fail the same way
at every restart. Now only a database error counts (a socket error while connecting arrives
as one: bot.storage.db), and a flow's own OSError is recorded as a failed update with an
apology, like any other crash of a step.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app.bootstrap import Runtime
from bot.faq.misses import MissLog
from bot.storage.models import ProcessedUpdate
from tests.support import Chat

UNANSWERABLE = "请问木星有几颗卫星"


async def test_a_flow_writing_to_an_unwritable_file_apologises_and_is_recorded_failed(
    chat: Chat, runtime: Runtime, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    taken = tmp_path / "faq_misses.jsonl"
    taken.mkdir()  # opening it for append raises IsADirectoryError, an OSError
    runtime.services.faq_misses = MissLog(taken)
    runtime.engine._retry_delay = 0.01
    await chat.say(UNANSWERABLE)
    assert "出了点问题" in chat.text
    async with runtime.uow() as uow:
        rows = (
            await uow.session.execute(select(ProcessedUpdate.status, ProcessedUpdate.failure))
        ).all()
    assert [tuple(row) for row in rows] == [("failed", "flow error: IsADirectoryError")]
    assert "database unavailable" not in caplog.text
    runtime.services.faq_misses = MissLog(tmp_path / "misses.jsonl")
    await chat.say("菜单")  # the conversation goes on
    assert "绑定" in chat.text
