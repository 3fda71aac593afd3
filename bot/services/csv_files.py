"""Opening the CSV files staff export from Excel or the CRM (roster, certificate cases).

UTF-8 (with or without BOM) first; Excel in a Chinese locale saves GBK, a subset of GB18030.
The header is checked once here, so every import names missing and unknown columns alike.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: What makes Excel, WPS or LibreOffice read a cell as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class CsvProblem(ValueError):
    """The file cannot be read as the expected table; the message is for the operator."""


@dataclass(frozen=True)
class CsvTable:
    reader: csv.DictReader[str]
    encoding: str


def decode_csv(data: bytes) -> tuple[str, str]:
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError as exc:
        raise CsvProblem(
            "the file is neither UTF-8 nor GBK; save it from Excel as 'CSV UTF-8'"
        ) from exc


def open_table(data: bytes, required: Sequence[str], optional: Sequence[str] = ()) -> CsvTable:
    text, encoding = decode_csv(data)
    if "\x00" in text:
        raise CsvProblem("the file contains binary data; is it really a CSV export?")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise CsvProblem("the file is empty")
    names = [name.strip() for name in reader.fieldnames]
    unknown = [name for name in names if name not in (*required, *optional)]
    missing = [name for name in required if name not in names]
    if unknown or missing:
        expected = ",".join(required) + (f" (optional: {','.join(optional)})" if optional else "")
        raise CsvProblem(
            f"line 1: columns must be {expected}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            + (f"; missing: {', '.join(missing)}" if missing else "")
        )
    return CsvTable(reader, encoding)


def spreadsheet_safe(value: str) -> str:
    """The cell as text a spreadsheet will not evaluate: a leading quote before a formula
    start, so a roster name like `=HYPERLINK(…)` stays a name when staff open our CSV."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def write_table(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[str]], *, encoding: str = "utf-8"
) -> None:
    """Every CSV we write goes through here, so no cell of it can be a formula."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([spreadsheet_safe(str(cell)) for cell in row] for row in rows)
