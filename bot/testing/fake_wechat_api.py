"""A fake WeChat HTTP API on loopback, speaking the real wire format.

Our adapter talks to it exactly as to api.weixin.qq.com (WECHAT_API_BASE_URL points here):
GET cgi-bin/token, POST message/custom/send and message/template/send, GET media/get, POST
media/upload, qrcode/create, GET showqrcode, POST menu/create. Errors come back as WeChat sends
them, JSON with a non-zero `errcode` and HTTP 200. Tests script failures per endpoint (40001,
45015, 43004 …), expire the current token, and assert on the recorded calls.

It runs in a thread with its own event loop so it serves callers in any loop (tests, the
callback benchmark's server process is pointed at it too); its public methods are thread-safe.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

import uvicorn
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

APP_ID = "wx0123456789abcdef"
APP_SECRET = "test-app-secret"
#: How long `wait_for` waits for a background delivery before failing the test.
WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class Call:
    """One API request as the fake received it."""

    path: str
    #: Every `access_token` query parameter (two would mean a stale one rode along).
    tokens: list[str]
    params: dict[str, str]
    body: dict[str, Any]


def png_bytes(size: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), "white").save(buffer, "PNG")
    return buffer.getvalue()


class FakeWeChatApi:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._failures: dict[str, deque[int]] = defaultdict(deque)
        self._always: dict[str, int] = {}
        self._serial = itertools.count(1)
        self._valid_tokens: set[str] = set()
        self.token_fetches = 0
        #: MediaId → bytes served by media/get.
        self.media: dict[str, bytes] = {}
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
        # without it Nagle + delayed ACK add 40 ms to every call.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self._server = uvicorn.Server(
            uvicorn.Config(self._app(), log_level="warning", lifespan="off", access_log=False)
        )
        self._thread = threading.Thread(target=self._run, daemon=True)

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._socket.getsockname()
        return f"http://{host}:{port}/"

    def start(self) -> FakeWeChatApi:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake WeChat API did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def reset(self) -> None:
        """Forget calls, scripts, tokens and media: a clean fake for the next test."""
        with self._lock:
            self._calls.clear()
            self._failures.clear()
            self._always.clear()
            self._valid_tokens.clear()
            self.token_fetches = 0
            self.media.clear()

    # -- scripting --------------------------------------------------------------------------
    def fail_next(self, path: str, errcode: int, times: int = 1) -> None:
        """The next `times` calls to `path` (e.g. "cgi-bin/message/custom/send") fail."""
        with self._lock:
            self._failures[path].extend([errcode] * times)

    def fail_always(self, path: str, errcode: int) -> None:
        with self._lock:
            self._always[path] = errcode

    def expire_tokens(self) -> None:
        """Every token issued so far is now expired (42001), as after two hours."""
        with self._lock:
            self._valid_tokens.clear()

    def calls(self, path: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if path is None or c.path == path]

    async def wait_for(self, path: str, count: int = 1) -> list[Call]:
        """Calls to `path` once there are `count` of them (deliveries in the background)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while len(self.calls(path)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} calls to {path}, got {self.calls(path)}")
            await asyncio.sleep(0.02)
        return self.calls(path)

    # -- the API ----------------------------------------------------------------------------
    def _app(self) -> Starlette:
        json_routes = {
            "cgi-bin/message/custom/send": lambda c: {},
            "cgi-bin/message/template/send": lambda c: {"msgid": next(self._serial)},
            "cgi-bin/menu/create": lambda c: {},
            "cgi-bin/media/upload": lambda c: {
                "type": "image",
                "media_id": f"UPLOADED-{next(self._serial)}",
            },
            "cgi-bin/qrcode/create": self._qrcode,
        }
        routes = [Route("/cgi-bin/token", self._token)]
        routes += [
            Route(f"/{path}", self._json_endpoint(path, answer), methods=["POST"])
            for path, answer in json_routes.items()
        ]
        routes += [
            Route("/cgi-bin/media/get", self._media_get),
            Route("/cgi-bin/showqrcode", self._showqrcode),
        ]
        return Starlette(routes=routes)

    async def _token(self, request: Request) -> Response:
        params = request.query_params
        if params.get("appid") != APP_ID or params.get("secret") != APP_SECRET:
            return _error(40013)
        with self._lock:
            self.token_fetches += 1
            token = f"TOKEN-{next(self._serial)}"
            self._valid_tokens.add(token)
        return JSONResponse({"access_token": token, "expires_in": 7200})

    def _json_endpoint(self, path: str, answer: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            call = await self._record(path, request)
            errcode = self._scripted(path, call)
            return _error(errcode) if errcode else JSONResponse(answer(call))

        return endpoint

    async def _media_get(self, request: Request) -> Response:
        call = await self._record("cgi-bin/media/get", request)
        errcode = self._scripted("cgi-bin/media/get", call)
        if errcode:
            return _error(errcode)
        data = self.media.get(call.params.get("media_id", ""))
        if data is None:
            return _error(40007)
        if call.params.get("media_id", "").startswith("CHUNKED"):
            return _chunked(data)
        return Response(data, media_type="image/jpeg")

    async def _showqrcode(self, request: Request) -> Response:
        await self._record("cgi-bin/showqrcode", request)
        return Response(png_bytes(), media_type="image/png")

    def _qrcode(self, call: Call) -> dict[str, Any]:
        scene = call.body["action_info"]["scene"]["scene_str"]
        return {"ticket": f"TICKET-{scene}", "url": f"http://weixin.qq.com/q/{scene}"}

    async def _record(self, path: str, request: Request) -> Call:
        raw = await request.body()
        body: dict[str, Any] = {}
        if request.headers.get("content-type", "").startswith("application/json"):
            body = json.loads(raw)
        call = Call(
            path=path,
            tokens=request.query_params.getlist("access_token"),
            params=dict(request.query_params),
            body=body,
        )
        with self._lock:
            self._calls.append(call)
        return call

    def _scripted(self, path: str, call: Call) -> int:
        """The error this call gets: a bad token first, then what the test scripted."""
        with self._lock:
            if path != "cgi-bin/showqrcode":
                if len(call.tokens) != 1:
                    return 40001
                if call.tokens[0] not in self._valid_tokens:
                    return 42001
            if self._failures[path]:
                return self._failures[path].popleft()
            return self._always.get(path, 0)


def _error(errcode: int) -> Response:
    return JSONResponse({"errcode": errcode, "errmsg": f"scripted error {errcode}"})


def _chunked(data: bytes) -> Response:
    """A body without Content-Length, so only the streaming limit can stop it."""

    async def chunks() -> Any:
        for start in range(0, len(data), 4096):
            yield data[start : start + 4096]

    return StreamingResponse(chunks(), media_type="image/jpeg")
