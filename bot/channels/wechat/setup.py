"""Setting up a 公众号: its custom menu and a permanent QR code per invite code.

Both are done once per 公众号 (and again when the menu or the roster changes), through the
channel's API client, so they use the shared access_token and WECHAT_API_BASE_URL like
everything else. `python -m bot wechat menu|qrcodes` calls them.
"""

from __future__ import annotations

import asyncio
import csv
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.channels.wechat.api import WeChatApi
from bot.config import ConfigError, read_yaml
from bot.services.csv_files import write_table

#: WeChat's menu limits: 3 top-level buttons of 16 bytes, 5 sub-buttons of 60 bytes each.
MAX_TOP, MAX_SUB = 3, 5
TOP_NAME_BYTES, SUB_NAME_BYTES, KEY_BYTES = 16, 60, 128
MAX_QR_PNG_BYTES = 2 * 1024 * 1024

log = logging.getLogger(__name__)


# -- menu -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MenuButton:
    name: str
    #: Button data sent back as a CLICK event (`flow:repair`), or a web page to open.
    key: str | None = None
    url: str | None = None
    children: tuple[MenuButton, ...] = ()

    def as_wechat(self) -> dict[str, Any]:
        if self.children:
            return {"name": self.name, "sub_button": [c.as_wechat() for c in self.children]}
        if self.url:
            return {"type": "view", "name": self.name, "url": self.url}
        return {"type": "click", "name": self.name, "key": self.key}


def load_menu(path: Path) -> list[MenuButton]:
    """`config/wechat_menu.yaml`, checked against WeChat's limits before anything is sent."""
    raw = read_yaml(path) or {}
    entries = raw.get("buttons") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_TOP:
        raise ConfigError(f"{path}: `buttons` must list 1 to {MAX_TOP} buttons")
    return [_button(entry, path, top=True) for entry in entries]


def _button(entry: Any, path: Path, *, top: bool) -> MenuButton:
    if not isinstance(entry, Mapping) or not entry.get("name"):
        raise ConfigError(f"{path}: every button needs a name")
    name = str(entry["name"])
    _check_bytes(path, name, TOP_NAME_BYTES if top else SUB_NAME_BYTES)
    children = entry.get("buttons")
    if children is not None:
        if not top or not isinstance(children, list) or not 1 <= len(children) <= MAX_SUB:
            raise ConfigError(f"{path}: {name!r} may hold 1 to {MAX_SUB} sub-buttons, one level")
        return MenuButton(name, children=tuple(_button(c, path, top=False) for c in children))
    key, url = entry.get("key"), entry.get("url")
    if bool(key) == bool(url):
        raise ConfigError(f"{path}: {name!r} needs exactly one of key or url")
    if key:
        _check_bytes(path, str(key), KEY_BYTES)
    return MenuButton(name, key=str(key) if key else None, url=str(url) if url else None)


def _check_bytes(path: Path, text: str, limit: int) -> None:
    if len(text.encode("utf-8")) > limit:
        raise ConfigError(f"{path}: {text!r} is longer than WeChat's {limit} bytes")


def unknown_flows(menu: list[MenuButton], flow_names: set[str]) -> list[str]:
    """Keys naming a flow the engine does not have: a click would only say "expired"."""
    leaves = [c for b in menu for c in (b.children or (b,))]
    return [
        b.key
        for b in leaves
        if b.key and b.key.startswith("flow:") and b.key.removeprefix("flow:") not in flow_names
    ]


async def create_menu(api: WeChatApi, path: Path, flow_names: set[str]) -> int:
    menu = load_menu(path)
    unknown = unknown_flows(menu, flow_names)
    if unknown:
        raise ConfigError(f"{path} names unknown flows: {', '.join(unknown)}")
    await api.post("cgi-bin/menu/create", {"button": [b.as_wechat() for b in menu]})
    print(f"menu created: {len(menu)} top-level buttons")
    return 0


# -- QR codes ---------------------------------------------------------------------------------
async def create_qrcodes(api: WeChatApi, codes: Sequence[str], out_dir: Path) -> int:
    """A permanent QR code per unused invite code; scanning it subscribes (or opens the chat)
    with the code as scene, which binds the home. Existing PNGs are kept: permanent codes
    are limited (100,000 per account), so a rerun creates only what is missing."""
    index_path = out_dir / "qrcodes.csv"
    index = await asyncio.to_thread(_read_index, index_path)
    created = 0
    try:
        for code in codes:
            png = out_dir / f"{code}.png"
            if code in index and await asyncio.to_thread(png.exists):
                continue
            index[code] = await _create_qrcode(api, code, png)
            created += 1
    finally:  # an interrupted run still records what it created
        await asyncio.to_thread(_write_index, index_path, index)
    print(f"{created} QR codes created, {len(codes)} valid invite codes, index: {index_path}")
    return 0


async def _create_qrcode(api: WeChatApi, code: str, png: Path) -> str:
    result = await api.post(
        "cgi-bin/qrcode/create",
        {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": code}}},
    )
    image = await api.show_qrcode(str(result["ticket"]), MAX_QR_PNG_BYTES)
    await asyncio.to_thread(png.write_bytes, image)
    return str(result.get("url", ""))


def _read_index(path: Path) -> dict[str, str]:
    """code → QR URL of the codes created before; creates the folder on first use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as handle:
        return {row["code"]: row["url"] for row in csv.DictReader(handle)}


def _write_index(path: Path, index: dict[str, str]) -> None:
    write_table(path, ["code", "url"], sorted(index.items()))
