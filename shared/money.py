"""Money is integer pence, always. These helpers parse and format GBP for people."""

from __future__ import annotations

import re

# ASCII digits only: \d would also take "١٢" and other scripts' digits.
_AMOUNT = re.compile(r"^(?P<pounds>[0-9]+)(?:\.(?P<pence>[0-9]{1,2}))?$")
_TOO_PRECISE = re.compile(r"^[0-9]+\.[0-9]{3,}$")

# The most any one amount typed into a form may be: £10,000,000.00. Far above any
# council bill, and far below what the integer pence columns hold (2,147,483,647 on
# PostgreSQL), so sums of a few such amounts cannot overflow either.
MAX_AMOUNT_PENCE = 1_000_000_000


class MoneyFormatError(ValueError):
    """A typed amount could not be read as pounds and pence."""


def parse_gbp(text: str) -> int:
    """Read what a person typed ("12", "12.5", "£1,234.56") as integer pence.

    Rejects negatives, more than two decimal places, more than MAX_AMOUNT_PENCE and
    anything non-numeric with a message that can be shown beside the field.
    """
    if text is None:
        raise MoneyFormatError("Enter an amount")
    cleaned = text.strip().replace(",", "").removeprefix("£").strip()
    if not cleaned:
        raise MoneyFormatError("Enter an amount")
    if cleaned.startswith("-"):
        raise MoneyFormatError("Amount must be more than £0")
    if _TOO_PRECISE.match(cleaned):
        raise MoneyFormatError("Amount must not have more than 2 decimal places, like 123.45")
    match = _AMOUNT.match(cleaned)
    if not match:
        raise MoneyFormatError("Amount must be a number, like 123.45")
    pounds = match.group("pounds").lstrip("0") or "0"
    # Checked on the digits before int(), which refuses more than 4,300 of them.
    if len(pounds) > len(str(MAX_AMOUNT_PENCE // 100)):
        raise MoneyFormatError(too_much())
    pence = int(pounds) * 100 + int((match.group("pence") or "0").ljust(2, "0"))
    if pence > MAX_AMOUNT_PENCE:
        raise MoneyFormatError(too_much())
    return pence


def too_much() -> str:
    return f"Amount must be {format_gbp(MAX_AMOUNT_PENCE)} or less"


def format_gbp(pence: int, *, symbol: bool = True) -> str:
    """Format integer pence as £1,234.56 (negative as -£1,234.56)."""
    if not isinstance(pence, int):
        raise TypeError(f"money must be integer pence, got {type(pence).__name__}")
    sign = "-" if pence < 0 else ""
    pounds, rem = divmod(abs(pence), 100)
    return f"{sign}{'£' if symbol else ''}{pounds:,}.{rem:02d}"
