"""The WeChat channel as the composition root builds it, for tests that construct their own."""

from __future__ import annotations

from bot.app.bootstrap import Runtime
from bot.channels.wechat.channel import WeChatChannel
from bot.settings import Settings
from bot.storage.wechat_tokens import DatabaseTokenStore
from bot.testing.fake_wechat_api import APP_ID


def make_wechat_channel(settings: Settings, runtime: Runtime) -> WeChatChannel:
    """The access_token row lives in this runtime's database (Redis, when set, in front)."""
    return WeChatChannel(
        settings,
        runtime.engine,
        database_tokens=DatabaseTokenStore(runtime.uow, APP_ID),
        clock=runtime.services.clock,
        media_path=runtime.services.media.path_of,
    )
