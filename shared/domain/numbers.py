"""Whole numbers as people type them: ASCII digits only, and not too many of them.

str.isdigit() is true for "²" and "١٢" (which int() refuses or reads as a number
nobody meant), and int() refuses more than 4,300 digits; every form reads whole
numbers through here, so none of that reaches a view or the database.
"""

from __future__ import annotations

# Nine digits fit any integer column (PostgreSQL's INTEGER holds 2,147,483,647) and
# any count, day, month or year a person could mean.
MAX_DIGITS = 9


def ascii_digits(text: object, *, max_digits: int = MAX_DIGITS) -> bool:
    """Whether `text` is 1 to `max_digits` of the characters 0-9 and nothing else."""
    return (
        isinstance(text, str) and 0 < len(text) <= max_digits and text.isascii() and text.isdigit()
    )


def parse_whole_number(text: str, *, max_digits: int = MAX_DIGITS) -> int | None:
    """The whole number typed ("12", "1,200", " 7 "), or None if it is not one of at
    most `max_digits` digits (a sign, a decimal point or any other character is not)."""
    cleaned = (text or "").strip().replace(",", "")
    return int(cleaned) if ascii_digits(cleaned, max_digits=max_digits) else None
