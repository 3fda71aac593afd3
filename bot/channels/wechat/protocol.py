"""The 公众号 callback protocol: who may call us, what they said, and how we answer.

Everything here is pure (no I/O) so it can be tested against hostile input byte by byte.
wechatpy does the AES work and renders the reply XML; we add what it leaves to the caller:
constant-time signature checks, a timestamp window against replays, an XML parser that refuses
DTDs and entities (defusedxml), one exception type for every way a body can be malformed, and
CDATA escaping for texts that contain `]]>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException
from wechatpy.replies import TextReply

from bot.engine.types import VOICE, IncomingMessage, MessageKind

#: A 公众号 message is a few KB even encrypted; anything bigger is not from WeChat.
MAX_BODY_BYTES = 64 * 1024
#: Requests signed longer ago (or further ahead) than this are replays. wechatpy never checks.
MAX_CLOCK_SKEW_SECONDS = 300
#: Signed (timestamp, nonce) pairs remembered against replays; beyond this the oldest go.
MAX_REMEMBERED_SIGNATURES = 100_000
#: Longest `update_key` the inbox stores; longer event keys are hashed to fit.
MAX_UPDATE_KEY = 200

CHANNEL = "wechat"
SUCCESS = "success"

#: Events that are notifications to us, not something the owner said: acknowledged, not recorded.
_ROUTED_EVENTS = frozenset({"subscribe", "scan", "unsubscribe", "click"})
#: Characters XML 1.0 cannot carry at all; a reply containing one would be rejected by WeChat.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Refused(Exception):
    """A callback we do not accept. `status` is the HTTP answer; `reason` goes to one log line."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class CallbackQuery:
    """The query string WeChat signs (the body is covered only by `msg_signature`, safe mode)."""

    signature: str = ""
    timestamp: str = ""
    nonce: str = ""
    echostr: str = ""
    encrypt_type: str = ""
    msg_signature: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> CallbackQuery:
        names = ("signature", "timestamp", "nonce", "echostr", "encrypt_type", "msg_signature")
        return cls(**{name: params.get(name, "") for name in names})


