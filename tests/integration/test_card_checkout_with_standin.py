"""Card checkouts against the local Stripe stand-in, through the real stripe SDK."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from shared.integrations.payments import PaymentGateway
from shared.models import CardCheckout, CheckoutStatus, LedgerEntry, RefusedCardEvent
from shared.services import balances, card_payments, ledger
from shared.services.actors import SYSTEM
from shared.services.card_payments import CheckoutRequest, CheckoutUnavailable
from tests.factories import make_account, make_department
from tests.stripe_fixtures import SECRET_KEY, WEBHOOK_SECRET, free_port, press

SUCCESS = "http://127.0.0.1:5000/pay/return/x?session={CHECKOUT_SESSION_ID}"
CANCEL = "http://127.0.0.1:5000/pay/amount"


@pytest.fixture
def checkout(app):
    account = make_account(email="payer@example.com")
    invoice = ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number="INV-SI1",
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
        description="Trade waste",
        lines=[ledger.LineInput("Collections", 1, 12_000)],
        actor=SYSTEM,
    )
    return invoice, card_payments.begin_checkout(
        CheckoutRequest(
            account.id,
            [(invoice.id, 4_500)],
            submission_key=card_payments.new_submission_key(),
            receipt_email=account.email,
        ),
        SYSTEM,
    )


def payments(db):
    db.session.expire_all()
    return db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.kind == "payment")).all()


def test_a_payment_whose_webhook_never_came_is_settled_by_reconciliation(
    checkout, gateway, receiver, db
):
    invoice, row = checkout
    opened = card_payments.open_checkout(row.id, gateway, success_url=SUCCESS, cancel_url=CANCEL)
    assert opened.status == CheckoutStatus.OPEN
    assert opened.provider_session_url.startswith(gateway.api_base)

    # The payer pays; the provider's webhook goes elsewhere (lost, as far as we know).
    assert press(opened.provider_session_url, "pay").status_code == 303
    assert receiver.wait_for("checkout.session.completed")
    assert payments(db) == []

    # Too recent to chase yet; then, once old enough, the provider is asked.
    assert card_payments.reconcile_checkouts(gateway)["checked"] == 0
    counts = card_payments.reconcile_checkouts(gateway, older_than=timedelta(0))
    assert counts == {"checked": 1, "paid": 1, "refused": 0, "expired": 0, "errors": 0}
    assert balances.invoice_outstanding(invoice.id) == 12_000 - 4_500
    db.session.refresh(opened)
    assert opened.status == CheckoutStatus.PAID
    # Asking again changes nothing: the checkout is no longer open.
    assert card_payments.reconcile_checkouts(gateway, older_than=timedelta(0))["checked"] == 0
    assert len(payments(db)) == 1


def test_two_requests_opening_one_checkout_make_one_provider_session(checkout, gateway, app, db):
    _, row = checkout
    # Read here: the row belongs to this thread's session, and touching an expired
    # attribute from two threads would use that one session from both.
    checkout_id = row.id
    results, errors = [], []

    def open_it():
        with app.app_context():
            try:
                results.append(
                    card_payments.open_checkout(
                        checkout_id, gateway, success_url=SUCCESS, cancel_url=CANCEL
                    ).provider_session_id
                )
            except Exception as exc:  # reported below, not swallowed
                errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(results) == 2 and results[0] == results[1]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CardCheckout)) == 1


def test_a_session_paid_for_another_amount_than_the_checkout_is_refused_by_webhook_and_job(
    checkout, gateway, receiver, db
):
    invoice, row = checkout
    opened = card_payments.open_checkout(row.id, gateway, success_url=SUCCESS, cancel_url=CANCEL)
    # Our record and the provider's session disagree (£45.00 asked of the payer).
    db.session.execute(
        sa.update(CardCheckout).where(CardCheckout.id == row.id).values(amount_pence=4_600)
    )
    db.session.commit()
    press(opened.provider_session_url, "pay")
    (headers, body), *_ = receiver.wait_for("checkout.session.completed")

    # The reconciliation job asks the provider (as if the webhook were lost) and refuses.
    counts = card_payments.reconcile_checkouts(gateway, older_than=timedelta(0))
    # The stand-in's own signed event, applied as the webhook route would, then finds
    # the checkout held for an officer.
    event = gateway.parse_webhook(body, headers["Stripe-Signature"])
    outcome = card_payments.apply_provider_event(event)

    assert counts == {"checked": 1, "paid": 0, "refused": 1, "expired": 0, "errors": 0}
    assert "left for an officer" in outcome
    assert payments(db) == []
    assert balances.invoice_outstanding(invoice.id) == 12_000
    assert db.session.get(CardCheckout, row.id).status == CheckoutStatus.REFUSED
    assert [
        (r.event_type, r.expected_amount_pence, r.reported_amount_pence, r.reported_currency)
        for r in db.session.scalars(sa.select(RefusedCardEvent))
    ] == [("reconciliation", 4_600, 4_500, "gbp")]


def test_a_provider_outage_leaves_the_checkout_ready_to_try_again(checkout, gateway, db):
    _, row = checkout
    down = PaymentGateway(
        SECRET_KEY,
        api_base=f"http://127.0.0.1:{free_port()}",
        webhook_secret=WEBHOOK_SECRET,
        max_network_retries=0,
    )
    with pytest.raises(CheckoutUnavailable):
        card_payments.open_checkout(row.id, down, success_url=SUCCESS, cancel_url=CANCEL)
    db.session.expire_all()
    assert db.session.get(CardCheckout, row.id).status == CheckoutStatus.CREATED
    # The payer tries again once the provider is back.
    assert card_payments.open_checkout(
        row.id, gateway, success_url=SUCCESS, cancel_url=CANCEL
    ).status == (CheckoutStatus.OPEN)


def test_the_webhook_the_stand_in_sends_is_accepted_and_settles_the_payment(
    checkout, gateway, receiver, db
):
    invoice, row = checkout
    opened = card_payments.open_checkout(row.id, gateway, success_url=SUCCESS, cancel_url=CANCEL)
    press(opened.provider_session_url, "pay")
    (headers, body), *_ = receiver.wait_for("checkout.session.completed")
    event = gateway.parse_webhook(body, headers["Stripe-Signature"])
    assert card_payments.apply_provider_event(event).startswith("payment recorded")
    assert balances.invoice_outstanding(invoice.id) == 12_000 - 4_500
