"""The newcomer's tour (docs/demo/owner_*.txt) through `python -m bot demo --script`: bind,
report a leak with a photo, see the warranty answer and the ticket, check the certificate
case, file a complaint — in Chinese and in English."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT

EXPECTED = {
    "zh": [
        "绑定成功！张伟",
        "这个文件不是图片，没有保存",
        "已收到第 1 张照片",
        "保修：在保修期内（至 2028-06-30）",
        "报修已提交，工单号：BX-",
        "状态：已提交",
        "当前阶段：契税缴纳完成（2026-10-28）",
        "还需要您提供或缴纳：维修资金交款凭证、贷款合同",
        "您的投诉已登记（编号 TS-",
    ],
    "en": [
        "Linked! Hello, 张伟.",
        "Warranty: In warranty until 2028-06-30",
        "Status: Submitted",
        "Current stage: Deed tax paid (2026-10-28)",
        "Your complaint is recorded",
    ],
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_demo_tour(lang: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
        "MEDIA_DIR": str(tmp_path / "media"),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "demo",
            "--script",
            f"docs/demo/owner_{lang}.txt",
            "--lang",
            lang,
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for fragment in EXPECTED[lang]:
        assert fragment in result.stdout, fragment
    assert "出了点问题" not in result.stdout and "went wrong" not in result.stdout
    stored = list((tmp_path / "media").rglob("*.jpg"))
    assert len(stored) == 1  # the real photo, content-addressed; the text file was refused
