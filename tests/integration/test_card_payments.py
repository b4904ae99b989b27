"""Card checkouts: what the payer chose is checked, and the provider's events
put the money on the ledger exactly once, whatever their number or order."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
import sqlalchemy as sa

from shared.models import (
    CardCheckout,
    CheckoutStatus,
    LedgerEntry,
    OutboxMessage,
    ProviderEvent,
    RefusedCardEvent,
)
from shared.reports.reconciliation import ledger_discrepancies
from shared.services import balances, card_payments, ledger
from shared.services.actors import SYSTEM
from shared.services.card_payments import CheckoutRequest, apply_provider_event, begin_checkout
from shared.services.errors import InvalidRequest
from tests.factories import make_account, make_department

_ids = itertools.count(1)


@pytest.fixture
def account_with_two_invoices(app):
    account = make_account(email="payer@example.com")
    department = make_department()
    invoices = [
        ledger.raise_invoice(
            account_id=account.id,
            department_id=department.id,
            number=f"INV-CP{n}",
            issue_date=date(2026, 1, 1),
            due_date=date(2026, 1, 31),
            description="Trade waste",
            lines=[ledger.LineInput("Collections", 1, pence)],
            actor=SYSTEM,
        )
        for n, pence in ((1, 10_000), (2, 5_000))
    ]
    return account, invoices


def open_checkout_row(account, allocations, key="k1"):
    checkout = begin_checkout(
        CheckoutRequest(account.id, allocations, submission_key=key, receipt_email=account.email),
        SYSTEM,
    )
    # What open_checkout stores once the provider has made a session.
    checkout.status = CheckoutStatus.OPEN
    checkout.provider_session_id = f"cs_test_{checkout.id}"
    checkout.provider_payment_id = f"pi_test_{checkout.id}"
    from shared.extensions import db

    db.session.commit()
    return checkout


def event(kind, checkout, **fields):
    if kind.startswith("payment_intent."):
        obj = {
            "object": "payment_intent",
            "id": checkout.provider_payment_id,
            "amount": checkout.amount_pence,
            "currency": "gbp",
            "metadata": {"checkout_reference": checkout.reference},
        }
    else:
        obj = {
            "object": "checkout.session",
            "id": checkout.provider_session_id,
            "payment_intent": checkout.provider_payment_id,
            "payment_status": "paid",
            "amount_total": checkout.amount_pence,
            "currency": "gbp",
            "metadata": {"checkout_reference": checkout.reference},
        }
    obj.update(fields)
    return {"id": f"evt_{next(_ids)}", "type": kind, "data": {"object": obj}}


def payments(db):
    return db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.kind == "payment")).all()


def test_a_paid_checkout_is_recorded_against_the_invoices_the_payer_chose(
    account_with_two_invoices, db
):
    account, (first, second) = account_with_two_invoices
    checkout = open_checkout_row(account, [(first.id, 2_500), (second.id, 1_000)])
    outcome = apply_provider_event(event("checkout.session.completed", checkout))
    assert outcome.startswith("payment recorded")
    assert balances.invoice_outstanding(first.id) == 7_500
    assert balances.invoice_outstanding(second.id) == 4_000
    db.session.refresh(checkout)
    assert checkout.status == CheckoutStatus.PAID
    assert [p.external_reference for p in payments(db)] == [checkout.provider_payment_id]


def test_the_same_webhook_five_times_records_one_payment_and_one_receipt(
    account_with_two_invoices, db
):
    account, (first, _) = account_with_two_invoices
    checkout = open_checkout_row(account, [(first.id, 3_000)])
    completed = event("checkout.session.completed", checkout)
    outcomes = [apply_provider_event(completed) for _ in range(5)]
    assert outcomes[0].startswith("payment recorded")
    assert all(o.startswith("duplicate event") for o in outcomes[1:])
    assert len(payments(db)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
    assert balances.account_balance(account.id) == 15_000 - 3_000


def test_events_in_any_order_record_the_payment_once(account_with_two_invoices, db):
    account, (first, _) = account_with_two_invoices
    checkout = open_checkout_row(account, [(first.id, 3_000)])
    # The PaymentIntent's success arrives first, then the session's completion, then a failure
    # notice for an earlier declined attempt on the same session.
    apply_provider_event(event("payment_intent.succeeded", checkout))
    apply_provider_event(event("checkout.session.completed", checkout))
    apply_provider_event(
        event(
            "payment_intent.payment_failed",
            checkout,
            last_payment_error={"message": "Your card was declined."},
        )
    )
    db.session.refresh(checkout)
    assert checkout.status == CheckoutStatus.PAID
    assert len(payments(db)) == 1
    assert ledger_discrepancies() == []


def test_a_declined_card_leaves_balances_unchanged_and_can_still_be_paid_later(
    account_with_two_invoices, db
):
    account, (first, _) = account_with_two_invoices
    checkout = open_checkout_row(account, [(first.id, 3_000)])
    apply_provider_event(
        event(
            "payment_intent.payment_failed",
            checkout,
            last_payment_error={"message": "Your card was declined."},
        )
    )
    db.session.refresh(checkout)
    assert checkout.status == CheckoutStatus.FAILED
    assert checkout.failure_reason == "Your card was declined."
    assert balances.account_balance(account.id) == 15_000
    apply_provider_event(event("checkout.session.completed", checkout))
    db.session.refresh(checkout)
    assert checkout.status == CheckoutStatus.PAID


def test_a_delayed_payment_is_processing_until_it_succeeds(account_with_two_invoices, db):
    account, (first, _) = account_with_two_invoices
    checkout = open_checkout_row(account, [(first.id, 3_000)])
    apply_provider_event(event("checkout.session.completed", checkout, payment_status="unpaid"))
    db.session.refresh(checkout)
    assert checkout.status == CheckoutStatus.PROCESSING
    assert payments(db) == []
    apply_provider_event(event("checkout.session.async_payment_succeeded", checkout))
    db.session.refresh(checkout)
    assert checkout.status == CheckoutStatus.PAID


def test_money_arriving_after_the_invoice_was_paid_another_way_is_kept_as_credit(
    account_with_two_invoices, db
):
    account, (first, _) = account_with_two_invoices
    checkout = open_checkout_row(account, [(first.id, 10_000)])
    ledger.record_payment(
        account_id=account.id,
        amount_pence=9_000,
        method="bank_transfer",
        allocations=[(first.id, 9_000)],
        actor=SYSTEM,
    )
    apply_provider_event(event("checkout.session.completed", checkout))
    assert balances.invoice_outstanding(first.id) == 0
    assert balances.unallocated_credit(account.id) == 9_000
    assert ledger_discrepancies() == []


def test_unknown_event_types_and_unknown_checkouts_are_acknowledged_and_change_nothing(app, db):
    assert (
        apply_provider_event({"id": "evt_x", "type": "customer.created", "data": {"object": {}}})
        == "ignored"
    )
    other = {
        "id": "evt_y",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "object": "checkout.session",
                "id": "cs_unknown",
                "payment_status": "paid",
                "payment_intent": "pi_unknown",
                "metadata": {},
            }
        },
    }
    assert "ignored" in apply_provider_event(other)
    assert payments(db) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProviderEvent)) == 2


@pytest.mark.parametrize(
    "choice, message",
    [
        (lambda a, b: [(a.id, 10_001)], "only 10000p outstanding"),
        (lambda a, b: [(a.id, 0)], "more than £0"),
        (lambda a, b: [(a.id, -5)], "more than £0"),
        (lambda a, b: [(a.id, 99)], "at least £1.00"),
        (lambda a, b: [], "Choose at least one invoice"),
    ],
)
def test_impossible_choices_are_refused_before_anything_is_recorded(
    account_with_two_invoices, db, choice, message
):
    account, (first, second) = account_with_two_invoices
    with pytest.raises(InvalidRequest, match=message):
        begin_checkout(
            CheckoutRequest(account.id, choice(first, second), submission_key="bad"), SYSTEM
        )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CardCheckout)) == 0


def test_the_same_form_submitted_twice_gives_one_checkout(account_with_two_invoices, db):
    account, (first, _) = account_with_two_invoices
    request = CheckoutRequest(
        account.id, [(first.id, 2_000)], submission_key=card_payments.new_submission_key()
    )
    one = begin_checkout(request, SYSTEM)
    two = begin_checkout(request, SYSTEM)
    assert one.id == two.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CardCheckout)) == 1


def refused_events(db):
    return db.session.scalars(sa.select(RefusedCardEvent)).all()


def test_a_payment_intent_for_less_than_the_checkout_posts_nothing_and_holds_it(
    account_with_two_invoices, db
):
    account, (first, _) = account_with_two_invoices
    checkout = open_checkout_row(account, [(first.id, 3_000)])

    outcome = apply_provider_event(event("payment_intent.succeeded", checkout, amount=1))

    assert outcome.startswith("refused")
    assert payments(db) == []
    assert balances.invoice_outstanding(first.id) == 10_000
    db.session.refresh(checkout)
    assert checkout.status == CheckoutStatus.REFUSED
    [refused] = refused_events(db)
    assert (refused.reported_amount_pence, refused.reported_currency) == (1, "gbp")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    # The provider's other event for the same payment settles nothing either.
    apply_provider_event(event("checkout.session.completed", checkout))
    assert payments(db) == []


def test_a_mismatched_event_after_the_payment_was_posted_is_recorded_and_changes_no_money(
    account_with_two_invoices, db
):
    account, (first, _) = account_with_two_invoices
    checkout = open_checkout_row(account, [(first.id, 3_000)])
    apply_provider_event(event("checkout.session.completed", checkout))

    outcome = apply_provider_event(event("payment_intent.succeeded", checkout, currency="eur"))

    assert outcome.startswith("refused")
    db.session.refresh(checkout)
    assert checkout.status == CheckoutStatus.PAID
    assert len(payments(db)) == 1
    assert [r.reported_currency for r in refused_events(db)] == ["eur"]
    assert ledger_discrepancies() == []


def test_an_absurd_reported_amount_is_refused_without_an_error(account_with_two_invoices, db):
    account, (first, _) = account_with_two_invoices
    checkout = open_checkout_row(account, [(first.id, 3_000)])

    outcome = apply_provider_event(
        event("checkout.session.completed", checkout, amount_total=10**30)
    )

    assert outcome.startswith("refused")
    assert [r.reported_amount_pence for r in refused_events(db)] == [None]
