"""How dates and money read on pages, letters and PDFs (GOV.UK style)."""

from __future__ import annotations

from datetime import date, datetime

from shared.clock import as_london, london_day
from shared.money import format_gbp

__all__ = ["format_gbp", "long_date", "london_time", "london_day"]

# Month names in Welsh, for letters and messages to debtors who asked for Welsh
# (not the locale's: the servers run in English).
_WELSH_MONTHS = (
    "Ionawr",
    "Chwefror",
    "Mawrth",
    "Ebrill",
    "Mai",
    "Mehefin",
    "Gorffennaf",
    "Awst",
    "Medi",
    "Hydref",
    "Tachwedd",
    "Rhagfyr",
)


def long_date(day: date, language: str = "en") -> str:
    """31 January 2026 (or 31 Ionawr 2026 in Welsh): no leading zero, month in full,
    as GOV.UK writes dates."""
    if language == "cy":
        return f"{day.day} {_WELSH_MONTHS[day.month - 1]} {day.year}"
    return f"{day.day} {day:%B %Y}"


def london_time(stamp: datetime, fmt: str | None = None) -> str:
    """A stored timestamp as the clock in England read then: 1 July 2026 00:30.

    Timestamps are stored as naive UTC; printed as they are, something done at 00:30
    on a summer night would show as 23:30 the day before. `fmt` is a strftime
    pattern for the places that want another layout (the audit log's seconds)."""
    local = as_london(stamp)
    if fmt is None:
        return f"{local.day} {local:%B %Y %H:%M}"
    return local.strftime(fmt)
