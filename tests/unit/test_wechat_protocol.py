"""The callback protocol against WeChat's own wire format and against hostile input."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime

import pytest

from bot.channels.wechat.protocol import (
    CallbackCodec,
    CallbackQuery,
    Refused,
    cdata_safe,
    parse_xml,
    passive_text,
    to_incoming,
)
from bot.engine.types import MessageKind
from bot.testing.fake_wechat_server import (
    AES_KEY,
    TOKEN,
    decrypt,
    encrypt,
    message_xml,
    signature,
)

APP_ID = "wx0123456789abcdef"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
STAMP = str(int(NOW.timestamp()))


def codec(aes_key: str | None = AES_KEY) -> CallbackCodec:
    return CallbackCodec(token=TOKEN, app_id=APP_ID, aes_key=aes_key, clock=lambda: NOW)


def query(stamp: str = STAMP, nonce: str = "n1", **extra: str) -> CallbackQuery:
    return CallbackQuery(
        signature=signature(TOKEN, stamp, nonce), timestamp=stamp, nonce=nonce, **extra
    )


def sealed(xml: str, app_id: str = APP_ID) -> tuple[CallbackQuery, bytes]:
    encrypted = encrypt(xml, app_id)
    q = query(encrypt_type="aes", msg_signature=signature(TOKEN, STAMP, "n1", encrypted))
    return q, message_xml({"ToUserName": "gh_x", "Encrypt": encrypted}).encode()


TEXT = message_xml(
    {
        "ToUserName": "gh_x",
        "FromUserName": "openid-1",
        "CreateTime": 1,
        "MsgType": "text",
        "Content": "你好",
        "MsgId": 42,
    }
)


def test_url_verification_echoes_only_for_a_valid_signature() -> None:
    assert codec().verify_url(query(echostr="abc")) == "abc"
    with pytest.raises(Refused) as refused:
        codec().verify_url(CallbackQuery("0" * 40, STAMP, "n1", "abc"))
    assert refused.value.status == 403


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_timestamp_outside_five_minutes_is_a_replay(offset: int) -> None:
    with pytest.raises(Refused, match="stale"):
        codec(None).open(query(str(int(NOW.timestamp()) + offset)), TEXT.encode())


@pytest.mark.parametrize("stamp", ["", "abc", "１２３", "9" * 20, "-5"])
def test_a_timestamp_that_is_no_number_is_refused(stamp: str) -> None:
    with pytest.raises(Refused):
        codec(None).open(query(stamp), TEXT.encode())


def test_plaintext_mode_opens_a_signed_message() -> None:
    assert codec(None).open(query(), TEXT.encode())["Content"] == "你好"


def test_safe_mode_decrypts_wechat_ciphertext() -> None:
    assert codec().open(*sealed(TEXT))["Content"] == "你好"


def test_safe_mode_refuses_plaintext_a_bad_msg_signature_and_another_app() -> None:
    for q, body in (
        (query(), TEXT.encode()),
        (query(encrypt_type="aes", msg_signature="0" * 40), sealed(TEXT)[1]),
        sealed(TEXT, app_id="wxanother"),
    ):
        with pytest.raises(Refused) as refused:
            codec().open(q, body)
        assert refused.value.status == 403


def test_a_non_ascii_signature_is_refused_not_crashed() -> None:
    with pytest.raises(Refused):
        codec().open(CallbackQuery("签名", STAMP, "n1"), TEXT.encode())


@pytest.mark.parametrize(
    "encrypted",
    [
        "not base64!!",
        base64.b64encode(b"short").decode(),
        base64.b64encode(b"x" * 32).decode(),
        base64.b64encode(bytes(48)).decode(),
        "",
    ],
)
def test_broken_ciphertext_is_a_clean_refusal(encrypted: str) -> None:
    q = query(encrypt_type="aes", msg_signature=signature(TOKEN, STAMP, "n1", encrypted))
    body = message_xml({"Encrypt": encrypted}).encode()
    with pytest.raises(Refused) as refused:
        codec().open(q, body)
    assert refused.value.status in (400, 403)


def test_random_bytes_never_escape_as_anything_but_refused() -> None:
    rng = random.Random(7)
    for _ in range(300):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        for c in (codec(None), codec()):
            try:
                c.open(query(encrypt_type="aes"), body)
            except Refused:
                continue


@pytest.mark.parametrize(
    "body",
    [
        '<!DOCTYPE xml [<!ENTITY a "x">]><xml><A>&a;</A></xml>',
        '<!DOCTYPE xml SYSTEM "http://evil/x.dtd"><xml/>',
        "<xml><A>1</A><A>2</A></xml>",
        "<root><A>1</A></root>",
        "<xml><A>",
    ],
)
def test_dtds_entities_repeats_and_foreign_roots_are_refused(body: str) -> None:
    with pytest.raises(Exception):  # noqa: B017 - any parser error; open() maps them all
        parse_xml(body.encode())
    with pytest.raises(Refused) as refused:
        codec(None).open(query(), body.encode())
    assert refused.value.status == 400


def test_an_encrypted_entity_bomb_is_refused_after_decryption() -> None:
    bomb = '<!DOCTYPE xml [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><xml><A>&b;</A></xml>'
    with pytest.raises(Refused) as refused:
        codec().open(*sealed(bomb))
    assert refused.value.status == 400


def test_events_map_to_neutral_messages() -> None:
    def event(name: str, key: str = "") -> dict[str, str]:
        return {
            "FromUserName": "u",
            "CreateTime": "9",
            "MsgType": "event",
            "Event": name,
            "EventKey": key,
        }

    subscribe = to_incoming(event("subscribe", "qrscene_ABCD2345"), NOW)
    assert subscribe is not None
    assert (subscribe.kind, subscribe.payload, subscribe.text) == (
        MessageKind.EVENT,
        "subscribe",
        "ABCD2345",
    )
    scan = to_incoming(event("SCAN", "ABCD2345"), NOW)
    assert scan is not None and (scan.payload, scan.text) == ("scan", "ABCD2345")
    click = to_incoming(event("CLICK", "flow:repair"), NOW)
    assert click is not None and (click.kind, click.payload) == (MessageKind.BUTTON, "flow:repair")
    assert to_incoming(event("VIEW", "https://x"), NOW) is None
    assert subscribe.update_key == "event:u:9:subscribe:qrscene_ABCD2345"


def test_two_events_in_one_second_have_different_keys() -> None:
    base = {"FromUserName": "u", "CreateTime": "9", "MsgType": "event"}
    first = to_incoming(base | {"Event": "subscribe"}, NOW)
    second = to_incoming(base | {"Event": "CLICK", "EventKey": "flow:menu"}, NOW)
    assert first is not None and second is not None
    assert first.update_key != second.update_key


def test_messages_map_to_neutral_messages() -> None:
    base = {"FromUserName": "u", "CreateTime": "9", "MsgId": "77"}
    text = to_incoming(base | {"MsgType": "text", "Content": "报修"}, NOW)
    assert text is not None and (text.kind, text.text, text.update_key) == (
        MessageKind.TEXT,
        "报修",
        "msg:77",
    )
    image = to_incoming(base | {"MsgType": "image", "MediaId": "M1", "PicUrl": "http://x"}, NOW)
    assert image is not None and (image.kind, image.media_ref) == (MessageKind.PHOTO, "M1")
    for kind in ("voice", "video", "shortvideo", "location", "link", "file"):
        other = to_incoming(base | {"MsgType": kind}, NOW)
        assert other is not None and other.kind is MessageKind.UNSUPPORTED


def test_a_msgmenu_click_becomes_the_number_it_stands_for() -> None:
    fields = {
        "FromUserName": "u",
        "CreateTime": "1795399200",  # WeChat sends it with every message
        "MsgId": "1",
        "MsgType": "text",
        "Content": "报修",
        "bizmsgmenuid": "2",
    }
    msg = to_incoming(fields, NOW)
    assert msg is not None and msg.text == "2"


def test_a_message_without_sender_or_id_is_refused() -> None:
    for fields in ({"MsgType": "text", "MsgId": "1"}, {"FromUserName": "u", "MsgType": "text"}):
        with pytest.raises(Refused):
            to_incoming(fields, NOW)


def test_reply_text_cannot_break_out_of_cdata() -> None:
    hostile = "a]]><MsgType>image</MsgType>\x00b"
    xml = passive_text({"ToUserName": "gh_x", "FromUserName": "u"}, hostile, NOW)
    fields = parse_xml(xml.encode())
    assert fields["Content"] == "a]]><MsgType>image</MsgType>b"
    assert fields["MsgType"] == "text"
    assert cdata_safe("]]>") == "]]]]><![CDATA[>"


def test_a_sealed_reply_decrypts_for_our_app_id() -> None:
    xml = passive_text({"ToUserName": "gh_x", "FromUserName": "u"}, "好的", NOW)
    outer = parse_xml(codec().seal(xml).encode())
    assert outer["MsgSignature"] == signature(
        TOKEN, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"]
    )
    inner, app_id = decrypt(outer["Encrypt"])
    assert app_id == APP_ID
    assert parse_xml(inner.encode())["Content"] == "好的"


def test_plaintext_mode_leaves_the_reply_as_is() -> None:
    assert codec(None).seal("<xml/>") == "<xml/>"


def test_a_mistyped_aes_key_stops_the_start() -> None:
    with pytest.raises(ValueError, match="WECHAT_AES_KEY"):
        codec(AES_KEY[:-1])


def test_voice_with_wechat_recognition_is_text_and_without_it_asks_to_type() -> None:
    base = {"FromUserName": "u", "CreateTime": "9", "MsgId": "78", "MsgType": "voice"}
    spoken = to_incoming(base | {"MediaId": "V1", "Recognition": "厨房水管漏水了。"}, NOW)
    assert spoken is not None and (spoken.kind, spoken.text) == (
        MessageKind.TEXT,
        "厨房水管漏水了。",
    )
    silent = to_incoming(base | {"MediaId": "V1", "Recognition": ""}, NOW)
    assert silent is not None and (silent.kind, silent.payload) == (
        MessageKind.UNSUPPORTED,
        "voice",
    )
