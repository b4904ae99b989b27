"""UK VAT on invoice lines, in integer pence."""

from __future__ import annotations

import enum


class VatRate(enum.StrEnum):
    STANDARD = "standard"
    REDUCED = "reduced"
    ZERO = "zero"
    EXEMPT = "exempt"
    OUTSIDE_SCOPE = "outside_scope"  # most council statutory charges


# Basis points, so the arithmetic stays in integers.
RATE_BASIS_POINTS = {
    VatRate.STANDARD: 2000,
    VatRate.REDUCED: 500,
    VatRate.ZERO: 0,
    VatRate.EXEMPT: 0,
    VatRate.OUTSIDE_SCOPE: 0,
}


def vat_on(net_pence: int, rate: VatRate) -> int:
    """VAT on a line's net amount, rounded half up to the penny (HMRC allows line rounding)."""
    if net_pence < 0:
        raise ValueError("net amount must not be negative")
    bp = RATE_BASIS_POINTS[rate]
    return (net_pence * bp + 5000) // 10000
