"""POST /webhooks/stripe: only correctly signed, fresh events are applied, each once."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest
import sqlalchemy as sa
import stripe

from shared.models import CheckoutStatus, LedgerEntry, ProviderEvent
from shared.services import balances, ledger
from shared.services.actors import SYSTEM
from shared.services.card_payments import CheckoutRequest, begin_checkout
from tests.factories import make_account, make_department

SECRET = "whsec_local_development"  # the test config's STRIPE_WEBHOOK_SECRET (the default)


def signed(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=timestamp or int(time.time())
    )
    return {"Stripe-Signature": header, "Content-Type": "application/json"}


@pytest.fixture
def paid_event(app, db):
    account = make_account()
    invoice = ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number="INV-WH1",
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
        description="Licence",
        lines=[ledger.LineInput("Licence", 1, 8_000)],
        actor=SYSTEM,
    )
    checkout = begin_checkout(
        CheckoutRequest(account.id, [(invoice.id, 8_000)], submission_key="wh"), SYSTEM
    )
    checkout.status = CheckoutStatus.OPEN
    checkout.provider_session_id = "cs_test_wh"
    checkout.provider_payment_id = "pi_test_wh"
    db.session.commit()
    body = json.dumps(
        {
            "id": "evt_wh_1",
            "object": "event",
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "object": "checkout.session",
                    "id": "cs_test_wh",
                    "payment_status": "paid",
                    "payment_intent": "pi_test_wh",
                    "metadata": {"checkout_reference": checkout.reference},
                }
            },
        }
    ).encode()
    return account, invoice, body


def ledger_payments(db):
    db.session.expire_all()
    return db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.kind == "payment")).all()


def test_a_signed_completed_checkout_records_the_payment(client, paid_event, db):
    account, invoice, body = paid_event
    response = client.post("/webhooks/stripe", data=body, headers=signed(body))
    assert response.status_code == 200
    assert response.get_json()["outcome"].startswith("payment recorded")
    assert balances.invoice_outstanding(invoice.id) == 0
    assert len(ledger_payments(db)) == 1


def test_the_same_delivery_five_times_is_one_payment(client, paid_event, db):
    _, _, body = paid_event
    codes = [
        client.post("/webhooks/stripe", data=body, headers=signed(body)).status_code
        for _ in range(5)
    ]
    assert codes == [200] * 5
    assert len(ledger_payments(db)) == 1


@pytest.mark.parametrize(
    "headers",
    [
        lambda body: signed(body, secret="whsec_someone_else"),
        lambda body: signed(body, timestamp=int(time.time()) - 301),  # replayed after 5 minutes
        lambda body: {"Content-Type": "application/json"},  # unsigned
        lambda body: {"Stripe-Signature": "t=1,v1=deadbeef"},
    ],
    ids=["forged", "stale", "unsigned", "garbage"],
)
def test_forged_stale_or_unsigned_webhooks_are_refused_and_change_nothing(
    client, paid_event, db, headers
):
    _, invoice, body = paid_event
    response = client.post("/webhooks/stripe", data=body, headers=headers(body))
    assert response.status_code == 400
    assert ledger_payments(db) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProviderEvent)) == 0
    assert balances.invoice_outstanding(invoice.id) == 8_000


def test_a_body_altered_after_signing_is_refused(client, paid_event, db):
    _, _, body = paid_event
    headers = signed(body)
    tampered = body.replace(b"INV", b"INV").replace(b'"paid"', b'"paid" ')
    assert client.post("/webhooks/stripe", data=tampered, headers=headers).status_code == 400
    assert ledger_payments(db) == []


def test_unknown_event_types_are_acknowledged_and_ignored(client, app, db):
    body = json.dumps(
        {
            "id": "evt_other",
            "object": "event",
            "type": "customer.updated",
            "data": {"object": {"object": "customer", "id": "cus_1"}},
        }
    ).encode()
    response = client.post("/webhooks/stripe", data=body, headers=signed(body))
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "ignored"


def test_the_webhook_needs_no_csrf_token_but_pages_still_do(client, app):
    # The signature authenticates the provider; a browser form post is still refused.
    assert (
        client.post("/backoffice/sign-in", data={"email": "a@b.c", "password": "x"}).status_code
        == 400
    )
