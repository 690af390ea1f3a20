"""Database ids as people and programs type them."""

from __future__ import annotations


def parse_id(value: object) -> int | None:
    """An id from a form, a query string or a path; None for anything else. ASCII digits
    only (``"²".isdigit()`` is true, yet ``int("²")`` fails) and short enough for a
    bigint column (a longer one would fail in the database, not here)."""
    text = str(value) if isinstance(value, int | str) else ""
    return int(text) if text and text.isascii() and text.isdigit() and len(text) < 18 else None
