"""Fuzzed input (hypothesis): what strangers and staff files can send never crashes a parser.
Each parser either accepts or answers with its own error type — never anything else."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.wechat.protocol import CallbackCodec, CallbackQuery, Refused, to_incoming
from bot.config import load_rules
from bot.domain.ids import MAX_ID_DIGITS, parse_id
from bot.services.certificates import parse_cases
from bot.services.roster import parse_roster
from bot.settings import PROJECT_ROOT
from bot.testing.fake_wechat_server import TOKEN, message_xml, signature

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
STAMP = str(int(NOW.timestamp()))
RULES = load_rules(PROJECT_ROOT / "config").certificate
ROSTER_HEADER = "project,building,unit,owner_name,phone,id_last4,handover_date,area_m2\n"
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

csv_cells = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
csv_rows = st.lists(st.lists(csv_cells, min_size=0, max_size=10), max_size=8)


def _csv(header: str, rows: list[list[str]]) -> bytes:
    return (header + "\n".join(",".join(row) for row in rows)).encode("utf-8", "surrogatepass")


@FAST
@given(st.binary(max_size=2000))
def test_roster_parser_takes_any_bytes(data: bytes) -> None:
    parsed = parse_roster(data)
    assert parsed.rows or parsed.errors


@FAST
@given(csv_rows)
def test_roster_parser_takes_any_rows_under_its_header(rows: list[list[str]]) -> None:
    parsed = parse_roster(_csv(ROSTER_HEADER, rows))
    assert all(isinstance(error, str) for error in parsed.errors)


@FAST
@given(st.binary(max_size=2000))
def test_certificate_parser_takes_any_bytes(data: bytes) -> None:
    cases, errors = parse_cases(data, RULES)
    assert all(isinstance(error, str) for error in errors) and isinstance(cases, list)


@FAST
@given(st.text(max_size=40))
def test_ids_from_button_data_are_small_ascii_numbers_or_none(text: str) -> None:
    value = parse_id(text)
    if value is not None:
        assert text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS
        assert value == int(text)


fields = st.dictionaries(
    st.sampled_from(
        [
            "ToUserName",
            "FromUserName",
            "CreateTime",
            "MsgType",
            "Content",
            "MsgId",
            "Event",
            "EventKey",
            "MediaId",
            "bizmsgmenuid",
            "Encrypt",
        ]
    ),
    st.one_of(st.text(max_size=60), st.integers()),
)


@FAST
@given(fields)
def test_signed_plaintext_callbacks_are_accepted_or_refused(body: dict[str, object]) -> None:
    codec = CallbackCodec(token=TOKEN, app_id="wx0123456789abcdef", aes_key=None, clock=lambda: NOW)
    nonce = secrets.token_hex(4)
    query = CallbackQuery(signature=signature(TOKEN, STAMP, nonce), timestamp=STAMP, nonce=nonce)
    try:
        opened = codec.open(query, message_xml(body).encode("utf-8", "surrogatepass"))
        to_incoming(opened, NOW)
    except Refused as refused:
        assert refused.status in (400, 403)


@FAST
@given(st.binary(max_size=3000))
def test_any_body_is_accepted_or_refused(body: bytes) -> None:
    codec = CallbackCodec(token=TOKEN, app_id="wx0123456789abcdef", aes_key=None, clock=lambda: NOW)
    nonce = secrets.token_hex(4)
    query = CallbackQuery(signature=signature(TOKEN, STAMP, nonce), timestamp=STAMP, nonce=nonce)
    try:
        to_incoming(codec.open(query, body), NOW)
    except Refused as refused:
        assert refused.status in (400, 403)
