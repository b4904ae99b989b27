"""Card events refused because they did not describe the payment we asked for.

`refuse_paid_event` runs inside the caller's transaction (apply_provider_event
or the reconciliation job): it keeps the event, marks the checkout refused,
and writes the timeline and audit rows; nothing reaches the ledger. The back
office lists them with `recent_refusals` for an officer to check with the
provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from shared.domain.card_events import ReportedPayment
from shared.extensions import db
from shared.models import (
    CHECKOUT_TRANSITIONS,
    CardCheckout,
    CheckoutStatus,
    DebtorAccount,
    RefusedCardEvent,
)
from shared.money import format_gbp
from shared.services.actors import SYSTEM
from shared.services.history import record_audit, record_timeline

LIST_LIMIT = 200


def refuse_paid_event(
    checkout: CardCheckout,
    *,
    provider: str,
    event_id: str,
    event_type: str,
    expected_currency: str,
    reported: ReportedPayment,
    reason: str,
) -> str:
    """Record a "paid" event that does not match `checkout`; post nothing. No commit."""
    db.session.add(
        RefusedCardEvent(
            provider=provider,
            event_id=event_id[:100],
            event_type=event_type[:80],
            checkout_id=checkout.id,
            account_id=checkout.account_id,
            expected_amount_pence=checkout.amount_pence,
            expected_currency=expected_currency,
            reported_amount_pence=_fits_bigint(reported.amount_pence),
            reported_currency=None if reported.currency is None else reported.currency[:10],
            reason=reason[:300],
        )
    )
    before = checkout.status
    # A payment already posted at the right amount stays posted (and PAID); any
    # other checkout is held as refused, so no later event or job settles it.
    if CheckoutStatus.REFUSED in CHECKOUT_TRANSITIONS[checkout.status]:
        checkout.status = CheckoutStatus.REFUSED
        checkout.failure_reason = f"provider event refused: {reason}"[:300]
    said = (
        "an amount it did not state"
        if reported.amount_pence is None
        else _money(reported.amount_pence, reported.currency)
    )
    record_timeline(
        checkout.account_id,
        SYSTEM,
        f"Card payment {checkout.reference} refused: the card provider reported {said}, "
        f"not the {format_gbp(checkout.amount_pence)} asked for. Nothing was posted; "
        "an officer must check it with the provider",
    )
    record_audit(
        SYSTEM,
        "card_checkout.event_refused",
        "card_checkout",
        checkout.id,
        account_id=checkout.account_id,
        before={"status": str(before)},
        after={
            "status": str(checkout.status),
            "event_id": event_id[:100],
            "event_type": event_type[:80],
            "expected_amount_pence": checkout.amount_pence,
            "expected_currency": expected_currency,
            "reported_amount_pence": _fits_bigint(reported.amount_pence),
            "reported_currency": reported.currency and reported.currency[:10],
            "reason": reason[:300],
        },
    )
    return f"refused: {checkout.reference} {reason}"[:300]


def _fits_bigint(amount: int | None) -> int | None:
    # A provider's number is kept as stated when it fits; an absurd one is "not stated".
    if amount is None or not -(2**63) <= amount < 2**63:
        return None
    return amount


def _money(amount: int, currency: str | None) -> str:
    if (currency or "").lower() == "gbp" and abs(amount) < 10**15:
        return format_gbp(amount)
    return f"{amount} minor units of {(currency or 'an unstated currency')[:10]!r}"


@dataclass(frozen=True)
class RefusalRow:
    id: int
    received_at: datetime
    account_reference: str
    account_name: str
    checkout_reference: str
    checkout_status: str
    event_type: str
    event_id: str
    expected_amount_pence: int
    expected_currency: str
    reported_amount_pence: int | None
    reported_currency: str | None
    reason: str


def recent_refusals(limit: int = LIST_LIMIT) -> list[RefusalRow]:
    """The refused card events, newest first (at most `limit`)."""
    rows = db.session.execute(
        sa.select(RefusedCardEvent, CardCheckout.reference, CardCheckout.status, DebtorAccount)
        .join(CardCheckout, CardCheckout.id == RefusedCardEvent.checkout_id)
        .join(DebtorAccount, DebtorAccount.id == RefusedCardEvent.account_id)
        .order_by(RefusedCardEvent.received_at.desc(), RefusedCardEvent.id.desc())
        .limit(limit)
    ).all()
    return [
        RefusalRow(
            id=event.id,
            received_at=event.received_at,
            account_reference=account.reference,
            account_name=account.display_name,
            checkout_reference=reference,
            checkout_status=str(status),
            event_type=event.event_type,
            event_id=event.event_id,
            expected_amount_pence=event.expected_amount_pence,
            expected_currency=event.expected_currency,
            reported_amount_pence=event.reported_amount_pence,
            reported_currency=event.reported_currency,
            reason=event.reason,
        )
        for event, reference, status, account in rows
    ]
