"""What a card provider's "paid" event must agree with before its money is posted.

Pure functions over plain values. The provider's signature says who sent an
event, not that it describes the payment we asked for: a checkout for £80.00
settled by an event for £1.00, or for 80.00 of another currency, would clear the
bill for less. Such an event is refused and kept for an officer instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReportedPayment:
    """The amount and currency a provider event states (None: it did not say)."""

    amount_pence: int | None
    currency: str | None


def reported_payment(obj: Mapping[str, Any]) -> ReportedPayment:
    """Read what a checkout.session or payment_intent object says was paid.

    A session states `amount_total`; an intent `amount_received` (what was taken)
    and `amount`. Anything that is not a whole number is "not stated".
    """
    if obj.get("object") == "payment_intent":
        raw = obj.get("amount_received")
        if raw is None:
            raw = obj.get("amount")
    else:
        raw = obj.get("amount_total")
    amount = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    currency = obj.get("currency")
    return ReportedPayment(amount, currency if isinstance(currency, str) else None)


def payment_mismatch(
    expected_pence: int, expected_currency: str, reported: ReportedPayment
) -> str | None:
    """Why the reported payment is not the one asked for, or None when it is."""
    problems = []
    if reported.amount_pence is None:
        problems.append("it did not state the amount")
    elif reported.amount_pence != expected_pence:
        problems.append(f"it reported {reported.amount_pence} pence, not {expected_pence}")
    if reported.currency is None:
        problems.append("it did not state the currency")
    elif reported.currency.lower() != expected_currency.lower():
        problems.append(
            f"it reported currency {reported.currency[:10]!r}, not {expected_currency!r}"
        )
    return "; ".join(problems) or None