def sign(*parts: str) -> str:
    """WeChat's signature: SHA-1 over the sorted, concatenated parts."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


class CallbackCodec:
    """Checks, opens and seals callbacks for one 公众号 (plaintext or safe mode)."""

    def __init__(
        self,
        *,
        token: str,
        app_id: str,
        aes_key: str | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._token = token
        self._app_id = app_id
        self._clock = clock
        self._key = _aes_key_bytes(aes_key) if aes_key else b""
        self._crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None
        #: (timestamp, nonce) → SHA-256 of the body first signed with them, in arrival order.
        self._seen: dict[tuple[str, str], str] = {}

    @property
    def plaintext(self) -> bool:
        return self._crypto is None

    def verify_url(self, query: CallbackQuery) -> str:
        """The 服务器配置 handshake: echo `echostr` back when the signature is ours."""
        self._check_signature(query)
        if not query.echostr:
            raise Refused(400, "verification without echostr")
        return query.echostr

    def open(self, query: CallbackQuery, body: bytes) -> dict[str, str]:
        """Verify and decrypt a pushed message; returns its top-level XML fields."""
        self._check_signature(query)
        self._check_replay(query, body)
        try:
            fields = parse_xml(body)
            if self._crypto is None:
                if query.encrypt_type == "aes":
                    raise Refused(403, "encrypted callback but WECHAT_AES_KEY is not set")
                return fields
            return parse_xml(self._decrypt(query, fields).encode("utf-8"))
        except Refused:
            raise
        except InvalidAppIdException:
            raise Refused(403, "ciphertext for another app id") from None
        except (
            ParseError,
            DefusedXmlException,
            binascii.Error,
            struct.error,
            UnicodeError,
            ValueError,
            KeyError,
            IndexError,
            TypeError,
        ) as exc:
            raise Refused(400, f"malformed body ({type(exc).__name__})") from None

    def seal(self, xml: str) -> str:
        """A passive reply as WeChat expects it: encrypted and signed in safe mode."""
        if self._crypto is None:
            return xml
        timestamp = str(int(self._clock().timestamp()))
        return str(self._crypto.encrypt_message(xml, secrets.token_hex(8), timestamp))

    def _check_signature(self, query: CallbackQuery) -> None:
        expected = sign(self._token, query.timestamp, query.nonce)
        if not hmac.compare_digest(expected.encode(), query.signature.encode()):
            raise Refused(403, "bad signature")
        self._check_timestamp(query.timestamp)

    def _check_replay(self, query: CallbackQuery, body: bytes) -> None:
        """In plaintext mode the signature covers (timestamp, nonce) only, not the body: a
        pair seen before may come again only with the same body (WeChat's own retry, which
        the inbox answers once), never with another (a forged FromUserName). Kept in this
        process for the timestamp window; entries older than it can no longer pass the
        timestamp check anyway."""
        pair, digest = (query.timestamp, query.nonce), hashlib.sha256(body).hexdigest()
        first = self._seen.setdefault(pair, digest)
        if first != digest:
            raise Refused(403, "replayed signature with another body")
        self._forget_expired()

    def _forget_expired(self) -> None:
        oldest = self._clock().timestamp() - MAX_CLOCK_SKEW_SECONDS * 2
        while self._seen:  # not over a copy of the keys: that cost every callback O(entries)
            pair = next(iter(self._seen))
            if int(pair[0]) >= oldest and len(self._seen) <= MAX_REMEMBERED_SIGNATURES:
                break  # arrival order: the rest is newer
            del self._seen[pair]

    def _check_timestamp(self, timestamp: str) -> None:
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            raise Refused(403, "bad timestamp")
        skew = abs(self._clock().timestamp() - int(timestamp))
        if skew > MAX_CLOCK_SKEW_SECONDS:
            raise Refused(403, f"stale timestamp ({int(skew)} s)")

    def _decrypt(self, query: CallbackQuery, fields: Mapping[str, str]) -> str:
        if query.encrypt_type != "aes" or "Encrypt" not in fields:
            raise Refused(403, "plaintext callback in safe mode")
        encrypted = fields["Encrypt"]
        expected = sign(self._token, query.timestamp, query.nonce, encrypted)
        if not hmac.compare_digest(expected.encode(), query.msg_signature.encode()):
            raise Refused(403, "bad msg_signature")
        return str(PrpCrypto(self._key).decrypt(encrypted, self._app_id))


def _aes_key_bytes(aes_key: str) -> bytes:
    """EncodingAESKey is 43 base64 characters of a 32-byte key; a typo must stop the start-up."""
    try:
        key = base64.b64decode(aes_key + "=", validate=True)
    except binascii.Error:
        key = b""
    if len(aes_key) != 43 or len(key) != 32:
        raise ValueError("WECHAT_AES_KEY must be the 43-character EncodingAESKey")
    return key


def parse_xml(body: bytes) -> dict[str, str]:
    """Top-level `<xml>` children as text. DTDs, entities and repeated fields are refused:
    WeChat never sends them, and a repeated field would let two parsers disagree."""
    root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    if root.tag != "xml":
        raise ValueError("root element is not <xml>")
    fields: dict[str, str] = {}
    for child in root:
        if child.tag in fields:
            raise ValueError(f"repeated field {child.tag}")
        fields[child.tag] = (child.text or "").strip()
    return fields


def to_incoming(fields: Mapping[str, str], received_at: datetime) -> IncomingMessage | None:
    """The neutral message for a callback, or None for notifications no flow listens to
    (menu links, location reports, template delivery receipts)."""
    user_id = _required(fields, "FromUserName")
    msg_type = _required(fields, "MsgType").lower()
    _timestamp(fields, "CreateTime")
    if msg_type == "event":
        return _event(fields, user_id, received_at)
    key = f"msg:{_required(fields, 'MsgId')}"
    message = partial(IncomingMessage, CHANNEL, user_id, key, received_at=received_at)
    if msg_type == "text":
        return message(MessageKind.TEXT, text=_typed(fields))
    if msg_type == "image":
        return message(MessageKind.PHOTO, media_ref=_required(fields, "MediaId"))
    if msg_type == "voice":
        # WeChat's own speech recognition, when the account has it switched on: the owner's
        # words go through understanding like typed text; without it we ask them to type.
        recognised = fields.get("Recognition", "").strip()
        if recognised:
            return message(MessageKind.TEXT, text=recognised)
        return message(MessageKind.UNSUPPORTED, payload=VOICE)
    # video, shortvideo, location, link, file …: the engine answers them politely.
    return message(MessageKind.UNSUPPORTED)


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name, "")
    if not value or len(value) > MAX_UPDATE_KEY:
        raise Refused(400, f"missing or oversized {name}")
    return value


def _timestamp(fields: Mapping[str, str], name: str) -> int:
    """Unix seconds as WeChat writes them: ASCII digits that fit a clock."""
    value = fields.get(name, "")
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        raise Refused(400, f"{name} is not a timestamp")
    return int(value)


def _typed(fields: Mapping[str, str]) -> str:
    """A 客服 `msgmenu` click arrives as text carrying `bizmsgmenuid`: our menus number their
    options, so the id is the number the owner could have typed, and the engine maps it back."""
    return fields.get("bizmsgmenuid") or fields.get("Content", "")


def _event(
    fields: Mapping[str, str], user_id: str, received_at: datetime
) -> IncomingMessage | None:
    """Events have no MsgId: FromUserName + CreateTime + Event + EventKey identify a retry
    (two different events can share a second)."""
    event = fields.get("Event", "").lower()
    if event not in _ROUTED_EVENTS:
        return None
    event_key = fields.get("EventKey", "")
    key = f"event:{user_id}:{_required(fields, 'CreateTime')}:{event}:{event_key}"
    if len(key) > MAX_UPDATE_KEY:
        key = "event:" + hashlib.sha256(key.encode()).hexdigest()
    message = partial(IncomingMessage, CHANNEL, user_id, key, received_at=received_at)
    if event == "click":
        return message(MessageKind.BUTTON, payload=event_key)
    code = event_key.removeprefix("qrscene_") if event == "subscribe" else event_key
    return message(MessageKind.EVENT, payload=event, text=code)


def passive_text(fields: Mapping[str, str], content: str, now: datetime) -> str:
    """The XML of a passive text reply to the message in `fields` (before sealing)."""
    reply = TextReply(
        source=cdata_safe(fields.get("ToUserName", "")),
        target=cdata_safe(fields.get("FromUserName", "")),
        content=cdata_safe(content),
        time=int(now.astimezone(UTC).timestamp()),
    )
    return str(reply.render())


def cdata_safe(text: str) -> str:
    """wechatpy puts text in CDATA verbatim: split `]]>` across two sections, drop characters
    XML cannot carry, so an owner's echoed text can neither break nor inject into the reply."""
    return _XML_INVALID.sub("", text).replace("]]>", "]]]]><![CDATA[>")
