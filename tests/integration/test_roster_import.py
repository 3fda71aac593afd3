"""Roster import and invite codes against the real databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app.bootstrap import Runtime
from bot.services.roster import import_roster, issue_invite_codes, parse_roster
from bot.settings import PROJECT_ROOT

NOW = datetime(2026, 11, 23, tzinfo=UTC)


async def _import(runtime: Runtime, data: bytes, *, dry_run: bool = False) -> None:
    parsed = parse_roster(data)
    assert parsed.errors == []
    await import_roster(runtime.uow, parsed.rows, NOW, dry_run=dry_run)


async def test_reimport_updates_instead_of_duplicating(runtime: Runtime) -> None:
    sample = (PROJECT_ROOT / "config" / "sample_roster.csv").read_bytes()
    await _import(runtime, sample)
    changed = sample.replace(b"2023-06-30,89.50", b"2023-07-01,90.00")
    await _import(runtime, changed)
    async with runtime.uow() as uow:
        homes = await uow.roster.owner_homes()
        owner = await uow.roster.owner_by_phone_and_id("13800000001", "123X")
        assert owner is not None
        zhang = await uow.roster.homes_of_owner(owner)
    assert len(homes) == 7
    assert [h.number for h in zhang] == ["1-0101", "3-0801"]
    assert str(zhang[0].handover_date) == "2023-07-01"


async def test_dry_run_writes_nothing(runtime: Runtime) -> None:
    await _import(
        runtime, (PROJECT_ROOT / "config" / "sample_roster.csv").read_bytes(), dry_run=True
    )
    async with runtime.uow() as uow:
        assert await uow.roster.owner_homes() == []


async def test_invite_codes_are_one_per_home_and_reprinting_reuses_them(runtime: Runtime) -> None:
    await _import(runtime, (PROJECT_ROOT / "config" / "sample_roster.csv").read_bytes())
    options = {"now": NOW, "valid_until": NOW + timedelta(days=90), "bot_username": "DemoBot"}
    first = await issue_invite_codes(runtime.uow, only_new=False, **options)
    assert len(first) == 7 and len({c.code for c in first}) == 7
    assert first[0].telegram_link == f"https://t.me/DemoBot?start={first[0].code}"
    again = await issue_invite_codes(runtime.uow, only_new=False, **options)
    assert [c.code for c in again] == [c.code for c in first]
    assert await issue_invite_codes(runtime.uow, only_new=True, **options) == []
