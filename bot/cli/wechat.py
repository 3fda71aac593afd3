"""`python -m bot wechat menu|qrcodes`: set up the 公众号 (see bot/channels/wechat/setup.py)."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import SubParsers, run_migrated
from bot.settings import SettingsError

if TYPE_CHECKING:
    from bot.app.bootstrap import Runtime
    from bot.channels.wechat.api import WeChatApi


def add_commands(commands: SubParsers[argparse.ArgumentParser]) -> None:
    wechat = commands.add_parser("wechat", help="set up the WeChat 公众号")
    actions = wechat.add_subparsers(title="wechat commands", metavar="COMMAND")
    menu = actions.add_parser("menu", help="create the custom menu from config/wechat_menu.yaml")
    menu.set_defaults(func=_menu)
    qrcodes = actions.add_parser("qrcodes", help="a permanent QR code per valid invite code")
    qrcodes.add_argument("--out", type=Path, default=Path("data/qrcodes"), help="PNG folder")
    qrcodes.set_defaults(func=_qrcodes)


def _menu(args: argparse.Namespace) -> int:
    from bot.channels.wechat.setup import create_menu

    return _with_api(
        lambda runtime, api: create_menu(
            api, runtime.settings.config_dir / "wechat_menu.yaml", runtime.flow_names
        )
    )


def _qrcodes(args: argparse.Namespace) -> int:
    from bot.channels.wechat.setup import create_qrcodes
    from bot.services.roster import valid_invite_codes

    async def work(runtime: Runtime, api: WeChatApi) -> int:
        codes = await valid_invite_codes(runtime.uow, runtime.services.clock())
        return await create_qrcodes(api, codes, args.out)

    return _with_api(work)


def _with_api(work: Callable[[Runtime, WeChatApi], Awaitable[int]]) -> int:
    """`work` with the API client of the WeChat channel the settings configure."""

    async def with_api(runtime: Runtime) -> int:
        from bot.channels.wechat.channel import WeChatChannel

        channel = next((c for c in runtime.channels if isinstance(c, WeChatChannel)), None)
        if channel is None:
            raise SettingsError(
                "WeChat is not configured: set WECHAT_APP_ID, WECHAT_APP_SECRET and WECHAT_TOKEN"
            )
        return await work(runtime, channel.api)

    return run_migrated(with_api)
