"""Reading one cell of a staff spreadsheet (roster, certificate cases): dates as Excel and the
CRM write them, yes/no in Chinese or English. Each parser returns the value or, for a cell the
operator must fix, a `CellError` whose message names the column and the value."""

from __future__ import annotations

from datetime import date, datetime

#: The ways a date arrives from Excel (ISO, slashes, dots).
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d")
YES = frozenset({"yes", "y", "true", "1", "是", "有"})
NO = frozenset({"no", "n", "false", "0", "否", "无"})


class CellError(ValueError):
    """A cell that cannot be read; the message is for the operator's report."""


def parse_date(value: str, column: str, example: str = "2026-06-30") -> date:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise CellError(f"{column} {value!r} is not a date like {example}")


def parse_yes_no(value: str, column: str) -> bool:
    if value.casefold() in YES | NO:
        return value.casefold() in YES
    raise CellError(f"{column} {value!r} must be yes or no")
