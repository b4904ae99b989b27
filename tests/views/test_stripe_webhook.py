"""POST /webhooks/stripe: only correctly signed, fresh events are applied, each once."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest
import sqlalchemy as sa
import stripe

from shared.models import (
    AuditLog,
    CardCheckout,
    CheckoutStatus,
    ContactEvent,
    LedgerEntry,
    ProviderEvent,
    RefusedCardEvent,
    StaffRole,
)
from shared.services import balances, ledger
from shared.services.actors import SYSTEM
from shared.services.card_payments import CheckoutRequest, begin_checkout
from tests.factories import make_account, make_department, make_staff
from tests.views.conftest import signed_in_session
from tests.views.pages import parse, text

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
                    "amount_total": 8_000,
                    "currency": "gbp",
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
        # Signed with the right secret, but dated beyond the tolerance ahead of now.
        lambda body: signed(body, timestamp=int(time.time()) + 400),
    ],
    ids=["forged", "stale", "unsigned", "garbage", "future"],
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


def with_fields(body: bytes, **fields) -> bytes:
    event = json.loads(body)
    for key, value in fields.items():
        if key == "created":
            event["created"] = value
        else:
            event["data"]["object"][key] = value
    return json.dumps(event).encode()


def test_an_event_created_beyond_the_tolerance_in_the_future_is_refused(client, paid_event, db):
    _, invoice, body = paid_event
    future = with_fields(body, created=int(time.time()) + 400)

    response = client.post("/webhooks/stripe", data=future, headers=signed(future))

    assert response.status_code == 400
    assert ledger_payments(db) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProviderEvent)) == 0
    assert balances.invoice_outstanding(invoice.id) == 8_000


def test_a_clock_a_little_ahead_is_within_the_tolerance(client, paid_event, db):
    _, invoice, body = paid_event
    ahead = with_fields(body, created=int(time.time()) + 60)

    response = client.post(
        "/webhooks/stripe", data=ahead, headers=signed(ahead, timestamp=int(time.time()) + 60)
    )

    assert response.status_code == 200
    assert balances.invoice_outstanding(invoice.id) == 0


@pytest.mark.parametrize(
    "fields, reported",
    [
        ({"amount_total": 100}, "£1.00"),
        ({"currency": "usd"}, "8,000 (minor units)"),
        ({"amount_total": None}, "amount not stated"),
    ],
    ids=["amount", "currency", "no-amount"],
)
def test_a_paid_event_that_is_not_the_checkouts_amount_is_refused_and_shown_to_an_officer(
    client, paid_event, db, fields, reported
):
    account, invoice, body = paid_event
    mismatched = with_fields(body, **fields)

    # Five deliveries: acknowledged (so the provider stops), applied once, posted never.
    for _ in range(5):
        response = client.post("/webhooks/stripe", data=mismatched, headers=signed(mismatched))
        assert response.status_code == 200
        assert response.get_json()["outcome"].startswith(("refused", "duplicate event: refused"))

    db.session.expire_all()
    assert ledger_payments(db) == []
    assert balances.invoice_outstanding(invoice.id) == 8_000
    checkout = db.session.scalar(sa.select(CardCheckout))
    assert checkout.status == CheckoutStatus.REFUSED
    refused = db.session.scalars(sa.select(RefusedCardEvent)).all()
    assert [(r.event_id, r.checkout_id, r.expected_amount_pence) for r in refused] == [
        ("evt_wh_1", checkout.id, 8_000)
    ]
    timeline = db.session.scalars(
        sa.select(ContactEvent.summary).where(
            ContactEvent.account_id == account.id, ContactEvent.summary.contains("refused")
        )
    ).all()
    assert len(timeline) == 1 and "Nothing was posted" in timeline[0]
    assert db.session.scalars(
        sa.select(AuditLog.account_id).where(AuditLog.action == "card_checkout.event_refused")
    ).all() == [account.id]

    officer = make_staff(role=StaffRole.OFFICER)
    signed_in_session(client, officer)
    page = parse(client.get("/backoffice/unallocated"))
    links = [a["href"] for a in page.select("a") if text(a) == "Refused card payments"]
    assert links == ["/backoffice/payments/refused-card-events"]
    listing = client.get(links[0])
    assert listing.status_code == 200
    row = text(parse(listing).select_one(f"#refused-{refused[0].id}"))
    assert account.reference in row and checkout.reference in row
    assert "£80.00 GBP" in row and reported in row


def test_a_matching_payment_after_a_refused_one_is_still_left_for_an_officer(
    client, paid_event, db
):
    account, invoice, body = paid_event
    short = with_fields(body, amount_total=100)
    client.post("/webhooks/stripe", data=short, headers=signed(short))
    again = json.loads(with_fields(body, amount_total=8_000))
    again["id"] = "evt_wh_2"
    again = json.dumps(again).encode()

    response = client.post("/webhooks/stripe", data=again, headers=signed(again))

    assert response.status_code == 200
    assert "left for an officer" in response.get_json()["outcome"]
    assert ledger_payments(db) == []
    assert balances.invoice_outstanding(invoice.id) == 8_000
