"""A plain wechatpy + SQLite callback handler, written the way wechatpy's examples write one.

It is the baseline `python -m bot bench wechat` measures our channel against, on the same load
in the same run; it lives with the channel because this is the one other place that speaks
wechatpy. It does what any handler must: check the signature, decrypt, store the message once
(by MsgId, in SQLite with our pragmas) and answer with an encrypted passive text. It has no
flows, no conversation state, no outbox and no deadline: the cost of those is what the
comparison shows.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

REPLY = "收到：{}"


def plain_app(token: str, aes_key: str, app_id: str, database: Path) -> FastAPI:
    crypto = WeChatCrypto(token, aes_key, app_id)
    db = sqlite3.connect(database)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE IF NOT EXISTS messages (msg_id TEXT PRIMARY KEY, openid TEXT, "
        "content TEXT, received_at INTEGER)"
    )
    app = FastAPI()

    @app.post("/wechat")
    async def callback(request: Request) -> Response:
        query = request.query_params
        try:
            check_signature(token, query["signature"], query["timestamp"], query["nonce"])
            xml = crypto.decrypt_message(
                await request.body(), query["msg_signature"], query["timestamp"], query["nonce"]
            )
        except (InvalidSignatureException, KeyError):
            return PlainTextResponse("forbidden", status_code=403)
        msg = parse_message(xml)
        content = getattr(msg, "content", "")
        inserted = db.execute(
            "INSERT OR IGNORE INTO messages VALUES (?, ?, ?, ?)",
            (str(msg.id), msg.source, content, msg.create_time.timestamp()),
        ).rowcount
        db.commit()
        if not inserted:
            return PlainTextResponse("success")
        reply = TextReply(content=REPLY.format(content), message=msg).render()
        return Response(
            crypto.encrypt_message(reply, query["nonce"], query["timestamp"]),
            media_type="application/xml",
        )

    return app


def serve_plain(token: str, aes_key: str, app_id: str, database: Path, port: int) -> None:
    """Blocks serving on 127.0.0.1:`port` until the process is stopped."""
    app = plain_app(token, aes_key, app_id, database)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
