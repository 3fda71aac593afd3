"""The command line as an operator uses it: real processes, a temporary SQLite database."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.config import load_rules
from bot.settings import PROJECT_ROOT


def bot(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=PROJECT_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["run"],
        ["demo"],
        ["db", "upgrade"],
        ["owners", "import"],
        ["owners", "invite-codes"],
        ["rules", "check"],
        ["surveys", "campaign"],
        ["surveys", "report"],
        ["outbox", "status"],
        ["bench", "push"],
    ],
)
def test_every_command_has_help(command: list[str], env: dict[str, str]) -> None:
    result = bot(*command, "--help", env=env)
    assert result.returncode == 0
    assert "usage: python -m bot" in result.stdout


def test_a_bad_setting_stops_with_the_variables_name(env: dict[str, str]) -> None:
    result = bot("db", "upgrade", env={**env, "TIMEZONE": "Nowhere/Land"})
    assert result.returncode == 2
    assert "TIMEZONE" in result.stderr and "Traceback" not in result.stderr


def test_import_reports_bad_rows_and_writes_nothing(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    good = (PROJECT_ROOT / "config" / "sample_roster.csv").read_text(encoding="utf-8")
    bad.write_text(good + "翠湖花园,9栋,9-0909,坏行,123,12,2020-02-30,x\n", encoding="utf-8")
    result = bot("owners", "import", str(bad), env=env)
    assert result.returncode == 1
    assert "line 9: phone '123'" in result.stdout and "nothing was imported" in result.stdout
    codes = tmp_path / "codes.csv"
    assert bot("owners", "invite-codes", "--out", str(codes), env=env).returncode == 0
    assert codes.read_text(encoding="utf-8-sig").count("\n") == 1  # header only: no owners


def test_import_then_print_codes_then_bind_in_the_demo(env: dict[str, str], tmp_path: Path) -> None:
    roster = str(PROJECT_ROOT / "config" / "sample_roster.csv")
    dry = bot("owners", "import", roster, "--dry-run", env=env)
    assert "would import 7 rows" in dry.stdout
    assert "imported 7 rows" in bot("owners", "import", roster, env=env).stdout
    codes = tmp_path / "codes.csv"
    assert (
        "wrote 7 invite code(s)"
        in bot("owners", "invite-codes", "--out", str(codes), env=env).stdout
    )
    lines = codes.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "project,building,unit,owner_name,code,telegram_link"
    liu = next(line for line in lines if "刘洋" in line)
    code = liu.split(",")[4]
    assert (
        "wrote 0 invite code(s)"
        in bot("owners", "invite-codes", "--out", str(codes), "--only-new", env=env).stdout
    )
    script = tmp_path / "bind.txt"
    script.write_text(f"# a printed code\n绑定 {code}\n菜单\n", encoding="utf-8")
    result = bot("demo", "--script", str(script), env=env)
    assert result.returncode == 0, result.stderr
    assert f"you> 绑定 {code}" in result.stdout
    assert "绑定成功" in result.stdout and "锦绣园 A座-A-1601" in result.stdout
    assert "[1] 🔧 报修" in result.stdout


def test_demo_script_in_english(env: dict[str, str], tmp_path: Path) -> None:
    script = tmp_path / "en.txt"
    script.write_text("bind DEMA2345\nhelp\n", encoding="utf-8")
    result = bot("demo", "--script", str(script), "--lang", "en", env=env)
    assert result.returncode == 0, result.stderr
    assert "Linked! Hello, 张伟." in result.stdout
    assert "repair — report a problem" in result.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_run_serves_health_without_any_channel_tokens(env: dict[str, str]) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=PROJECT_ROOT,
        env={**env, "BOT_PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = _wait_for_health(port)
        assert body["status"] == "ok" and body["database"] == "ok"
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=30)[0]
    assert "TELEGRAM_TOKEN" in output and "WECHAT_APP_ID" in output  # says how to add them
    assert "Traceback" not in output  # Ctrl-C is a normal stop
    assert "sign-off" not in output  # ENVIRONMENT=development: no warning


def test_run_in_production_warns_once_with_the_count_of_unsigned_values(
    env: dict[str, str],
) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=PROJECT_ROOT,
        # Production refuses a weak SECRET_KEY (tests/e2e/test_secret_key.py); give it a strong one.
        env={**env, "BOT_PORT": str(port), "ENVIRONMENT": "production", "SECRET_KEY": "k" * 40},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_health(port)
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=30)[0]
    count = len(load_rules(PROJECT_ROOT / "config").awaiting_sign_off)
    [line] = [line for line in output.splitlines() if "sign-off" in line]
    assert "WARNING" in line and f"{count} value(s)" in line and "rules check" in line


def test_rules_check_lists_each_unsigned_value_with_where_owners_see_it(
    env: dict[str, str],
) -> None:
    result = bot("rules", "check", env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "await the company's sign-off" in out
    assert "- company.hotline = '027-00000000'  [DEFAULT]" in out
    assert "- company.hotline_hours = '08:00-18:00'  [SAMPLE]" in out
    assert "repair.deadlines.normal.contact_hours = 2  [DEFAULT]" in out
    # where owners see it: the texts that name the value, found in the locale and FAQ files
    hotline = out[out.index("- company.hotline ") : out.index("- company.hotline_hours")]
    assert "repair.no_homes" in hotline and "faq:contact_hotline" in hotline


def test_rules_check_lists_a_projects_fee_until_it_is_signed_off(
    env: dict[str, str], tmp_path: Path
) -> None:
    fees = (
        "fees:\n"
        "  翠湖花园:\n"
        "    renovation_deposit: {amount: '2000', unit: 元/户, source: 《交房通知书》第三条}\n"
        "    lift: {amount: '30', unit: 元/户/月, source: 收费一览表,\n"
        "           signed_off: 财务部 2026-11-20}\n"
    )
    result = rules_check_with(env, tmp_path, "\nfees: {}\n", "\n" + fees)  # none shipped
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert (
        "- fees.翠湖花园.renovation_deposit = '2000 元/户 (《交房通知书》第三条)'  [UNSIGNED]"
        in out
    )
    assert "FAQ answers on fees, to owners of 翠湖花园" in out
    assert "fees.翠湖花园.lift" not in out  # signed off


def test_rules_check_refuses_a_sign_off_key_the_file_does_not_have(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = rules_check_with(env, tmp_path, "  company.email:", "  company.e_mail:")
    assert result.returncode == 2
    assert "rules.yaml: awaiting_sign_off: company.e_mail" in result.stderr


def rules_check_with(
    env: dict[str, str], tmp_path: Path, old: str, new: str
) -> subprocess.CompletedProcess[str]:
    """`rules check` on a copy of the shipped config whose rules.yaml has `old` made `new`."""
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    rules = config / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert old in text
    rules.write_text(text.replace(old, new), encoding="utf-8")
    return bot("rules", "check", "--config-dir", str(config), env=env)


def _wait_for_health(port: int) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return dict(response.json())
        except httpx.HTTPError:
            time.sleep(0.3)
    raise AssertionError("the server did not become healthy within 60 s")
