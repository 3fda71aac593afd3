"""SIGTERM is how `docker stop` and systemd stop the bot: the same clean stop as Ctrl-C
(server closed, channels stopped, no traceback) and a successful exit, not death by signal."""

from __future__ import annotations

import signal
from pathlib import Path

from bot.testing.fake_telegram import TOKEN, FakeTelegram, text_update
from tests.e2e.processes import base_env, start_bot, wait_until_healthy


def test_sigterm_stops_cleanly_after_answering(tmp_path: Path, fake: FakeTelegram) -> None:
    env = base_env(tmp_path, TELEGRAM_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake.base_url)
    process = start_bot("run", "--demo-data", env=env)
    try:
        wait_until_healthy(env, process)
        fake.push_update(text_update(7100, "/help"))
        fake.run(fake.wait_until(lambda: bool(fake.sent_to(7100)), within=30)).result()
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert process.returncode == 0, output
    assert "Traceback" not in output
    assert output.rstrip().splitlines()[-1] == "stopped", output
