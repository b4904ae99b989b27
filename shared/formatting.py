"""How dates and money read on pages, letters and PDFs (GOV.UK style)."""

from __future__ import annotations

from datetime import date, datetime

from shared.clock import as_london, london_day
from shared.money import format_gbp

__all__ = ["format_gbp", "long_date", "london_time", "london_day"]


def long_date(day: date) -> str:
    """31 January 2026: no leading zero, month in full, as GOV.UK writes dates."""
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
