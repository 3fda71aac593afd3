"""The WeChat HTTP API, called with httpx on the event loop.

Why not wechatpy's `WeChatClient`: it is synchronous (every call would need a thread), several
of its URLs ignore `API_BASE_URL` (the token fetch, media downloads, QR codes, 客服 accounts),
its token fetch ignores the timeout, and on 40001/42001 it refetches and retries without limit.
The dozen endpoints the bot needs are simpler to call directly, with one base URL, one timeout,
and exactly one retry after a token refresh. wechatpy still does the callback crypto and XML.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from bot.channels.wechat.token import AccessTokens, TokenStore

log = logging.getLogger(__name__)

#: Errors meaning "this access_token is no good": refresh it and retry once.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
T = TypeVar("T")
OFFICIAL_API_HOST = "api.weixin.qq.com"
OFFICIAL_SHOWQRCODE_URL = "https://mp.weixin.qq.com/cgi-bin/showqrcode"


class WeChatApiError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"wechat {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class TooLarge(Exception):
    """A download exceeded its byte limit (checked by Content-Length and while streaming)."""


class WeChatApi:
    def __init__(
        self,
        *,
        base_url: str,
        app_id: str,
        app_secret: str,
        http: httpx.AsyncClient,
        token_store: TokenStore,
        clock: Callable[[], datetime],
    ) -> None:
        self._base = base_url.rstrip("/") + "/"
        self._app_id = app_id
        self._app_secret = app_secret
        self._http = http
        self._tokens = AccessTokens(token_store, self.fetch_token, clock)

    async def fetch_token(self) -> tuple[str, int]:
        """The token endpoint itself (the only call without a token)."""
        params = {
            "grant_type": "client_credential",
            "appid": self._app_id,
            "secret": self._app_secret,
        }
        response = await self._http.get(self._url("cgi-bin/token"), params=params, timeout=TIMEOUT)
        data = _json(response)
        if not data.get("access_token"):
            raise WeChatApiError(-1, "token response without access_token")
        return str(data["access_token"]), int(data.get("expires_in") or 7200)

    async def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST JSON with the access token. UTF-8 as is: WeChat shows `\\uXXXX` escapes
        literally in menus and messages."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}

        async def call(token: str) -> dict[str, Any]:
            return _json(
                await self._http.post(
                    self._url(path),
                    params={"access_token": token},
                    content=body,
                    headers=headers,
                    timeout=TIMEOUT,
                )
            )

        return await self._with_token(call)

    async def upload_image(self, filename: str, data: bytes) -> str:
        """A temporary image (kept three days by WeChat) to send by media_id."""

        async def call(token: str) -> dict[str, Any]:
            return _json(
                await self._http.post(
                    self._url("cgi-bin/media/upload"),
                    params={"access_token": token, "type": "image"},
                    files={"media": (filename, data)},
                    timeout=TIMEOUT,
                )
            )

        return str((await self._with_token(call))["media_id"])

    async def download_media(self, media_id: str, max_bytes: int) -> bytes:
        """An owner's photo by MediaId; TooLarge beyond `max_bytes`."""

        async def call(token: str) -> bytes:
            params = {"access_token": token, "media_id": media_id}
            return await self.download(self._url("cgi-bin/media/get"), params, max_bytes)

        return await self._with_token(call)

    async def download(self, url: str, params: dict[str, str], max_bytes: int) -> bytes:
        """GET binary content, refusing more than `max_bytes` by Content-Length and while
        streaming; WeChat answers errors as JSON with status 200."""
        async with self._http.stream("GET", url, params=params, timeout=TIMEOUT) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise TooLarge(declared)
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(str(size))
                chunks.append(chunk)
            response.raise_for_status()
            content = b"".join(chunks)
        if _is_json(response):
            _parse(content)
            raise WeChatApiError(-1, "JSON where content was expected")
        return content

    async def show_qrcode(self, ticket: str, max_bytes: int) -> bytes:
        """The PNG of a QR code ticket. WeChat serves these from mp.weixin.qq.com, not from
        the API host; any other base URL (a proxy, the test fake) is asked itself."""
        official = urlsplit(self._base).hostname == OFFICIAL_API_HOST
        url = OFFICIAL_SHOWQRCODE_URL if official else self._url("cgi-bin/showqrcode")
        return await self.download(url, {"ticket": ticket}, max_bytes)

    def _url(self, path: str) -> str:
        return self._base + path

    async def _with_token(self, call: Callable[[str], Awaitable[T]]) -> T:
        """Run `call(token)`; on a token error refresh and retry exactly once. `call` builds
        its params from the token it is given, so the stale token never rides into the retry."""
        token = await self._tokens.get()
        try:
            return await call(token)
        except WeChatApiError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            log.info("wechat access_token rejected (%s); refreshing once", exc.errcode)
            token = await self._tokens.replace(token)
        return await call(token)


def _is_json(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "")
    return "json" in content_type or content_type.startswith("text/plain")


def _json(response: httpx.Response) -> dict[str, Any]:
    response.raise_for_status()
    return _parse(response.content)


def _parse(content: bytes) -> dict[str, Any]:
    """The body as a JSON object; WeChatApiError for a non-zero errcode (WeChat answers errors
    with HTTP 200) and for anything that is not JSON (a proxy's error page)."""
    try:
        data = json.loads(content)
    except ValueError:
        raise WeChatApiError(-1, "response is not JSON") from None
    if not isinstance(data, dict):
        raise WeChatApiError(-1, "unexpected response")
    errcode = int(data.get("errcode") or 0)
    if errcode:
        raise WeChatApiError(errcode, str(data.get("errmsg", "")))
    return data
