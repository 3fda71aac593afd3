"""`python -m bot outbox status` and the delivery settings, as an operator runs them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.app.bootstrap import build_runtime
from bot.engine.types import Reply
from bot.settings import load_settings
from tests.e2e.test_cli import bot


def test_status_of_an_empty_outbox(env: dict[str, str]) -> None:
    result = bot("outbox", "status", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "The outbox is empty."


async def test_status_counts_per_channel_and_purpose_and_lists_the_dead(
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    assert bot("db", "upgrade", env=env).returncode == 0
    runtime = build_runtime(
        load_settings(database_url=env["DATABASE_URL"], media_dir=tmp_path / "media"),
        with_channels=False,
    )
    now = datetime.now(UTC)
    try:
        async with runtime.uow() as uow:
            account, _ = await uow.accounts.touch("telegram", "42", language="zh", now=now)
            for key, purpose in (("a", "survey"), ("b", "survey"), ("c", "reply")):
                await uow.outbox.add(
                    account_id=account.id,
                    purpose=purpose,
                    idempotency_key=key,
                    replies=[Reply("x").to_dict()],
                    due_at=now,
                    now=now,
                )
            item = await uow.outbox.id_of("c")
            assert item is not None
            await uow.outbox.give_up(item, "telegram: chat not reachable")
            await uow.commit()
    finally:
        await runtime.close()
    result = bot("outbox", "status", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "channel", "purpose", "due", "scheduled", "in", "flight", "retrying", "sent", "dead",
        "dropped",
    ]  # fmt: skip
    assert lines[1].split() == ["telegram", "reply", "0", "0", "0", "0", "0", "1", "0"]
    assert lines[2].split() == ["telegram", "survey", "2", "0", "0", "0", "0", "0", "0"]
    assert "telegram/reply dead: telegram: chat not reachable" in result.stdout


def test_a_bad_quiet_hours_value_names_the_setting(env: dict[str, str]) -> None:
    result = bot("outbox", "status", env={**env, "QUIET_HOURS": "25:00-08:00"})
    assert result.returncode == 2
    assert "QUIET_HOURS" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_tick_names_the_setting(env: dict[str, str]) -> None:
    result = bot("outbox", "status", env={**env, "SCHEDULER_TICK_SECONDS": "0"})
    assert result.returncode == 2
    assert "SCHEDULER_TICK_SECONDS" in result.stderr
