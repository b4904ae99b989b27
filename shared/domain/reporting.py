"""Pure rules the management reports share: the ageing buckets, the payment channels
collection is reported by, and the council's financial year (1 April to 31 March)."""

from __future__ import annotations

from datetime import date

# Days past the due date, as a council's aged-debt report shows them. "Current" is
# not yet due (or due today). Each bucket is (key, label, first day, last day or None).
AGE_BUCKETS: tuple[tuple[str, str, int | None, int | None], ...] = (
    ("current", "Current", None, 0),
    ("1_30", "1 to 30 days", 1, 30),
    ("31_60", "31 to 60 days", 31, 60),
    ("61_90", "61 to 90 days", 61, 90),
    ("91_180", "91 to 180 days", 91, 180),
    ("181_365", "181 to 365 days", 181, 365),
    ("over_365", "Over 365 days", 366, None),
)
AGE_BUCKET_KEYS = tuple(b[0] for b in AGE_BUCKETS)
AGE_BUCKET_LABELS = {b[0]: b[1] for b in AGE_BUCKETS}


def age_bucket(days_past_due: int) -> str:
    """The bucket key for an invoice `days_past_due` days after its due date (0 or
    fewer: current)."""
    for key, _label, first, last in AGE_BUCKETS:
        if (first is None or days_past_due >= first) and (last is None or days_past_due <= last):
            return key
    raise AssertionError("the buckets cover every integer")  # pragma: no cover


# How a payment came in, by the ledger's payment method, as collection is reported.
CHANNELS: tuple[tuple[str, str], ...] = (
    ("card_online", "Card online"),
    ("direct_debit", "Direct Debit"),
    ("bank_transfer", "Bank transfer"),
    ("phone", "Phone"),
    ("other", "Other"),
)
CHANNEL_LABELS = dict(CHANNELS)
CHANNEL_OF_METHOD = {
    "card": "card_online",
    "telephone_card": "phone",
    "direct_debit": "direct_debit",
    "bank_transfer": "bank_transfer",
    "cheque": "other",
    "cash": "other",
}


def channel_of(method: str | None) -> str:
    return CHANNEL_OF_METHOD.get(method or "", "other")


def financial_year_of(day: date) -> int:
    """2026 for any day from 1 April 2026 to 31 March 2027."""
    return day.year if day.month >= 4 else day.year - 1


def financial_year_start(year: int) -> date:
    return date(year, 4, 1)


def financial_year_end(year: int) -> date:
    return date(year + 1, 3, 31)


def financial_year_label(year: int) -> str:
    return f"{year} to {year + 1}"


def months_of_financial_year(year: int) -> list[date]:
    """The first day of each month, April to March."""
    return [date(year + (m < 4), m, 1) for m in (*range(4, 13), 1, 2, 3)]


def month_end(first: date) -> date:
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def rate_basis_points(part: int, whole: int) -> int | None:
    """part / whole in basis points, rounded half up; None when nothing was due."""
    if whole <= 0:
        return None
    return (part * 10000 * 2 + whole) // (whole * 2)
