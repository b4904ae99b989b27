"""How dates and money read on pages, letters and PDFs (GOV.UK style)."""

from __future__ import annotations

from datetime import date

from shared.money import format_gbp

__all__ = ["format_gbp", "long_date"]


def long_date(day: date) -> str:
    """31 January 2026: no leading zero, month in full, as GOV.UK writes dates."""
    return f"{day.day} {day:%B %Y}"
