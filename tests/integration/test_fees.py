"""Fees as each project's configuration (issue 18): an owner of a project with a fee set reads
the company's figure and the document it is written in; an owner of a project without one is
told where the amount is written and offered a person — never a sample figure. Test figures
(2000, 2.20) are this test's own, not anyone's fees."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
import yaml

from bot.app.bootstrap import Runtime
from bot.domain.errors import ConfigError
from bot.domain.fees import FeeRules
from bot.domain.sign_off import Basis
from tests.support import Chat

FEES = yaml.safe_load(
    """
翠湖花园:
  renovation_deposit:
    amount: "2000"
    unit: 元/户
    unit_en: CNY per home
    source: 《交房通知书》（翠湖花园 2026 年版）第三条
  property_fee_interim:
    amount: "2.20"
    unit: 元/㎡/月
    unit_en: CNY per ㎡ per month
    source: 《业主入住收费一览表》（翠湖花园）
    signed_off: 财务部 王某 2026-11-20
"""
)


@pytest.fixture
def fees_set(runtime: Runtime) -> None:
    """翠湖花园 (张伟's homes) has two fees; 锦绣园 (刘洋's) has none."""
    rules = runtime.services.rules
    runtime.services.rules = dataclasses.replace(rules, fees=FeeRules.from_config(FEES))


async def bound(new_chat: Callable[..., Chat], codes: dict[str, str], owner: str) -> Chat:
    chat = new_chat(f"fees-{owner}")
    await chat.say(f"绑定 {codes[owner]}")
    assert "绑定成功" in chat.text
    return chat


@pytest.mark.usefixtures("fees_set")
async def test_an_owner_of_a_project_with_the_fee_reads_its_figure_and_where_it_is_written(
    new_chat: Callable[..., Chat], demo_codes: dict[str, str]
) -> None:
    zhang = await bound(new_chat, demo_codes, "张伟")
    await zhang.say("装修保证金要交多少？")
    said = zhang.text
    assert "翠湖花园的收费标准" in said
    assert "装修保证金：2000 元/户（见《交房通知书》（翠湖花园 2026 年版）第三条）" in said
    assert "全额返还" in said  # the rest of the answer stays
    assert "我这里没有具体金额" not in said
    await zhang.say("物业费一平米多少钱？")
    assert "物业费暂定标准：2.20 元/㎡/月（见《业主入住收费一览表》（翠湖花园））" in zhang.text
    assert "预收半年" in zhang.text

    await zhang.say("/lang en")
    await zhang.say("How much is the renovation deposit?")
    said = zhang.text
    assert "Fees at 翠湖花园:" in said
    assert "Renovation deposit: 2000 CNY per home (written in 《交房通知书》" in said
    assert "I don't have the amount" not in said


@pytest.mark.usefixtures("fees_set")
async def test_an_owner_of_a_project_without_the_fee_is_told_where_it_is_written(
    new_chat: Callable[..., Chat], demo_codes: dict[str, str]
) -> None:
    liu = await bound(new_chat, demo_codes, "刘洋")  # 锦绣园: no fee set
    await liu.say("装修保证金要交多少？")
    said = liu.text
    assert "《交房通知书》及《业主入住收费一览表》" in said and "转人工" in said
    assert "2000" not in said and "1500" not in said
    zhang = await bound(new_chat, demo_codes, "张伟")
    await zhang.say("煤气管道费多少钱？")  # 翠湖花园 sets other fees, not this one
    assert "我这里没有具体金额" in zhang.text and "2000" not in zhang.text

    await liu.say("/lang en")
    await liu.say("How much is the renovation deposit?")
    said = liu.text
    assert "handover notice" in said and "staff" in said and "2000" not in said


async def test_without_any_fee_configured_no_owner_reads_a_figure(
    runtime: Runtime, new_chat: Callable[..., Chat], demo_codes: dict[str, str]
) -> None:
    assert runtime.services.rules.fees.projects == {}  # the shipped rules.yaml sets none
    zhang = await bound(new_chat, demo_codes, "张伟")
    await zhang.say("装修保证金要交多少？")
    assert "我这里没有具体金额" in zhang.text and "转人工" in zhang.text


def test_fees_awaiting_sign_off_are_listed_and_signed_ones_are_not() -> None:
    pending = FeeRules.from_config(FEES).awaiting_sign_off()
    assert [(p.key, p.basis) for p in pending] == [
        ("fees.翠湖花园.renovation_deposit", Basis.UNSIGNED)
    ]
    assert "2000 元/户" in str(pending[0].value) and "翠湖花园" in pending[0].owners_see


@pytest.mark.parametrize(
    ("fees", "message"),
    [
        ({"P": {"parking": {"amount": "1", "unit": "元", "source": "x"}}}, "unknown fee"),
        ({"P": {"lift": {"amount": "abc", "unit": "元", "source": "x"}}}, "amount"),
        ({"P": {"lift": {"amount": "0", "unit": "元", "source": "x"}}}, "positive"),
        ({"P": {"lift": {"amount": "5", "unit": "元"}}}, "source document"),
        ({"P": ["lift"]}, "must map fee ids"),
    ],
)
def test_a_malformed_fee_stops_start_up_with_its_place(fees: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        FeeRules.from_config(fees)
