"""Card payments through the provider's hosted checkout.

1. `begin_checkout` records what the payer chose (one transaction). Two
   submissions of the same form carry one submission key and share a row.
2. `open_checkout` claims the row, commits, then asks the provider for a
   session with no database transaction open, then stores the session.
3. The provider's signed webhook is applied by `apply_provider_event`:
   each event id is handled once, and the payment is recorded once per
   provider payment id however many events say so, in whatever order. A
   "paid" event whose amount or currency is not the checkout's posts nothing:
   it is kept, the checkout is marked refused and an officer is shown it
   (shared/services/card_event_refusals.py).
4. `reconcile_checkouts` asks the provider about sessions whose webhook never
   came, so a lost webhook delays a payment but never loses it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from shared.domain.allocation import AllocationError, check_explicit, fit_to_outstanding
from shared.domain.card_events import ReportedPayment, payment_mismatch, reported_payment
from shared.extensions import db
from shared.integrations.payments import CURRENCY
from shared.models import (
    CHECKOUT_TRANSITIONS,
    CardCheckout,
    CheckoutStatus,
    DebtorAccount,
    OutboxChannel,
    OutboxMessage,
    PaymentMethod,
    ProviderEvent,
)
from shared.models.base import utcnow
from shared.money import format_gbp
from shared.services import balances, card_event_refusals, ledger
from shared.services.actors import SYSTEM, Actor
from shared.services.errors import InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.unit_of_work import is_concurrency_conflict, use_case

MINIMUM_CARD_PAYMENT_PENCE = 100  # £1: below this the card fee outweighs the payment
PROVIDER = "stripe"

# A checkout the payer can still be sent to pay, and one whose money is on its way.
STILL_PAYABLE = frozenset({CheckoutStatus.CREATED, CheckoutStatus.OPENING, CheckoutStatus.OPEN})
UNDER_WAY = frozenset({CheckoutStatus.PROCESSING, CheckoutStatus.PAID})


class CheckoutUnavailable(Exception):
    """The payment provider could not start a checkout; the payer can try again."""


@dataclass(frozen=True)
class CheckoutRequest:
    account_id: int
    allocations: Sequence[tuple[int, int]]  # (invoice id, pence) as the payer chose
    submission_key: str
    portal_user_id: int | None = None
    receipt_email: str | None = None


def new_submission_key() -> str:
    """Put in the pay form when it is rendered; a resubmission sends it again."""
    return secrets.token_urlsafe(24)


@use_case
def begin_checkout(request: CheckoutRequest, actor: Actor) -> CardCheckout:
    """Record what the payer chose to pay, checked against what is owed now."""
    existing = _by_submission_key(request.submission_key)
    if existing is not None:
        return existing
    if db.session.get(DebtorAccount, request.account_id) is None:
        raise NotFound(f"No debtor account {request.account_id}")
    plan = [(int(i), int(a)) for i, a in request.allocations]
    total = sum(a for _, a in plan)
    if not plan:
        raise InvalidRequest("Choose at least one invoice to pay")
    try:
        check_explicit(total, balances.open_items(request.account_id), plan)
    except AllocationError as exc:
        raise InvalidRequest(str(exc)) from None
    if total < MINIMUM_CARD_PAYMENT_PENCE:
        raise InvalidRequest(f"Amount must be at least {format_gbp(MINIMUM_CARD_PAYMENT_PENCE)}")
    checkout = CardCheckout(
        reference=f"CP-{secrets.token_hex(6).upper()}",
        account_id=request.account_id,
        portal_user_id=request.portal_user_id,
        amount_pence=total,
        allocations=[list(p) for p in plan],
        receipt_email=request.receipt_email,
        submission_key=request.submission_key,
    )
    db.session.add(checkout)
    try:
        db.session.flush()
    except IntegrityError:
        # The same form submitted twice at once: the other request's row wins.
        db.session.rollback()
        existing = _by_submission_key(request.submission_key)
        if existing is None:
            raise
        return existing
    record_timeline(
        request.account_id,
        actor,
        f"Card payment of {format_gbp(total)} started ({checkout.reference})",
    )
    record_audit(
        actor,
        "card_checkout.started",
        "card_checkout",
        checkout.id,
        account_id=request.account_id,
        after={"amount_pence": total, "allocations": plan},
    )
    db.session.commit()
    return checkout


def checkout_for_submission(request: CheckoutRequest, actor: Actor) -> CardCheckout:
    """The checkout a pay form submission means: the one its submission key already
    made (a double click, a resubmission), unless the payer went Back to an old copy of
    the form and changed it, or that checkout can no longer be paid; then a new one."""
    checkout = begin_checkout(request, actor)
    same_choice = (
        checkout.account_id == request.account_id
        and [tuple(a) for a in checkout.allocations] == [tuple(a) for a in request.allocations]
        and checkout.receipt_email == request.receipt_email
    )
    if same_choice and checkout.status in STILL_PAYABLE | UNDER_WAY:
        return checkout
    return begin_checkout(replace(request, submission_key=new_submission_key()), actor)


def _by_submission_key(key: str) -> CardCheckout | None:
    return db.session.scalar(sa.select(CardCheckout).where(CardCheckout.submission_key == key))


def open_checkout(
    checkout_id: int, gateway, *, success_url: str, cancel_url: str, wait_seconds: float = 10.0
) -> CardCheckout:
    """Create the provider session for a checkout (once) and return the checkout with its URL.

    Whoever moves it CREATED -> OPENING first talks to the provider; a
    concurrent caller for the same checkout waits for that session instead of
    creating a second one.
    """
    claimed = db.session.execute(
        sa.update(CardCheckout)
        .where(CardCheckout.id == checkout_id, CardCheckout.status == CheckoutStatus.CREATED)
        .values(status=CheckoutStatus.OPENING)
    ).rowcount
    db.session.commit()
    if not claimed:
        return _wait_for_session(checkout_id, wait_seconds)

    checkout = db.session.get(CardCheckout, checkout_id)
    reference, amount, email = checkout.reference, checkout.amount_pence, checkout.receipt_email
    account_reference = db.session.get(DebtorAccount, checkout.account_id).reference
    db.session.commit()  # no transaction stays open while the provider is called
    try:
        session = gateway.create_checkout_session(
            reference=reference,
            amount_pence=amount,
            description=f"Payment to account {account_reference}",
            success_url=success_url,
            cancel_url=cancel_url,
            metadata={"checkout_reference": reference, "account_reference": account_reference},
            customer_email=email,
            idempotency_key=f"checkout-{reference}",
        )
    except Exception as exc:
        transient = getattr(exc, "transient", True)
        checkout = db.session.get(CardCheckout, checkout_id)
        # Released when the provider was briefly unavailable, so the payer can try again.
        checkout.status = CheckoutStatus.CREATED if transient else CheckoutStatus.ERROR
        checkout.failure_reason = str(exc)[:300]
        db.session.commit()
        raise CheckoutUnavailable(str(exc)) from exc
    checkout = db.session.get(CardCheckout, checkout_id)
    checkout.provider_session_id = session.id
    checkout.provider_session_url = session.url
    checkout.provider_payment_id = session.payment_intent_id
    checkout.status = CheckoutStatus.OPEN
    checkout.failure_reason = None
    db.session.commit()
    return checkout


def _wait_for_session(checkout_id: int, wait_seconds: float) -> CardCheckout:
    deadline = time.monotonic() + wait_seconds
    while True:
        db.session.expire_all()
        checkout = db.session.get(CardCheckout, checkout_id)
        if checkout is None:
            raise NotFound(f"No card checkout {checkout_id}")
        if checkout.status not in (CheckoutStatus.CREATED, CheckoutStatus.OPENING):
            db.session.commit()
            if checkout.status == CheckoutStatus.ERROR:
                raise CheckoutUnavailable(checkout.failure_reason or "payment provider refused")
            return checkout
        db.session.commit()
        if time.monotonic() > deadline:
            raise CheckoutUnavailable("the payment page is still being prepared")
        time.sleep(0.1)


# --- provider events -----------------------------------------------------------------


def _move(checkout: CardCheckout, to: CheckoutStatus) -> bool:
    if to == checkout.status:
        return False
    if to not in CHECKOUT_TRANSITIONS[checkout.status]:
        return False
    checkout.status = to
    return True


def _find_checkout(obj: dict) -> CardCheckout | None:
    reference = (obj.get("metadata") or {}).get("checkout_reference")
    if reference:
        found = db.session.scalar(
            sa.select(CardCheckout).where(CardCheckout.reference == reference)
        )
        if found is not None:
            return found
    if obj.get("object") == "checkout.session" and obj.get("id"):
        return db.session.scalar(
            sa.select(CardCheckout).where(CardCheckout.provider_session_id == obj["id"])
        )
    if obj.get("object") == "payment_intent" and obj.get("id"):
        return db.session.scalar(
            sa.select(CardCheckout).where(CardCheckout.provider_payment_id == obj["id"])
        )
    return None


def _settle(checkout: CardCheckout, payment_id: str) -> str:
    """Record the checkout's money on the ledger, once per provider payment id."""
    if checkout.provider_payment_id and checkout.provider_payment_id != payment_id:
        return f"payment {payment_id} does not belong to {checkout.reference}: ignored"
    checkout.provider_payment_id = payment_id
    plan = fit_to_outstanding(
        balances.open_items(checkout.account_id), [tuple(p) for p in checkout.allocations]
    )
    result = ledger.post_payment(
        account_id=checkout.account_id,
        amount_pence=checkout.amount_pence,
        method=PaymentMethod.CARD,
        actor=SYSTEM,
        external_reference=payment_id,
        allocations=plan,
        note=f"Online card payment {checkout.reference}",
    )
    checkout.payment_entry_id = result.entry.id
    if checkout.status != CheckoutStatus.PAID:
        checkout.status = CheckoutStatus.PAID
        checkout.completed_at = utcnow()
        checkout.failure_reason = None
    if result.created:
        _queue_receipt(checkout)
        return f"payment recorded for {checkout.reference}"
    return f"payment for {checkout.reference} already recorded"


