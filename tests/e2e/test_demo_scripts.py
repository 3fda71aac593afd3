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

#: The tour's clock: a Monday morning inside service hours. The warranty answer (handover
#: 2023-06-30, roof leaks 5 years) and every deadline depend on today, so the test fixes it.
TOUR_TIME = "2026-11-23T10:00+08:00"

EXPECTED = {
    "zh": [
        "绑定成功！张伟",
        "这个文件不是图片，没有保存",
        "已收到第 1 张照片",
        "保修：在保修期内（至 2028-06-30）",
        "客服会在 2026-11-23 11:00 前与您联系",  # an urgent leak: one hour from the fixed clock
        "报修已提交，工单号：BX-",
        "状态：已提交",
        "当前阶段：契税缴纳完成（2026-10-28）",
        "还需要您提供或缴纳：全额交款收据（交回换取发票）",
        "我们正在为您办理：按揭合同（向按揭银行取回）",
        "您的投诉已登记（编号 TS-",
    ],
    "en": [
        "Linked! Hello, 张伟.",
        "Warranty: In warranty until 2028-06-30",
        "BX-20261123-0001",
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
            "--now",
            TOUR_TIME,
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
