"""UK VAT on invoice lines, in integer pence, at the rate in force on the tax point."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


class VatRate(enum.StrEnum):
    STANDARD = "standard"
    REDUCED = "reduced"
    ZERO = "zero"
    EXEMPT = "exempt"
    OUTSIDE_SCOPE = "outside_scope"  # most council statutory charges


# Today's rates, in basis points so the arithmetic stays in integers. An invoice is
# charged the dated rate in force on its tax point (rate_in_force); these are for
# callers with no database to hand (the demo generator, line previews).
RATE_BASIS_POINTS = {
    VatRate.STANDARD: 2000,
    VatRate.REDUCED: 500,
    VatRate.ZERO: 0,
    VatRate.EXEMPT: 0,
    VatRate.OUTSIDE_SCOPE: 0,
}

# Rates whose lines carry no VAT whatever the percentage says: shown by name, not "0%".
_NAMED = {VatRate.EXEMPT: "Exempt", VatRate.OUTSIDE_SCOPE: "No VAT"}


class NoRateInForce(ValueError):
    """No period of the rate had started by the tax point."""


@dataclass(frozen=True)
class RatePeriod:
    """A rate from a date (until the next period of the same rate starts)."""

    rate: VatRate
    valid_from: date
    basis_points: int


def rate_in_force(periods: Iterable[RatePeriod], rate: VatRate, tax_point: date) -> int:
    """The basis points of `rate` on `tax_point`: the latest period of that rate
    starting on or before it. A period starting on the tax point applies to it."""
    started = [p for p in periods if p.rate == rate and p.valid_from <= tax_point]
    if not started:
        raise NoRateInForce(
            f"No {VatRate(rate).value.replace('_', ' ')} VAT rate was in force on "
            f"{tax_point:%-d %B %Y}"
        )
    return max(started, key=lambda p: p.valid_from).basis_points


def vat_at(net_pence: int, basis_points: int) -> int:
    """VAT on a line's net amount at `basis_points`, rounded half up to the penny
    (HMRC allows rounding line by line)."""
    if net_pence < 0:
        raise ValueError("net amount must not be negative")
    if not 0 <= basis_points <= 10000:
        raise ValueError("a VAT rate is between 0% and 100%")
    return (net_pence * basis_points + 5000) // 10000


def vat_on(net_pence: int, rate: VatRate) -> int:
    """VAT on a line's net amount at today's `rate` (RATE_BASIS_POINTS), half up."""
    return vat_at(net_pence, RATE_BASIS_POINTS[rate])


def percent(basis_points: int) -> str:
    """2000 -> "20%", 1750 -> "17.5%", 0 -> "0%"."""
    whole, part = divmod(basis_points, 100)
    return f"{whole}%" if not part else f"{whole}.{part:02d}".rstrip("0") + "%"


def rate_words(rate: VatRate | str, basis_points: int | None) -> str:
    """How a line's VAT rate is printed: the percentage it was charged at, or the
    rate's name where no VAT applies by law (exempt, outside the scope)."""
    rate = VatRate(rate)
    if rate in _NAMED:
        return _NAMED[rate]
    return percent(RATE_BASIS_POINTS[rate] if basis_points is None else basis_points)


def parse_percent(text: str | None) -> int | None:
    """Basis points from a percentage as people type it ("20", "17.5", "5%"), or None
    if it is not one (ASCII digits, at most two decimal places, at most 100%)."""
    cleaned = (text or "").strip().removesuffix("%").strip()
    whole, _, part = cleaned.partition(".")
    if not (whole.isascii() and whole.isdigit() and len(whole) <= 3):
        return None
    if part and not (part.isascii() and part.isdigit() and len(part) <= 2):
        return None
    if cleaned.endswith("."):
        return None
    basis_points = int(whole) * 100 + int(part.ljust(2, "0") or 0)
    return basis_points if basis_points <= 10000 else None