def _queue_receipt(checkout: CardCheckout) -> None:
    if not checkout.receipt_email:
        return
    db.session.add(
        OutboxMessage(
            account_id=checkout.account_id,
            channel=OutboxChannel.EMAIL,
            template="card_payment_receipt",
            recipient=checkout.receipt_email,
            subject=f"Payment received: {format_gbp(checkout.amount_pence)}",
            body=(
                f"We have received your card payment of {format_gbp(checkout.amount_pence)}.\n"
                f"Your payment reference is {checkout.reference}.\n"
            ),
            payload={"checkout_reference": checkout.reference},
            # One receipt per checkout, however many times the payment is confirmed.
            dedupe_key=f"receipt:{checkout.reference}",
        )
    )


def _settle_if_as_asked(
    checkout: CardCheckout, payment_id: str, reported: ReportedPayment, event_id: str, kind: str
) -> str:
    """Settle only a payment of the checkout's own amount and currency."""
    if checkout.status == CheckoutStatus.REFUSED:
        return f"{checkout.reference} was refused earlier: left for an officer"
    mismatch = payment_mismatch(checkout.amount_pence, CURRENCY, reported)
    if mismatch is not None:
        return card_event_refusals.refuse_paid_event(
            checkout,
            provider=PROVIDER,
            event_id=event_id,
            event_type=kind,
            expected_currency=CURRENCY,
            reported=reported,
            reason=mismatch,
        )
    return _settle(checkout, payment_id)


