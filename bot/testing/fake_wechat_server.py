"""A fake WeChat server: posts callbacks to our app as WeChat does, and reads our answers.

Signatures and AES are written here from WeChat's protocol description (SHA-1 over the sorted
token, timestamp, nonce [, ciphertext]; AES-256-CBC with IV = key[:16] over random(16) +
length(4, big-endian) + XML + app id, PKCS#7 to 32 bytes), independently of wechatpy, so a bug
in how our adapter uses wechatpy cannot hide behind the same bug in the test.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import os
import secrets
import struct
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import uvicorn
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

TOKEN = "test-callback-token"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
ACCOUNT = "gh_0123456789ab"
_ids = itertools.count(10_000_000_001)


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def encrypt(plain: str, app_id: str, aes_key: str = AES_KEY) -> str:
    key = base64.b64decode(aes_key + "=")
    body = plain.encode()
    data = os.urandom(16) + struct.pack(">I", len(body)) + body + app_id.encode()
    pad = 32 - len(data) % 32
    data += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


def decrypt(cipher_text: str, aes_key: str = AES_KEY) -> tuple[str, str]:
    """(xml, app id) of a ciphertext."""
    key = base64.b64decode(aes_key + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    data = decryptor.update(base64.b64decode(cipher_text)) + decryptor.finalize()
    data = data[: -data[-1]]
    length = struct.unpack(">I", data[16:20])[0]
    return data[20 : 20 + length].decode(), data[20 + length :].decode()


def cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def message_xml(fields: dict[str, Any]) -> str:
    parts = [
        f"<{name}>{value}</{name}>"
        if isinstance(value, int)
        else f"<{name}>{cdata(value)}</{name}>"
        for name, value in fields.items()
    ]
    return "<xml>" + "".join(parts) + "</xml>"


@dataclass
class Answer:
    """Our app's HTTP answer, decrypted when it is a sealed passive reply."""

    status: int
    raw: str
    #: Fields of the passive reply, empty for `success` and refusals.
    fields: dict[str, str]
    encrypted: bool

    @property
    def is_success(self) -> bool:
        return self.status == 200 and self.raw == "success"

    @property
    def content(self) -> str:
        return self.fields.get("Content", "")


class WeChatServer:
    """Posts to `<base_url>/wechat` over real HTTP; `safe` selects AES mode."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        clock: Callable[[], datetime],
        *,
        app_id: str,
        safe: bool = True,
    ) -> None:
        self.client = client
        self.clock = clock
        self.app_id = app_id
        self.safe = safe

    # -- messages ---------------------------------------------------------------------------
    def text(self, openid: str, content: str, msg_id: int | None = None) -> dict[str, Any]:
        return self._message(openid, "text", Content=content, MsgId=msg_id or next(_ids))

    def image(self, openid: str, media_id: str, msg_id: int | None = None) -> dict[str, Any]:
        return self._message(
            openid,
            "image",
            PicUrl="http://mmbiz.qpic.cn/fake",
            MediaId=media_id,
            MsgId=msg_id or next(_ids),
        )

    def event(self, openid: str, event: str, key: str = "") -> dict[str, Any]:
        fields = self._message(openid, "event", Event=event)
        if key:
            fields["EventKey"] = key
        return fields

    def _message(self, openid: str, msg_type: str, **extra: Any) -> dict[str, Any]:
        return {
            "ToUserName": ACCOUNT,
            "FromUserName": openid,
            "CreateTime": int(self.clock().timestamp()),
            "MsgType": msg_type,
            **extra,
        }

    # -- HTTP -------------------------------------------------------------------------------
    async def verify(self, echostr: str = "echo-123", **override: str) -> httpx.Response:
        params = self.signed_params() | {"echostr": echostr} | override
        return await self.client.get("/wechat", params=params)

    async def send(self, fields: dict[str, Any]) -> Answer:
        return await self.post(message_xml(fields))

    async def post(self, plain_xml: str, *, app_id: str | None = None, **override: str) -> Answer:
        """Sign (and in safe mode encrypt for `app_id`) and post; `override` forges params."""
        params = self.signed_params()
        body = plain_xml
        if self.safe:
            encrypted = encrypt(plain_xml, app_id or self.app_id)
            params |= {
                "encrypt_type": "aes",
                "msg_signature": signature(TOKEN, params["timestamp"], params["nonce"], encrypted),
            }
            body = message_xml({"ToUserName": ACCOUNT, "Encrypt": encrypted})
        params |= override
        return await self.post_raw(body.encode(), params)

    async def post_raw(
        self, body: bytes, params: dict[str, str], headers: dict[str, str] | None = None
    ) -> Answer:
        response = await self.client.post(
            "/wechat", params=params, content=body, headers=headers or {}
        )
        return self.read(response)

    def signed_params(self, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(timestamp if timestamp is not None else int(self.clock().timestamp()))
        nonce = secrets.token_hex(5)
        return {
            "signature": signature(TOKEN, stamp, nonce),
            "timestamp": stamp,
            "nonce": nonce,
            "openid": "ignored-by-the-app",
        }

    def read(self, response: httpx.Response) -> Answer:
        return read_answer(response.status_code, response.text, self.app_id)


def read_answer(status: int, raw: str, app_id: str) -> Answer:
    """Our app's answer as WeChat reads it: a sealed passive reply is checked and decrypted."""
    if status != 200 or not raw.startswith("<xml>"):
        return Answer(status, raw, {}, encrypted=False)
    outer = _fields(raw)
    if "Encrypt" not in outer:
        return Answer(status, raw, outer, encrypted=False)
    expected = signature(TOKEN, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
    assert outer["MsgSignature"] == expected, "reply signature does not verify"
    inner, sealed_for = decrypt(outer["Encrypt"])
    assert sealed_for == app_id, "reply encrypted for another app id"
    return Answer(status, raw, _fields(inner), encrypted=True)


def _fields(xml: str) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ET.fromstring(xml)}


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Our app on a loopback port in this event loop, as WeChat would reach it; yields its URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
