"""Neutral replies rendered for a 公众号, which has no buttons."""

from __future__ import annotations

import pytest
import yaml

from bot.channels.wechat.render import (
    TEXT_LIMIT_BYTES,
    ImageOut,
    MenuOut,
    TextOut,
    as_text,
    render,
    split_text,
)
from bot.engine.types import Button, Reply, button_rows
from bot.i18n import Texts
from bot.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def texts() -> Texts:
    """The channel's own locale files, as the running bot loads them."""
    catalog = {}
    for lang in ("zh", "en"):
        path = PROJECT_ROOT / "config" / "locales" / lang / "wechat.yaml"
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
        catalog[lang] = {f"wechat.{key}": str(text) for key, text in entries.items()}
    return Texts(catalog, {})


MENU = Reply(
    "请选择：",
    buttons=button_rows([Button("🔧 报修", "flow:repair"), Button("📋 我的工单", "flow:tickets")]),
)


def test_buttons_become_numbered_options_in_the_owners_language(texts: Texts) -> None:
    assert render([MENU], texts, "zh", menus=False) == [
        TextOut("请选择：\n回复 1 🔧 报修\n回复 2 📋 我的工单")
    ]
    [english] = render([MENU], texts, "en", menus=False)
    assert isinstance(english, TextOut) and "Reply 1: 🔧 报修" in english.text


def test_only_the_last_buttons_are_numbered_because_numbers_map_to_them(texts: Texts) -> None:
    earlier = Reply("先看这个", buttons=button_rows([Button("旧按钮", "x:old")]))
    [item] = render([earlier, Reply("绑定成功"), MENU], texts, "zh", menus=False)
    assert isinstance(item, TextOut)
    assert "旧按钮" not in item.text
    assert item.text.startswith("先看这个\n\n绑定成功\n\n请选择：")


def test_within_the_window_options_are_a_menu_with_the_preceding_text_folded_in(
    texts: Texts,
) -> None:
    [menu] = render([Reply("绑定成功"), MENU], texts, "zh", menus=True)
    assert isinstance(menu, MenuOut)
    assert menu.head == "绑定成功\n\n请选择："
    assert menu.options == ("🔧 报修", "📋 我的工单")
    assert "回复 1 🔧 报修" in as_text(menu, texts, "zh")


def test_photos_follow_their_text_in_order(texts: Texts) -> None:
    items = render([Reply("示意图", photo_path="ab/cd.png"), Reply("完")], texts, "zh", menus=False)
    assert items == [TextOut("示意图"), ImageOut("ab/cd.png"), TextOut("完")]


def test_no_replies_render_nothing(texts: Texts) -> None:
    assert render([], texts, "zh", menus=False) == []
    assert render([Reply("")], texts, "zh", menus=False) == []


def test_long_texts_are_split_under_the_byte_limit_at_line_ends() -> None:
    text = "\n".join(f"第{n}行：" + "很长的说明" * 10 for n in range(100))
    chunks = split_text(text)
    assert len(chunks) > 1
    assert all(len(c.encode()) <= TEXT_LIMIT_BYTES for c in chunks)
    assert "\n".join(chunks) == text


def test_a_single_huge_line_is_cut_without_breaking_characters() -> None:
    chunks = split_text("码" * 1000, limit=100)
    assert "".join(chunks) == "码" * 1000
    assert all(len(c.encode()) <= 100 for c in chunks)
