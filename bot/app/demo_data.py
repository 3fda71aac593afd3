"""Demo data: the sample roster and fixed, printable invite codes, so a newcomer can bind in
the console within a minute of `make run` (and scripted demos can rely on the codes)."""

from __future__ import annotations

import string
from datetime import datetime, timedelta

from bot.app.bootstrap import Runtime
from bot.services.certificates import ImportReport, import_certificates
from bot.services.roster import import_roster, parse_roster

#: DEMA2345, DEMB2345 …: valid codes (no 0/O/1/I/L) that are obviously demo codes.
DEMO_CODE_TEMPLATE = "DEM{letter}2345"
DEMO_CODE_LETTERS = [c for c in string.ascii_uppercase if c not in "IOL"]


class DemoDataRefused(Exception):
    """The database holds owners who are not the sample's: public demo codes must not reach
    them (anybody reading the README could bind their homes)."""


async def seed_demo(runtime: Runtime, now: datetime) -> list[tuple[str, str]]:
    """The sample roster with its certificate cases, once; returns the unused demo codes."""
    async with runtime.uow() as uow:
        first_time = not await uow.roster.owner_homes()
    codes = await seed_demo_roster(runtime, now)
    if first_time:
        await _seed_certificate_cases(runtime)
    return codes


async def seed_demo_roster(runtime: Runtime, now: datetime) -> list[tuple[str, str]]:
    """Import the sample roster once and give each owner-unit a demo code.

    Returns (code, "owner – home") pairs still unused, for the banner.
    """
    parsed = parse_roster((runtime.settings.config_dir / "sample_roster.csv").read_bytes())
    if parsed.errors:
        raise RuntimeError("sample roster is invalid: " + "; ".join(parsed.errors))
    async with runtime.uow() as uow:
        homes = await uow.roster.owner_homes()
    sample = {(r.project, r.building, r.unit, r.owner_name) for r in parsed.rows}
    foreign = [h for h in homes if (h.project, h.building, h.unit, h.owner_name) not in sample]
    if foreign:
        raise DemoDataRefused(
            f"refusing to add demo data: this database holds a real roster ({len(foreign)} "
            "owner-unit(s) not in config/sample_roster.csv); use an empty DATABASE_URL for demos"
        )
    if not homes:
        await import_roster(runtime.uow, parsed.rows, now, dry_run=False)
    unused = []
    async with runtime.uow() as uow:
        homes = await uow.roster.owner_homes()
        for letter, home in zip(DEMO_CODE_LETTERS, homes, strict=False):
            code = DEMO_CODE_TEMPLATE.format(letter=letter)
            invite = await uow.roster.invite(code)
            if invite is None:
                await uow.roster.issue_invite(
                    home.owner_unit_id, code, now, now + timedelta(days=3650)
                )
            if invite is None or invite.used_at is None:
                label = f"{home.owner_name} – {home.project} {home.building}-{home.unit}"
                unused.append((code, label))
        await uow.commit()
    return unused


async def _seed_certificate_cases(runtime: Runtime) -> None:
    data = (runtime.settings.config_dir / "sample_certificates.csv").read_bytes()
    report = await import_certificates_into(runtime, data)
    if report.errors:
        raise RuntimeError("sample certificate cases are invalid: " + "; ".join(report.errors))


async def import_certificates_into(
    runtime: Runtime, data: bytes, *, dry_run: bool = False
) -> ImportReport:
    """`import_certificates` with the rules, texts, time zone and clock of a running bot."""
    services = runtime.services
    return await import_certificates(
        runtime.uow,
        data,
        rules=services.rules.certificate,
        texts=services.texts,
        tz=runtime.settings.tz,
        now=services.clock(),
        dry_run=dry_run,
    )
