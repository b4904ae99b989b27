"""Dates as people type them into our forms."""

from __future__ import annotations

import re
from datetime import date

# ASCII digits only: \d would also take other scripts' digits.
_DAY_FIRST = re.compile(r"^([0-9]{1,2})[/ .-]([0-9]{1,2})[/ .-]([0-9]{4})$")
_ISO = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
# No date anyone types into these forms is outside these years; refusing the rest keeps
# year 1 and 9999 away from date arithmetic (a day before 1/1/0001 is an OverflowError).
EARLIEST_YEAR = 1900
LATEST_YEAR = 2199


def parse_day(text: str) -> date:
    """27/3/2026, 27 3 2026, 27.03.2026 or 2026-03-27 as a date; ValueError otherwise
    (including for a day that does not exist, like 31/2/2026, and a year outside
    EARLIEST_YEAR to LATEST_YEAR)."""
    text = text.strip()
    if match := _DAY_FIRST.match(text):
        day, month, year = match.groups()
    elif match := _ISO.match(text):
        year, month, day = match.groups()
    else:
        raise ValueError(f"not a date: {text!r}")
    if not EARLIEST_YEAR <= int(year) <= LATEST_YEAR:
        raise ValueError(f"year out of range: {text!r}")
    return date(int(year), int(month), int(day))
