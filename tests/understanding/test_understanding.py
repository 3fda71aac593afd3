"""The understanding step on the frozen held-out set (tests/understanding/heldout_intents.yaml),
written before any tuning and never tuned on, and on the tuning set, with the issue's targets."""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from bot.settings import PROJECT_ROOT
from bot.understanding import Intent, Understander

HERE = Path(__file__).resolve().parent
HELDOUT = HERE / "heldout_intents.yaml"
TUNING = HERE / "tuning.yaml"
STYLES = {"colloquial", "typo", "traditional", "english", "terse"}
#: Targets on the held-out set: overall, per style, and the slots the cases name.
INTENT_TARGET = 0.95
STYLE_TARGET = 0.90
SLOT_TARGET = 0.95


@pytest.fixture(scope="module")
def understander() -> Understander:
    return Understander.from_config(PROJECT_ROOT / "config")


def cases(path: Path) -> list[dict[str, object]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def score(understander: Understander, path: Path) -> tuple[dict[str, list[int]], list[int]]:
    """Per style [right, total] of intents, and [right, total] over the named slots."""
    styles: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    slots = [0, 0]
    for case in cases(path):
        understood = understander.understand(str(case["text"]), str(case["lang"]))
        tally = styles[str(case["style"])]
        tally[0] += understood.intent.value == case["intent"]
        tally[1] += 1
        for name, value in dict(case.get("slots") or {}).items():  # type: ignore[call-overload]
            slots[0] += getattr(understood.slots, name) == value
            slots[1] += 1
    return styles, slots


def test_the_held_out_set_is_large_and_covers_every_intent_and_style() -> None:
    held_out = cases(HELDOUT)
    assert len(held_out) >= 150
    assert {str(c["intent"]) for c in held_out} == {intent.value for intent in Intent}
    assert {str(c["style"]) for c in held_out} == STYLES
    texts = [c["text"] for c in held_out]
    assert len(texts) == len(set(texts))
    assert not set(texts) & {c["text"] for c in cases(TUNING)}


def test_held_out_intents_and_slots_meet_the_targets(understander: Understander) -> None:
    styles, slots = score(understander, HELDOUT)
    right = sum(tally[0] for tally in styles.values())
    total = sum(tally[1] for tally in styles.values())
    assert right / total >= INTENT_TARGET
    assert {style: r / t for style, (r, t) in styles.items() if r / t < STYLE_TARGET} == {}
    assert slots[0] / slots[1] >= SLOT_TARGET


def test_the_tuning_set_is_understood_entirely(understander: Understander) -> None:
    styles, slots = score(understander, TUNING)
    assert all(right == total for right, total in styles.values())
    assert slots[0] == slots[1]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我家卫生间漏水了，楼下都渗了", Intent.REPAIR),
        ("报修 厨房水管漏水", Intent.REPAIR),
        ("我要报修，卫生间漏水", Intent.REPAIR),
        ("报个修", Intent.REPAIR),
        ("我家厨房水管漏水了，师傅能不能今天来", Intent.REPAIR),
        ("我家卫生间天花板漏水了怎么办", Intent.REPAIR),
        ("你好", Intent.SMALLTALK),
        ("谢谢", Intent.SMALLTALK),
        ("hi", Intent.SMALLTALK),
        ("好的", Intent.SMALLTALK),
        ("你们物业太垃圾了，漏水半个月都没人管！！", Intent.COMPLAINT),
        ("我要跟你们经理说话", Intent.HUMAN),
        (
            "整栋楼外墙都在渗水，好多户都受影响，再不处理我们就拉横幅上访",
            Intent.COMPLAINT,
        ),
        ("我要投诉你们物业经理", Intent.COMPLAINT),
        ("物业费怎么交", Intent.FAQ),
        ("算了不报了", Intent.CANCEL),
        ("返回", Intent.BACK),
        ("上一步", Intent.BACK),
        ("不修了，我自己找人修", Intent.CANCEL),
        ("结束人工服务", Intent.END_HUMAN),
        ("我的房产证办到哪了", Intent.CERTIFICATE),
        ("厨房水管爆了 水流了一地 急！！！", Intent.EMERGENCY),
        ("Kitchen pipe burst, water everywhere", Intent.EMERGENCY),
        ("物业费可以微信交吗", Intent.FAQ),
        ("过了保修期修要钱吗", Intent.FAQ),
        ("办证要带什么", Intent.FAQ),
        ("物业电话多少", Intent.FAQ),
    ],
)
def test_every_example_of_the_issue(understander: Understander, text: str, intent: Intent) -> None:
    assert understander.understand(text).intent is intent


def test_urgency_is_the_same_in_every_language_and_script(understander: Understander) -> None:
    texts = [
        "厨房水管爆了 水流了一地 急！！！",
        "Kitchen pipe burst, water everywhere",
        "廚房水管爆了，水流了一地",
    ]
    found = {
        (u.slots.category, u.slots.place, u.slots.urgency)
        for u in (understander.understand(text) for text in texts)
    }
    assert found == {("plumbing", "kitchen", "urgent")}


def test_a_typed_repair_keeps_the_problem_without_the_request_word(
    understander: Understander,
) -> None:
    understood = understander.understand("报修 厨房水管漏水", "zh")
    assert understood.slots.description == "厨房水管漏水"
    assert understander.understand("报个修", "zh").slots.description == ""


def test_a_question_that_is_also_a_problem_carries_the_other_reading(
    understander: Understander,
) -> None:
    understood = understander.understand("水管坏了保修吗", "zh")
    assert (understood.intent, understood.alternative) == (Intent.FAQ, Intent.REPAIR)
    assert understood.confidence < 0.6


def test_a_broken_pattern_file_stops_loading_with_its_section(tmp_path: Path) -> None:
    from bot.config import ConfigError

    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    path = config / "understanding" / "understanding.yaml"
    text = path.read_text("utf-8").replace("emergency:\n", "emergency:\n  - '(unclosed'\n", 1)
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError, match=r"understanding\.yaml.*missing \)"):
        Understander.from_config(config)
