"""The Alembic migrations build exactly the schema the models describe, and what one fills in
for the rows that existed before it is right."""

from __future__ import annotations

from alembic import command
from sqlalchemy.engine import Connection

from bot.app.bootstrap import Runtime
from bot.storage.migrate import alembic_config, schema_drift, upgrade
from tests.integration.test_surveys import low_scores_of_both_kinds, surveys
from tests.support import Chat, FakeClock


async def test_models_and_migrations_do_not_drift(runtime: Runtime) -> None:
    assert await schema_drift(runtime.db) == []


async def test_surveys_answered_before_0008_get_the_escalation_they_handed_over_to(
    bound_chat: Chat, runtime: Runtime, clock: FakeClock
) -> None:
    await low_scores_of_both_kinds(bound_chat, runtime, clock)
    linked = [(r.follow_up, r.escalation_id) for r in await surveys(runtime)]
    assert linked[-1][1] is not None  # the revisit's hand-off, recorded as it happened

    def downgrade(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), "0007")

    async with runtime.db.begin() as connection:
        await connection.run_sync(downgrade)
    await upgrade(runtime.db)
    assert [(r.follow_up, r.escalation_id) for r in await surveys(runtime)] == linked
