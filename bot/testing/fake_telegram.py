"""A fake Telegram Bot API on loopback, speaking the real wire format.

The real PTB `Bot` and our adapter talk to it over HTTP exactly as they would to
api.telegram.org: POST /bot<token>/<method> with JSON, url-encoded or multipart bodies, and
GET /file/bot<token>/<path> for downloads. Tests enqueue updates, script failures (429 with
`retry_after`, 403 for a blocked user, 5xx, requests held past the client's timeout, slow
methods) and assert on the recorded calls.

It runs in a thread of its own with its own event loop, so it serves a bot in any loop or
thread (tests, the benchmark's PTB `run_polling`), and it is shared by the benchmark
(`bot/bench/telegram.py`), which is why its public methods are thread-safe.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import email.parser
import email.policy
import itertools
import json
import math
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

TOKEN = "123456:TEST-token"
BOT_ID = 123456
BOT_USERNAME = "OwnerServiceBot"
_incoming_message_ids = itertools.count(1)
#: Form fields PTB encodes as JSON strings inside url-encoded and multipart bodies.
JSON_FIELDS = {
    "reply_markup",
    "allowed_updates",
    "commands",
    "scope",
    "entities",
    "caption_entities",
}
INT_FIELDS = {
    "chat_id",
    "message_id",
    "offset",
    "limit",
    "timeout",
    "user_id",
    "message_thread_id",
}
T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """One Bot API request as the fake received it."""

    method: str
    params: dict[str, Any]
    at: float
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Failure:
    """A scripted error answer; `chat_id` limits it to requests for one chat. `hold` keeps
    the request that many seconds before answering, without acting on it: a gateway that
    times out in front of Telegram (504), or, held beyond the client's timeout, a request
    lost on the way — the client cannot tell it from one that arrived."""

    status: int
    description: str
    retry_after: int | None = None
    chat_id: int | None = None
    hold: float = 0.0


#: Methods that send a message, which Telegram's limits count.
SENDING = ("sendMessage", "sendPhoto")


@dataclass
class Limits:
    """Telegram's limits as Telegram enforces them: at most `overall` messages in any
    `window` seconds bot-wide (a strict sliding window), and per chat about one a second with
    a short burst (a bucket of `per_chat_burst` refilled `per_chat_rate` a second); excess is
    answered 429 with `retry_after` in whole seconds, and is not counted."""

    overall: int = 30
    window: float = 1.0
    per_chat_rate: float = 1.0
    per_chat_burst: int = 3
    #: Arrival times of accepted messages, sorted (requests are checked slightly out of order).
    accepted: list[float] = field(default_factory=list)
    chats: dict[int, tuple[float, float]] = field(default_factory=dict)
    #: 429s answered, for the benchmark's report.
    refused: int = 0

    def check(self, chat_id: int, now: float) -> int | None:
        """None when the message may go; else the retry_after to answer with."""
        del self.accepted[: bisect.bisect_right(self.accepted, now - 2 * self.window)]
        start = bisect.bisect_right(self.accepted, now - self.window)
        in_window = bisect.bisect_right(self.accepted, now) - start
        if in_window >= self.overall:
            self.refused += 1
            return max(1, math.ceil(self.accepted[start] + self.window - now))
        tokens, at = self.chats.get(chat_id, (float(self.per_chat_burst), now))
        tokens = min(float(self.per_chat_burst), tokens + (now - at) * self.per_chat_rate)
        if tokens < 1.0:
            self.refused += 1
            return max(1, math.ceil((1.0 - tokens) / self.per_chat_rate))
        self.chats[chat_id] = (tokens - 1.0, now)
        bisect.insort(self.accepted, now)
        return None


class FakeTelegram:
    def __init__(self, token: str = TOKEN, *, enforce_limits: bool = False) -> None:
        """`enforce_limits` answers excess sends with 429 as Telegram does (see `Limits`)."""
        self.token = token
        self.limits: Limits | None = Limits() if enforce_limits else None
        self.calls: list[Call] = []
        self.blocked: set[int] = set()
        self.delays: dict[str, float] = {}
        self.webhook_url = ""
        self.acknowledged_below = 0
        self._closing = False
        self.pushed_at: dict[int, float] = {}
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._updates: list[dict[str, Any]] = []
        self._history: dict[int, dict[str, Any]] = {}
        self._update_ids = itertools.count(1)
        self._lock = threading.Lock()
        self._message_ids = itertools.count(1)
        self._files: dict[str, tuple[str, bytes]] = {}
        self._declared_sizes: dict[str, int] = {}
        self._sent_per_chat: dict[int, int] = defaultdict(int)
        #: (time.monotonic(), chat_id) of every message accepted, for the push benchmark.
        self.sent_log: list[tuple[float, int]] = []
        #: Forum supergroups: chat id → {thread id: topic name} (createForumTopic).
        self.topics: dict[int, dict[int, str]] = defaultdict(dict)
        #: chat id → {user id: status} for getChatMember; anyone else has "left".
        self.members: dict[int, dict[int, str]] = defaultdict(dict)
        self._loop = asyncio.new_event_loop()
        self._changed = asyncio.Condition()
        # As a real server does: small answers are not held back by Nagle's algorithm. The
        # explicit IPPROTO_TCP makes asyncio set TCP_NODELAY on every accepted connection too.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind(("127.0.0.1", 0))
        self._server = uvicorn.Server(
            uvicorn.Config(
                self._app(),
                log_level="warning",
                lifespan="off",
                loop="asyncio",
                # Long polls still open at the end must not hold the test up.
                timeout_graceful_shutdown=1,
            )
        )
        self._thread = threading.Thread(target=self._serve, name="fake-telegram", daemon=True)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._socket.getsockname()
        return f"http://{host}:{port}"

    def start(self) -> FakeTelegram:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake Telegram server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Answer open long polls and delayed calls at once, then shut down."""
        self._closing = True
        self._loop.call_soon_threadsafe(self._loop.create_task, self._notify())
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._server.serve(sockets=[self._socket]))
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        """Run a coroutine in the fake's own loop (the benchmark's load driver lives there)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    # -- what tests script -----------------------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; returns its update_id (given here, as Telegram does)."""
        with self._lock:
            update_id = next(self._update_ids)
            self._history[update_id] = {"update_id": update_id, **update}
            self._updates.append(self._history[update_id])
            self.pushed_at[update_id] = time.monotonic()
        self._loop.call_soon_threadsafe(self._loop.create_task, self._notify())
        return update_id

    def replay(self, update_id: int) -> None:
        """Deliver an update again, as Telegram does when its offset was never confirmed
        (a poller that died after fetching, two pollers overlapping)."""
        with self._lock:
            update = self._history[update_id]
            self._updates.append(update)
            self._updates.sort(key=lambda queued: queued["update_id"])
            self.acknowledged_below = min(self.acknowledged_below, update_id)
        self._loop.call_soon_threadsafe(self._loop.create_task, self._notify())

    def fail(self, method: str, failure: Failure, times: int = 1) -> None:
        for _ in range(times):
            self._failures[method].append(failure)

    def add_file(self, content: bytes, *, declared_size: int | None = None) -> str:
        """A file owners sent; `declared_size` makes getFile claim another size (a liar)."""
        file_id = f"file-{len(self._files) + 1}"
        self._files[file_id] = (f"photos/{file_id}.jpg", content)
        if declared_size is not None:
            self._declared_sizes[file_id] = declared_size
        return file_id

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in list(self.calls) if call.method == method]

    def sent_to(self, chat_id: int) -> list[Call]:
        """Messages and photos the bot sent to one chat, in order."""
        return [
            call
            for call in list(self.calls)
            if call.method in ("sendMessage", "sendPhoto") and call.params.get("chat_id") == chat_id
        ]

    def in_topic(self, chat_id: int, thread_id: int | None) -> list[Call]:
        """Messages and photos the bot sent into one forum topic (None: the General topic)."""
        return [
            call
            for call in self.sent_to(chat_id)
            if call.params.get("message_thread_id") == thread_id
        ]

    def pending_update_ids(self) -> list[int]:
        return [update["update_id"] for update in list(self._updates)]

    async def wait_until(self, condition: Callable[[], bool], within: float = 10.0) -> None:
        """Wait (in the caller's loop) until `condition` holds; fails the test after `within` s."""
        deadline = time.monotonic() + within
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time; calls: " + self.summary())
            await asyncio.sleep(0.01)

    def summary(self) -> str:
        return ", ".join(call.method for call in list(self.calls)[-30:])

    def sent_count(self, chat_id: int) -> int:
        return self._sent_per_chat[chat_id]

    async def wait_polled(self) -> None:
        """In the fake's loop: until a bot has called getUpdates (it is up and polling)."""
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self.calls_to("getUpdates")))

    async def wait_sent(self, chat_id: int, count: int) -> None:
        """In the fake's loop: until `count` messages went to one chat (benchmark driver)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._sent_per_chat[chat_id] >= count)

    async def _wait(self, condition: Callable[[], bool], seconds: float) -> None:
        """Until `condition` holds or `seconds` pass, whichever comes first."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(condition), timeout=seconds)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- HTTP ------------------------------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/bot{token}/{method}", self._method, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
            ]
        )

    async def _method(self, request: Request) -> Response:
        arrived = time.monotonic()  # as early as we can tell: what Telegram's limits count
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.path_params["method"]
        params, files = await _parse_body(request)
        self.calls.append(Call(method, params, arrived, files))
        if method in self.delays:
            await self._wait(lambda: self._closing, self.delays[method])
        failure = self._scripted_failure(method, params) or self._over_limit(
            method, params, arrived
        )
        if failure is not None:
            if failure.hold:
                await self._wait(lambda: self._closing, failure.hold)
            return _error(failure.status, failure.description, failure.retry_after)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        result = await handler(params)
        if isinstance(result, Response):
            return result
        return JSONResponse({"ok": True, "result": result})

    def _scripted_failure(self, method: str, params: dict[str, Any]) -> Failure | None:
        chat_id = params.get("chat_id")
        if method in ("sendMessage", "sendPhoto") and chat_id in self.blocked:
            return Failure(403, "Forbidden: bot was blocked by the user")
        queue = self._failures.get(method)
        if not queue or queue[0].chat_id not in (None, chat_id):
            return None
        return queue.popleft()

    def _over_limit(self, method: str, params: dict[str, Any], arrived: float) -> Failure | None:
        if self.limits is None or method not in SENDING:
            return None
        with self._lock:
            retry_after = self.limits.check(int(params["chat_id"]), arrived)
        if retry_after is None:
            return None
        return Failure(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    async def _download(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        path = request.path_params["path"]
        self.calls.append(Call("download", {"path": path}, time.monotonic()))
        for file_id, (stored_path, content) in self._files.items():
            if stored_path != path:
                continue
            if file_id in self._declared_sizes:
                # A liar does not say its length up front either: chunked, without Content-Length.
                chunks = (content[i : i + 65536] for i in range(0, len(content), 65536))
                return StreamingResponse(_async_iter(chunks), media_type="image/jpeg")
            return Response(content, media_type="image/jpeg")
        return Response(status_code=404)

    # -- Bot API methods -------------------------------------------------------------------

    async def _api_getMe(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Owner Service",
            "username": BOT_USERNAME,
        }

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook_url:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        if offset:
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                #: Telegram forgets every update below the offset once it is asked for.
                self.acknowledged_below = max(self.acknowledged_below, offset)
        limit = int(params.get("limit") or 100)
        await self._notify()  # a bot is polling: the benchmark's driver waits for this
        await self._wait(
            lambda: bool(self._updates) or self._closing, float(params.get("timeout") or 0)
        )
        return self._updates[:limit]

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        return await self._sent(params, {"text": params.get("text", "")})

    async def _api_sendPhoto(self, params: dict[str, Any]) -> Any:
        size = {"file_id": "sent-photo", "file_unique_id": "sent", "width": 1, "height": 1}
        fields: dict[str, Any] = {"photo": [size]}
        if params.get("caption"):
            fields["caption"] = params["caption"]
        return await self._sent(params, fields)

    async def _sent(self, params: dict[str, Any], fields: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        self._sent_per_chat[chat_id] += 1
        self.sent_log.append((time.monotonic(), chat_id))
        await self._notify()
        message = _message(next(self._message_ids), chat_id, fields, from_bot=True)
        thread_id = params.get("message_thread_id")
        if thread_id is not None:
            if thread_id not in self.topics.get(chat_id, {}):
                return _error(400, "Bad Request: message thread not found")
            message.update(message_thread_id=thread_id, is_topic_message=True)
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # Telegram echoes only inline keyboards
        return message

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        return _message(int(params["message_id"]), int(params["chat_id"]), {}, from_bot=True)

    async def _api_answerCallbackQuery(self, _params: dict[str, Any]) -> bool:
        return True

    async def _api_setMyCommands(self, _params: dict[str, Any]) -> bool:
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = str(params.get("url", ""))
        return True

    async def _api_deleteWebhook(self, _params: dict[str, Any]) -> bool:
        self.webhook_url = ""
        return True

    async def _api_createForumTopic(self, params: dict[str, Any]) -> Any:
        """As Telegram: only in supergroups (negative ids), names of 1-128 characters."""
        chat_id, name = int(params["chat_id"]), str(params.get("name", ""))
        if chat_id >= 0:
            return _error(400, "Bad Request: the chat is not a forum")
        if not 1 <= len(name) <= 128:
            return _error(400, "Bad Request: TOPIC_NAME_INVALID")
        thread_id = next(self._message_ids)  # a topic is the id of its creation message
        self.topics[chat_id][thread_id] = name
        return {"message_thread_id": thread_id, "name": name, "icon_color": 7322096}

    async def _api_getChatMember(self, params: dict[str, Any]) -> Any:
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        status = self.members[chat_id].get(user_id, "left")
        member: dict[str, Any] = {"status": status, "user": user(user_id)}
        return {**member, **_MEMBER_FIELDS.get(status, {})}

    async def _api_getFile(self, params: dict[str, Any]) -> Any:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            return _error(400, "Bad Request: wrong file_id or the file is temporarily unavailable")
        path, content = stored
        file_id = str(params["file_id"])
        size = self._declared_sizes.get(file_id, len(content))
        return {"file_id": file_id, "file_unique_id": file_id, "file_size": size, "file_path": path}


#: What Telegram's ChatMember objects carry beside status and user, per status.
_ADMIN_RIGHTS = dict.fromkeys(
    [
        "can_be_edited",
        "can_manage_chat",
        "can_delete_messages",
        "can_manage_video_chats",
        "can_restrict_members",
        "can_promote_members",
        "can_change_info",
        "can_invite_users",
        "can_post_stories",
        "can_edit_stories",
        "can_delete_stories",
        "can_manage_topics",
    ],
    True,
)
_MEMBER_RIGHTS = dict.fromkeys(
    [
        "can_send_messages",
        "can_send_audios",
        "can_send_documents",
        "can_send_photos",
        "can_send_videos",
        "can_send_video_notes",
        "can_send_voice_notes",
        "can_send_polls",
        "can_send_other_messages",
        "can_add_web_page_previews",
        "can_change_info",
        "can_invite_users",
        "can_pin_messages",
        "can_manage_topics",
    ],
    True,
)
_MEMBER_FIELDS: dict[str, dict[str, Any]] = {
    "creator": {"is_anonymous": False},
    "administrator": {"is_anonymous": False, **_ADMIN_RIGHTS},
    "restricted": {"is_member": True, "until_date": 0, **_MEMBER_RIGHTS},
    "kicked": {"until_date": 0},
}


# -- updates as Telegram shapes them ---------------------------------------------------------


def user(user_id: int, language: str = "zh-hans", name: str = "业主") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": name, "language_code": language}


def _chat(chat_id: int, chat_type: str = "private") -> dict[str, Any]:
    if chat_id < 0:
        return {"id": chat_id, "type": "supergroup", "title": "员工群", "is_forum": True}
    return {"id": chat_id, "type": chat_type, "first_name": "业主"}


def _message(
    message_id: int, chat_id: int, fields: dict[str, Any], *, from_bot: bool = False, **extra: Any
) -> dict[str, Any]:
    sender = {"id": BOT_ID, "is_bot": True, "first_name": "Owner Service"} if from_bot else None
    message = {"message_id": message_id, "date": int(time.time()), "chat": _chat(chat_id)}
    if sender is not None:
        message["from"] = sender
    return {**message, **fields, **extra}


def text_update(user_id: int, text: str, **user_fields: Any) -> dict[str, Any]:
    fields = {"text": text, "from": user(user_id, **user_fields)}
    message = _message(next(_incoming_message_ids), user_id, fields)
    if text.startswith("/"):
        command = text.split(" ", 1)[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"message": message}


def photo_update(user_id: int, file_id: str, caption: str = "") -> dict[str, Any]:
    sizes = [
        {"file_id": f"{file_id}-small", "file_unique_id": "s", "width": 90, "height": 90},
        {"file_id": file_id, "file_unique_id": "l", "width": 1280, "height": 960},
    ]
    fields: dict[str, Any] = {"photo": sizes, "from": user(user_id)}
    if caption:
        fields["caption"] = caption
    return {"message": _message(next(_incoming_message_ids), user_id, fields)}


def contact_update(user_id: int, phone: str, contact_user_id: int | None) -> dict[str, Any]:
    contact: dict[str, Any] = {"phone_number": phone, "first_name": "业主"}
    if contact_user_id is not None:
        contact["user_id"] = contact_user_id
    return {
        "message": _message(
            next(_incoming_message_ids), user_id, {"contact": contact, "from": user(user_id)}
        )
    }


def callback_update(user_id: int, data: str, message_id: int = 77) -> dict[str, Any]:
    pressed = _message(message_id, user_id, {"text": "…"}, from_bot=True)
    return {
        "callback_query": {
            "id": f"cb-{user_id}-{message_id}",
            "from": user(user_id),
            "chat_instance": "1",
            "message": pressed,
            "data": data,
        }
    }


def group_text_update(user_id: int, text: str) -> dict[str, Any]:
    message = _message(1, -100, {"text": text, "from": user(user_id)})
    message["chat"] = _chat(-100, "supergroup")
    return {"message": message}


def topic_update(
    chat_id: int,
    user_id: int,
    text: str = "",
    thread_id: int | None = None,
    *,
    photo_file_id: str | None = None,
    name: str = "客服",
) -> dict[str, Any]:
    """A message in a forum supergroup: in a topic (`thread_id`), else in General."""
    fields: dict[str, Any] = {"from": user(user_id, name=name)}
    if photo_file_id is not None:
        fields["photo"] = [
            {"file_id": photo_file_id, "file_unique_id": "p", "width": 800, "height": 600}
        ]
        if text:
            fields["caption"] = text
    else:
        fields["text"] = text
    if thread_id is not None:
        fields.update(message_thread_id=thread_id, is_topic_message=True)
    message = _message(next(_incoming_message_ids), chat_id, fields)
    if text.startswith("/") and photo_file_id is None:
        command = text.split(" ", 1)[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"message": message}


# -- request bodies --------------------------------------------------------------------------


async def _parse_body(request: Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    files: dict[str, bytes] = {}
    if content_type.startswith("application/json"):
        raw: dict[str, Any] = json.loads(body or b"{}")
    elif content_type.startswith("multipart/form-data"):
        raw, files = _multipart(content_type, body)
    else:
        raw = dict(parse_qsl(body.decode(), keep_blank_values=True))
        raw.update(request.query_params)
    return {key: _decode(key, value) for key, value in raw.items()}, files


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    for part in parsed.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        if part.get_filename() is not None:
            files[name] = content
        else:
            fields[name] = content.decode()
    return fields, files


def _decode(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in JSON_FIELDS:
        return json.loads(value)
    if key in INT_FIELDS and value.lstrip("-").isdigit():
        return int(value)
    return value


async def _async_iter(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def _error(status: int, description: str, retry_after: int | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return JSONResponse(body, status_code=status)