def _handle(event_type: str, obj: dict, event_id: str = "") -> str:
    checkout = _find_checkout(obj)
    if checkout is None:
        return "no matching checkout: ignored"
    if event_type in {"checkout.session.completed", "checkout.session.async_payment_succeeded"}:
        if obj.get("payment_status") == "paid" and obj.get("payment_intent"):
            return _settle_if_as_asked(
                checkout, obj["payment_intent"], reported_payment(obj), event_id, event_type
            )
        if _move(checkout, CheckoutStatus.PROCESSING):
            return f"{checkout.reference} processing"
        return f"{checkout.reference} unchanged"
    if event_type == "payment_intent.succeeded":
        return _settle_if_as_asked(checkout, obj["id"], reported_payment(obj), event_id, event_type)
    if event_type in {"checkout.session.async_payment_failed", "payment_intent.payment_failed"}:
        error = (obj.get("last_payment_error") or {}).get("message") or "payment failed"
        if _move(checkout, CheckoutStatus.FAILED):
            checkout.failure_reason = error[:300]
            record_timeline(
                checkout.account_id, SYSTEM, f"Card payment {checkout.reference} failed: {error}"
            )
            return f"{checkout.reference} failed"
        return f"{checkout.reference} unchanged"
    if event_type == "checkout.session.expired":
        return (
            f"{checkout.reference} expired"
            if _move(checkout, CheckoutStatus.EXPIRED)
            else "unchanged"
        )
    if event_type == "charge.refunded":
        # Refunds we make are recorded when we make them (back office). One
        # made in the provider's dashboard needs an officer to record it.
        record_timeline(
            checkout.account_id,
            SYSTEM,
            f"The card provider reports a refund on {checkout.reference}: "
            "check it is on the ledger",
        )
        return f"refund reported on {checkout.reference}"
    return "ignored"


