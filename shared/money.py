"""Money is integer pence, always. These helpers parse and format GBP for people."""

from __future__ import annotations

import re

_AMOUNT = re.compile(r"^(?P<pounds>\d{1,9})(?:\.(?P<pence>\d{1,2}))?$")


class MoneyFormatError(ValueError):
    """A typed amount could not be read as pounds and pence."""


def parse_gbp(text: str) -> int:
    """Read what a person typed ("12", "12.5", "£1,234.56") as integer pence.

    Rejects negatives, more than two decimal places and anything non-numeric with
    a message that can be shown beside the field.
    """
    if text is None:
        raise MoneyFormatError("Enter an amount")
    cleaned = text.strip().replace(",", "").removeprefix("£").strip()
    if not cleaned:
        raise MoneyFormatError("Enter an amount")
    if cleaned.startswith("-"):
        raise MoneyFormatError("Amount must be more than £0")
    if re.fullmatch(r"\d+\.\d{3,}", cleaned):
        raise MoneyFormatError("Amount must not have more than 2 decimal places, like 123.45")
    match = _AMOUNT.match(cleaned)
    if not match:
        raise MoneyFormatError("Amount must be a number, like 123.45")
    pence_text = (match.group("pence") or "0").ljust(2, "0")
    return int(match.group("pounds")) * 100 + int(pence_text)


def format_gbp(pence: int, *, symbol: bool = True) -> str:
    """Format integer pence as £1,234.56 (negative as -£1,234.56)."""
    if not isinstance(pence, int):
        raise TypeError(f"money must be integer pence, got {type(pence).__name__}")
    sign = "-" if pence < 0 else ""
    pounds, rem = divmod(abs(pence), 100)
    return f"{sign}{'£' if symbol else ''}{pounds:,}.{rem:02d}"
