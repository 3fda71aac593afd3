"""Numbers read from what owners and platforms send (button data, numbered answers).

`str.isdigit()` accepts "²" and "٣", which `int()` then refuses, and a button can carry more
digits than a database id holds (PostgreSQL refuses a parameter beyond 64 bits): such input is
simply not an id, and the step answers as it would to any other wrong button.
"""

from __future__ import annotations

#: The largest id a BIGINT column holds; longer numbers cannot name a row.
MAX_ID_DIGITS = 18


def parse_id(text: str) -> int | None:
    """A non-negative number of ASCII digits that fits a database id, or None."""
    if not text.isascii() or not text.isdigit() or len(text) > MAX_ID_DIGITS:
        return None
    return int(text)
