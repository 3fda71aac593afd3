"""Roster CSV validation: every bad row is named with its line and reason."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.services.roster import parse_roster
from bot.settings import PROJECT_ROOT

HEADER = "project,building,unit,owner_name,phone,id_last4,handover_date,area_m2\n"


def test_the_sample_roster_is_valid() -> None:
    parsed = parse_roster((PROJECT_ROOT / "config" / "sample_roster.csv").read_bytes())
    assert parsed.errors == []
    assert len(parsed.rows) == 7
    assert parsed.rows[0].handover_date == date(2023, 6, 30)
    assert parsed.rows[0].area_m2 == Decimal("89.50")


def test_utf8_with_bom_and_gbk_from_excel_both_read() -> None:
    body = HEADER + "翠湖花园,1栋,101,张伟,13800000001,123x,2023/06/30,89.5\n"
    for data, encoding in [
        (("\ufeff" + body).encode("utf-8"), "utf-8"),
        (body.encode("gbk"), "gbk"),
    ]:
        parsed = parse_roster(data)
        assert parsed.errors == [], encoding
        assert parsed.encoding == encoding
        assert parsed.rows[0].project == "翠湖花园"
        assert parsed.rows[0].id_last4 == "123X"


def test_every_bad_row_is_reported_with_its_line() -> None:
    body = HEADER + (
        "翠湖花园,1栋,101,张伟,13800000001,1234,2023-06-30,89.5\n"
        "翠湖花园,1栋,102,,12345,12,2023-13-01,abc\n"
        "翠湖花园,1栋,101,张伟,13800000001,1234,2023-06-30,89.5\n"
        "翠湖花园,1栋,101,李四,13900000000,5678,2024-01-01,89.5\n"
    )
    errors = parse_roster(body.encode()).errors
    joined = "\n".join(errors)
    assert "line 3: owner_name is empty" in joined
    assert "line 3: phone '12345'" in joined
    assert "line 3: id_last4 '12'" in joined
    assert "line 3: handover_date '2023-13-01'" in joined
    assert "line 3: area_m2 'abc'" in joined
    assert "line 4: duplicate of line 2" in joined
    assert "line 5: unit 翠湖花园/1栋/101 has a different handover_date" in joined


def test_unknown_and_missing_columns_are_named() -> None:
    errors = parse_roster(b"project,building,unit,name,phone\nA,B,C,D,E\n").errors
    assert len(errors) == 1
    assert "unknown: name" in errors[0] and "missing: owner_name" in errors[0]


def test_corrupt_files_get_a_clear_error() -> None:
    assert "neither UTF-8 nor GBK" in parse_roster(b"\xff\xfe\x00\x81\xff" * 10).errors[0]
    assert "binary" in parse_roster(HEADER.encode() + b"a,b\x00c\n").errors[0]
    assert parse_roster(b"").errors == ["the file is empty"]
    assert parse_roster(HEADER.encode()).errors == ["the file has a header but no rows"]
    extra = HEADER + "A,B,C,D,13800000001,1234,,,EXTRA\n"
    assert "more values than columns" in parse_roster(extra.encode()).errors[0]
