"""Dates as people type them into our forms."""

from __future__ import annotations

import re
from datetime import date

_DAY_FIRST = re.compile(r"^(\d{1,2})[/ .-](\d{1,2})[/ .-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_day(text: str) -> date:
    """27/3/2026, 27 3 2026, 27.03.2026 or 2026-03-27 as a date; ValueError otherwise
    (including for a day that does not exist, like 31/2/2026)."""
    text = text.strip()
    if match := _DAY_FIRST.match(text):
        day, month, year = match.groups()
    elif match := _ISO.match(text):
        year, month, day = match.groups()
    else:
        raise ValueError(f"not a date: {text!r}")
    return date(int(year), int(month), int(day))
