"""Webhooks delivered at the same time, as the provider does: each gets 200 or a
retryable 503 (never a 500), and every payment is posted exactly once.

On SQLite `SELECT ... FOR UPDATE` locks nothing, so two events for one payment
(checkout.session.completed and payment_intent.succeeded) used to race to insert
the same ledger reference and one of them got a 500 (issue 11, item 7).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa
import stripe
from sqlalchemy.engine import make_url

from shared.models import CardCheckout, CheckoutStatus, LedgerEntry, ProviderEvent
from shared.services import balances, ledger
from shared.services.actors import SYSTEM
from shared.services.card_payments import CheckoutRequest, begin_checkout
from tests.conftest import _is_postgres
from tests.factories import make_account, make_department

SECRET = "whsec_local_development"  # the test config's STRIPE_WEBHOOK_SECRET
THREADS = 8


def signed(body: bytes) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), SECRET, timestamp=int(time.time())
    )
    return {"Stripe-Signature": header, "Content-Type": "application/json"}


def events_for(checkout: CardCheckout) -> list[bytes]:
    """The two events the provider sends for one card payment."""
    session = {
        "object": "checkout.session",
        "id": checkout.provider_session_id,
        "payment_intent": checkout.provider_payment_id,
        "payment_status": "paid",
        "amount_total": checkout.amount_pence,
        "currency": "gbp",
    }
    intent = {
        "object": "payment_intent",
        "id": checkout.provider_payment_id,
        "amount": checkout.amount_pence,
        "currency": "gbp",
    }
    return [
        json.dumps(
            {
                "id": f"evt_{kind}_{checkout.reference}",
                "object": "event",
                "type": kind,
                "data": {"object": {**obj, "metadata": {"checkout_reference": checkout.reference}}},
            }
        ).encode()
        for kind, obj in (
            ("checkout.session.completed", session),
            ("payment_intent.succeeded", intent),
        )
    ]


@pytest.fixture
def open_checkouts(app, db):
    """Three accounts, each with four £10 invoices and an open checkout for each."""
    department = make_department()
    checkouts, invoices = [], []
    for a in range(3):
        account = make_account()
        for n in range(4):
            invoice = ledger.raise_invoice(
                account_id=account.id,
                department_id=department.id,
                number=f"INV-CC{a}{n}",
                issue_date=date(2026, 1, 1),
                due_date=date(2026, 1, 31),
                description="Trade waste",
                lines=[ledger.LineInput("Collections", 1, 1_000)],
                actor=SYSTEM,
            )
            checkout = begin_checkout(
                CheckoutRequest(account.id, [(invoice.id, 1_000)], submission_key=f"cc{a}{n}"),
                SYSTEM,
            )
            checkout.status = CheckoutStatus.OPEN
            checkout.provider_session_id = f"cs_cc_{a}_{n}"
            checkout.provider_payment_id = f"pi_cc_{a}_{n}"
            db.session.commit()
            checkouts.append(checkout)
            invoices.append(invoice.id)
    bodies = [body for checkout in checkouts for body in events_for(checkout)]
    db.session.remove()
    return bodies, invoices


class _Errors(logging.Handler):
    """What each 500 was, for the failure message."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(repr(record.exc_info[1]) if record.exc_info else record.getMessage())


def deliver(app, bodies: list[bytes], errors: _Errors) -> list[tuple[bytes, int]]:
    """Post every body from THREADS threads at once, as the provider's workers would."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 is an answer here, not a crash
    app.logger.addHandler(errors)
    answers: list[tuple[bytes, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def worker(share: list[bytes]) -> None:
        client = app.test_client()
        start.wait()
        for body in share:
            status = client.post("/webhooks/stripe", data=body, headers=signed(body)).status_code
            with lock:
                answers.append((body, status))

    threads = [threading.Thread(target=worker, args=(bodies[i::THREADS],)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    app.logger.removeHandler(errors)
    return answers


def test_concurrent_deliveries_get_200_or_a_retry_and_post_each_payment_once(
    app, db, open_checkouts
):
    bodies, invoices = open_checkouts
    # Each event three times, the two events of one payment side by side.
    errors = _Errors()
    answers = deliver(app, bodies * 3, errors)

    statuses = Counter(status for _, status in answers)
    assert set(statuses) <= {200, 503}, (statuses, errors.seen)
    # What got 503 the provider sends again later; then it is applied.
    client = app.test_client()
    for body, status in answers:
        if status == 503:
            assert (
                client.post("/webhooks/stripe", data=body, headers=signed(body)).status_code == 200
            )

    payments = db.session.scalars(
        sa.select(LedgerEntry.external_reference).where(LedgerEntry.kind == "payment")
    ).all()
    assert sorted(payments) == sorted({f"pi_cc_{a}_{n}" for a in range(3) for n in range(4)})
    assert [balances.invoice_outstanding(i) for i in invoices] == [0] * len(invoices)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProviderEvent)) == len(bodies)


@pytest.mark.skipif(_is_postgres(), reason="SQLite's database-wide write lock")
def test_a_locked_database_gets_a_503_with_retry_after_and_nothing_recorded(
    app, db, open_checkouts
):
    bodies, invoices = open_checkouts
    path = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    # The app's connections wait only briefly for the lock in this test.
    db.engine.dispose()
    sa.event.listen(
        db.engine,
        "connect",
        lambda connection, _record: connection.execute("PRAGMA busy_timeout=200"),
    )
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing for a long time
    try:
        response = app.test_client().post(
            "/webhooks/stripe", data=bodies[0], headers=signed(bodies[0])
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert "Try again in a few seconds" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProviderEvent)) == 0
    retried = app.test_client().post("/webhooks/stripe", data=bodies[0], headers=signed(bodies[0]))
    assert retried.status_code == 200
    assert balances.invoice_outstanding(invoices[0]) == 0
