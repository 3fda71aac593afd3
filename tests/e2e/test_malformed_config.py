"""A malformed file in CONFIG_DIR stops the start in one line naming the file and the line,
whichever file it is (the rules, a locale, the WeChat templates)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from tests.e2e.processes import base_env, run_bot


@pytest.mark.parametrize(
    "relative",
    ["rules.yaml", "locales/zh/bind.yaml", "locales/en/form.yaml"],
)
def test_a_yaml_mistake_is_one_line_with_file_and_line(tmp_path: Path, relative: str) -> None:
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    broken = config / relative
    lines = broken.read_text(encoding="utf-8").splitlines()
    lines.insert(3, "oops: [unclosed")
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    script = tmp_path / "script.txt"
    script.write_text("帮助\n", encoding="utf-8")
    result = run_bot(
        "demo", "--script", str(script), env=base_env(tmp_path, CONFIG_DIR=str(config))
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1, result.stderr
    assert f"{broken}:4:" in errors[0], errors[0]  # where the unclosed list starts
