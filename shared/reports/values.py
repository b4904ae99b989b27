"""How a report's values read in words (pages, chart titles, the text export): money as
£1,234.56, a percent from basis points as 95.12%, a date as 31 March 2026. The CSV and
XLSX exports keep the numbers as numbers (shared/reports/export.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.formatting import format_gbp, long_date


def format_percent(basis_points: int | None) -> str:
    if basis_points is None:
        return "-"
    return f"{basis_points / 100:.1f}%"


def format_value(value: Any, kind: str) -> str:
    if value is None:
        return "-" if kind in ("percent", "money", "count") else ""
    if kind == "money":
        return format_gbp(int(value))
    if kind == "percent":
        return format_percent(int(value))
    if kind == "count":
        return f"{int(value):,}"
    if kind == "date" and isinstance(value, date):
        return long_date(value)
    return str(value)