HANDLED_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "charge.refunded",
    }
)


# Concurrent deliveries can collide (two events for one payment inserting the same
# ledger reference, or SQLite's single writer being busy): the transaction is rolled
# back whole and tried again, when the other delivery's work is visible.
EVENT_ATTEMPTS = 4


def apply_provider_event(event: dict) -> str:
    """Apply one verified webhook event; the same event id twice changes nothing."""
    for attempt in range(1, EVENT_ATTEMPTS + 1):
        try:
            return _apply_provider_event(event)
        except (IntegrityError, OperationalError) as exc:
            if attempt == EVENT_ATTEMPTS or not is_concurrency_conflict(exc):
                raise
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


@use_case
def _apply_provider_event(event: dict) -> str:
    event_id, event_type = event.get("id"), event.get("type", "")
    if not event_id:
        raise InvalidRequest("event has no id")
    seen = db.session.scalar(
        sa.select(ProviderEvent.outcome).where(
            ProviderEvent.provider == PROVIDER, ProviderEvent.event_id == event_id
        )
    )
    if seen is not None:
        return f"duplicate event: {seen}"
    if event_type in HANDLED_EVENTS:
        obj = (event.get("data") or {}).get("object") or {}
        checkout = _find_checkout(obj)
        if checkout is not None:
            ledger.lock_account(checkout.account_id)  # serialise with other events for this account
            db.session.refresh(checkout)
        outcome = _handle(event_type, obj, str(event_id))
    else:
        outcome = "ignored"
    db.session.add(
        ProviderEvent(
            provider=PROVIDER, event_id=event_id, event_type=event_type, outcome=outcome[:300]
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        # The same event delivered twice at once; the other delivery applied it.
        db.session.rollback()
        return "duplicate event (concurrent)"
    return outcome


def reconcile_checkouts(
    gateway, *, older_than: timedelta = timedelta(minutes=15), limit: int = 200
) -> dict[str, int]:
    """Ask the provider about checkouts still open or processing: settle or expire them."""
    cutoff = utcnow() - older_than
    ids = db.session.scalars(
        sa.select(CardCheckout.id)
        .where(
            CardCheckout.status.in_([CheckoutStatus.OPEN, CheckoutStatus.PROCESSING]),
            CardCheckout.created_at < cutoff,
            CardCheckout.provider_session_id.is_not(None),
        )
        .order_by(CardCheckout.id)
        .limit(limit)
    ).all()
    db.session.commit()
    counts = {"checked": 0, "paid": 0, "refused": 0, "expired": 0, "errors": 0}
    for checkout_id in ids:
        session_id = db.session.get(CardCheckout, checkout_id).provider_session_id
        db.session.commit()
        try:
            session = gateway.retrieve_checkout_session(session_id)
        except Exception:
            counts["errors"] += 1
            continue
        counts["checked"] += 1
        outcome = _apply_session_state(checkout_id, session)
        if outcome in counts:
            counts[outcome] += 1
    return counts


@use_case
def _apply_session_state(checkout_id: int, session) -> str:
    checkout = db.session.get(CardCheckout, checkout_id)
    ledger.lock_account(checkout.account_id)
    db.session.refresh(checkout)
    outcome = "unchanged"
    if session.payment_status == "paid" and session.payment_intent_id:
        settled = _settle_if_as_asked(
            checkout,
            session.payment_intent_id,
            ReportedPayment(session.amount_total, session.currency),
            f"reconciliation:{session.id}",
            "reconciliation",
        )
        outcome = "refused" if settled.startswith("refused") else "paid"
    elif session.status == "expired" and _move(checkout, CheckoutStatus.EXPIRED):
        outcome = "expired"
    record_audit(
        SYSTEM,
        "card_checkout.reconciled",
        "card_checkout",
        checkout.id,
        account_id=checkout.account_id,
        after={"outcome": outcome},
    )
    db.session.commit()
    return outcome
