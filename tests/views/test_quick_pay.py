"""Paying a council bill without an account: find it, choose how much, pay on the
provider's page, and come back to see the payment confirmed."""

from __future__ import annotations

import itertools
import logging
import uuid
from datetime import date
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from flask import session

from shared.integrations.payments import PaymentGateway
from shared.models import CardCheckout, CheckoutStatus
from shared.ratelimit import RateLimiter, use_limiter
from shared.services import ledger
from shared.services.actors import SYSTEM
from shared.services.card_payments import CheckoutRequest, apply_provider_event, begin_checkout
from tests.factories import make_account, make_department
from tests.views.pages import csrf_token, error_summary, inline_errors, parse, text, title

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOT_FOUND = (
    "We could not find a bill with those details. "
    "Check your invoice number or account reference and postcode"
)
TOO_MANY = "You have tried too many times. Wait 15 minutes and try again"
POSTCODE = "SW1A 1AA"

_event_ids = itertools.count(1)


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def limiter(app, isolated_limiter):
    return isolated_limiter(app)


@pytest.fixture
def department(app):
    return make_department(name="Trade waste")


def raise_invoice(account, department, number, pence, due=date(2026, 1, 31)):
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number=number,
        issue_date=date(2026, 1, 1),
        due_date=due,
        description="Trade waste collections",
        lines=[ledger.LineInput("Collections", 1, pence)],
        actor=SYSTEM,
    )


@pytest.fixture
def invoice(app, department):
    """One invoice of £100.00 on an account at SW1A 1AA."""
    account = make_account(postcode=POSTCODE)
    return raise_invoice(account, department, "INV-QP1", 10_000)


@pytest.fixture
def account_with_invoices(app, department):
    """An account at SW1A 1AA with £100.00 and £50.00 to pay, and one invoice already paid."""
    account = make_account(postcode=POSTCODE)
    first = raise_invoice(account, department, "INV-QP1", 10_000, due=date(2026, 1, 31))
    second = raise_invoice(account, department, "INV-QP2", 5_000, due=date(2026, 2, 28))
    paid = raise_invoice(account, department, "INV-QP3", 2_000, due=date(2026, 3, 31))
    ledger.record_payment(
        account_id=account.id,
        amount_pence=2_000,
        method="bank_transfer",
        allocations=[(paid.id, 2_000)],
        actor=SYSTEM,
    )
    return account, [first, second]


@pytest.fixture
def gateway(app, gateway):
    """The suite's gateway to the local Stripe stand-in, installed for the pay pages."""
    app.extensions["payment_gateway"] = gateway
    return gateway


# --- helpers -------------------------------------------------------------------------


def find(client, reference, postcode, ip="127.0.0.1"):
    token = csrf_token(client, "/pay")
    return client.post(
        "/pay",
        data={"csrf_token": token, "reference": reference, "postcode": postcode},
        environ_base={"REMOTE_ADDR": ip},
    )


def amount_form(client) -> dict[str, str]:
    """The hidden fields of the pay form as rendered (CSRF token, submission key)."""
    page = parse(client.get("/pay/amount"))
    return {
        field["name"]: field["value"]
        for field in page.select("main form input[type=hidden]")
        if field.get("value")
    }


def pay(client, **fields):
    return client.post("/pay/amount", data={**amount_form(client), **fields})


def checkouts(db) -> list[CardCheckout]:
    return db.session.scalars(sa.select(CardCheckout).order_by(CardCheckout.id)).all()


def provider_event(kind, checkout, **fields):
    """A provider event about `checkout`, using the ids open_checkout stored on the row."""
    if kind.startswith("payment_intent."):
        obj = {"object": "payment_intent", "id": checkout.provider_payment_id}
        obj.update(amount=checkout.amount_pence, currency="gbp")
    else:
        obj = {
            "object": "checkout.session",
            "id": checkout.provider_session_id,
            "payment_intent": checkout.provider_payment_id,
            "payment_status": "paid",
            "amount_total": checkout.amount_pence,
            "currency": "gbp",
        }
    obj["metadata"] = {"checkout_reference": checkout.reference}
    obj.update(fields)
    return {"id": f"evt_qp_{next(_event_ids)}", "type": kind, "data": {"object": obj}}


# --- finding the bill ----------------------------------------------------------------


def test_the_find_page_asks_for_a_reference_with_a_hint_and_a_postcode(client):
    response = client.get("/pay")

    assert response.status_code == 200
    page = parse(response)
    assert title(page).startswith("Find your bill – ")
    form = page.select_one("main form")
    assert form["method"] == "post"
    assert form["action"] == "/pay"
    assert form.select_one('input[type="hidden"][name="csrf_token"]')["value"]
    assert text(page.select_one('label[for="reference"]')) == "Invoice number or account reference"
    assert text(page.select_one("#reference-hint")) == (
        "This is on your invoice or letter, like INV12345678 or A12345678"
    )
    assert text(page.select_one('label[for="postcode"]')) == "Postcode"
    assert page.select_one("input#postcode")["autocomplete"] == "postal-code"


def test_a_bill_is_found_by_invoice_number_and_postcode_typed_in_any_case_and_spacing(
    client, invoice
):
    with client:
        response = find(client, " inv-qp 1 ", "sw1a1aa")

        assert response.status_code == 302
        assert response.headers["Location"] == "/pay/amount"
        # Which account and invoices, and nothing about the debtor.
        assert session["quick_pay"] == {
            "account_id": invoice.account_id,
            "invoice_ids": [invoice.id],
        }


def test_an_account_reference_finds_the_accounts_invoices_that_are_still_to_pay(
    client, account_with_invoices
):
    account, (first, second) = account_with_invoices
    with client:
        response = find(client, account.reference.lower(), "SW1A  1AA")

        assert response.status_code == 302
        assert session["quick_pay"]["invoice_ids"] == [first.id, second.id]

    page = parse(client.get("/pay/amount"))
    rows = [text(row.select_one("th")) for row in page.select("main tbody tr")]
    assert rows == ["INV-QP1", "INV-QP2"]
    assert text(page.select_one(f'label[for="amount_{first.id}"]')) == (
        "Amount to pay on invoice INV-QP1"
    )
    assert page.select_one(f"input#amount_{second.id}") is not None
    # No address, no name: only what is needed to pay.
    assert "High Street" not in text(page.main)
    assert account.surname not in text(page.main)


def test_an_unknown_reference_and_a_wrong_postcode_get_the_same_page(client, invoice):
    unknown = find(client, "INV-NOPE", POSTCODE)
    wrong_postcode = find(client, "INV-QP1", "SW1A 2AA")

    assert unknown.status_code == wrong_postcode.status_code == 200
    pages = [parse(unknown), parse(wrong_postcode)]
    for page in pages:
        assert title(page).startswith("Error: Find your bill")
        assert error_summary(page) == [(NOT_FOUND, "#reference")]
        assert inline_errors(page) == {"reference": NOT_FOUND}
    assert text(pages[0].main).replace("INV-NOPE", "").replace(POSTCODE, "") == (
        text(pages[1].main).replace("INV-QP1", "").replace("SW1A 2AA", "")
    )


def test_submitting_nothing_asks_for_the_reference_and_the_postcode(client):
    page = parse(find(client, "", "  "))

    assert title(page).startswith("Error: Find your bill")
    assert error_summary(page) == [
        ("Enter your invoice number or account reference", "#reference"),
        ("Enter your postcode", "#postcode"),
    ]
    assert inline_errors(page) == {
        "reference": "Enter your invoice number or account reference",
        "postcode": "Enter your postcode",
    }


@pytest.mark.parametrize("postcode", ["12345", "SW1A", "SW1A 1AAA", "not a postcode"])
def test_a_postcode_that_is_not_a_uk_postcode_is_explained(client, invoice, postcode):
    page = parse(find(client, "INV-QP1", postcode))

    assert error_summary(page) == [("Enter a real postcode", "#postcode")]
    assert inline_errors(page) == {"postcode": "Enter a real postcode"}


def test_the_11th_lookup_from_one_ip_address_within_15_minutes_is_refused(client, invoice):
    for n in range(10):
        assert find(client, f"INV-NONE{n}", POSTCODE, ip="192.0.2.7").status_code == 200

    with client:
        response = find(client, "INV-QP1", POSTCODE, ip="192.0.2.7")

        assert response.status_code == 429
        assert "quick_pay" not in session  # nothing was looked up
    page = parse(response)
    assert title(page).startswith("Error: Find your bill")
    assert error_summary(page) == [(TOO_MANY, "#reference")]
    # Someone else is not held up.
    assert find(client, "INV-QP1", POSTCODE, ip="192.0.2.8").status_code == 302


def test_wrong_postcodes_from_other_addresses_never_lock_the_real_payer_out(client, invoice):
    for n in range(8):
        page = parse(find(client, "inv-qp1", "SW1A 2AA", ip=f"198.51.100.{n + 1}"))
        assert error_summary(page) == [(NOT_FOUND, "#reference")]

    # The payer, at their own address, with the right postcode.
    assert find(client, "INV-QP1", POSTCODE, ip="203.0.113.5").status_code == 302


def test_the_6th_lookup_of_one_reference_from_one_address_after_5_wrong_postcodes_is_refused(
    client, invoice
):
    for _ in range(5):
        page = parse(find(client, "inv-qp1", "SW1A 2AA", ip="198.51.100.1"))
        assert error_summary(page) == [(NOT_FOUND, "#reference")]

    # Even with the right postcode: this address is locked out of this reference.
    with client:
        response = find(client, "INV-QP1", POSTCODE, ip="198.51.100.1")

        assert response.status_code == 429
        assert "quick_pay" not in session
    assert error_summary(parse(response)) == [(TOO_MANY, "#reference")]
    # Another reference from that address is still looked up (until the address's own
    # limit), and the payer elsewhere is not held up.
    assert find(client, "INV-OTHER", POSTCODE, ip="198.51.100.1").status_code == 200
    assert find(client, "INV-QP1", POSTCODE, ip="203.0.113.5").status_code == 302


def test_bills_found_from_one_address_do_not_count_towards_its_limit(client, invoice):
    # A council office or a shared connection: many payers, one address.
    for _ in range(15):
        assert find(client, "INV-QP1", POSTCODE, ip="192.0.2.9").status_code == 302


def test_bills_can_still_be_found_when_redis_is_down(app, client, invoice, caplog, monkeypatch):
    # Alembic's fileConfig (run by the migrations before this test) disables loggers
    # that already existed, this one included.
    monkeypatch.setattr(logging.getLogger("shared.ratelimit"), "disabled", False)
    # Port 1: nothing listens there, so every Redis call fails at once.
    use_limiter(app, RateLimiter.from_url("redis://127.0.0.1:1/0"))

    response = find(client, "INV-QP1", POSTCODE)

    assert response.status_code == 302
    assert "Redis unavailable" in caplog.text


# --- choosing how much to pay --------------------------------------------------------


def test_the_amount_page_without_a_bill_found_sends_you_to_find_your_bill(client):
    response = client.get("/pay/amount")

    assert response.status_code == 302
    assert response.headers["Location"] == "/pay"


def test_one_invoice_offers_the_full_amount_or_a_different_amount(client, invoice):
    find(client, "INV-QP1", POSTCODE)
    response = client.get("/pay/amount")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = parse(response)
    assert title(page).startswith("Pay your bill – ")
    row = [text(cell) for cell in page.select("main tbody tr")[0].select("th, td")]
    assert row == ["INV-QP1", "Trade waste collections", "31 January 2026", "£100.00"]
    labels = [text(label) for label in page.select(".govuk-radios__label")]
    assert labels == ["Pay the full amount (£100.00)", "Pay a different amount"]
    # The amount box sits in a conditional reveal that is in the page without JavaScript.
    assert page.select_one(".govuk-radios__conditional input#amount[name=amount]") is not None
    form = page.select_one("main form")
    assert form["action"] == "/pay/amount"
    assert form.select_one("input[name=submission_key]")["value"]
    assert form.select_one("input[name=csrf_token]")["value"]


def test_choosing_neither_option_asks_how_much_to_pay(client, invoice, db):
    find(client, "INV-QP1", POSTCODE)
    page = parse(pay(client))

    assert title(page).startswith("Error: Pay your bill")
    assert error_summary(page) == [("Select how much you want to pay", "#choice")]
    assert checkouts(db) == []


@pytest.mark.parametrize(
    "typed, message",
    [
        ("100.01", "Amount must be £100.00 or less"),
        ("0", "Amount must be more than £0"),
        ("-5", "Amount must be more than £0"),
        ("ten pounds", "Amount must be a number, like 123.45"),
        ("12.345", "Amount must not have more than 2 decimal places, like 123.45"),
        ("0.99", "Amount must be £1.00 or more"),
        ("", "Enter an amount"),
    ],
)
def test_a_different_amount_that_cannot_be_paid_is_explained_and_nothing_is_recorded(
    client, invoice, db, typed, message
):
    find(client, "INV-QP1", POSTCODE)
    response = pay(client, choice="other", amount=typed)

    assert response.status_code == 200
    page = parse(response)
    assert title(page).startswith("Error: Pay your bill")
    assert error_summary(page) == [(message, "#amount")]
    assert inline_errors(page) == {"amount": message}
    # What was typed is kept, and the reveal stays open.
    assert page.select_one("input#amount")["value"] == typed
    assert page.select_one("input[name=choice][value=other]").has_attr("checked")
    assert checkouts(db) == []


def test_an_amount_typed_with_the_full_amount_chosen_is_ignored(client, invoice, db, gateway):
    # Without JavaScript the amount box is always visible; only "different" reads it.
    find(client, "INV-QP1", POSTCODE)
    response = pay(client, choice="full", amount="not a number")

    assert response.status_code == 303
    assert [c.amount_pence for c in checkouts(db)] == [10_000]


@pytest.mark.parametrize(
    "amounts, field, message",
    [
        (("", ""), 0, "Enter an amount for at least one invoice"),
        (("0", "0.00"), 0, "Enter an amount for at least one invoice"),
        (("", "50.01"), 1, "Amount must be £50.00 or less"),
        (("-1", "10"), 0, "Amount must be more than £0"),
        (("0.50", "0.30"), 0, "The total must be £1.00 or more"),
        (("", "0.50"), 1, "The total must be £1.00 or more"),
    ],
)
def test_amounts_for_several_invoices_that_cannot_be_paid_are_explained(
    client, account_with_invoices, db, amounts, field, message
):
    account, invoices = account_with_invoices
    find(client, account.reference, POSTCODE)
    names = [f"amount_{invoice.id}" for invoice in invoices]
    page = parse(pay(client, **dict(zip(names, amounts, strict=True))))

    assert title(page).startswith("Error: Pay your bill")
    assert error_summary(page) == [(message, f"#{names[field]}")]
    assert inline_errors(page) == {names[field]: message}
    assert checkouts(db) == []


def test_a_receipt_email_address_in_the_wrong_format_is_explained(client, invoice, db):
    find(client, "INV-QP1", POSTCODE)
    page = parse(pay(client, choice="full", receipt_email="payer.example.com"))

    message = "Enter an email address in the correct format, like name@example.com"
    assert error_summary(page) == [(message, "#receipt_email")]
    assert checkouts(db) == []


def test_a_bill_already_paid_says_it_is_paid_and_takes_no_payment(client, invoice):
    # What the paid page shows: tests/views/test_quick_pay_paid_bills.py.
    ledger.record_payment(
        account_id=invoice.account_id,
        amount_pence=10_000,
        method="bank_transfer",
        allocations=[(invoice.id, 10_000)],
        actor=SYSTEM,
    )
    find(client, "INV-QP1", POSTCODE)
    page = parse(client.get("/pay/amount"))

    assert text(page.h1) == "This bill has been paid"
    assert page.select_one("main form") is None


# --- paying ----------------------------------------------------------------------------


def test_a_valid_payment_goes_to_the_providers_hosted_page_with_an_open_checkout(
    client, invoice, db, gateway, base_url
):
    find(client, "INV-QP1", POSTCODE)
    response = pay(client, choice="other", amount="£25.50", receipt_email=" payer@example.com ")

    assert response.status_code == 303
    [checkout] = checkouts(db)
    assert checkout.status == CheckoutStatus.OPEN
    assert checkout.amount_pence == 2_550
    assert checkout.allocations == [[invoice.id, 2_550]]
    assert checkout.receipt_email == "payer@example.com"
    assert response.headers["Location"] == checkout.provider_session_url
    assert checkout.provider_session_url.startswith(f"{base_url}/checkout/cs_test_")
    # The provider has the session, for the amount chosen.
    session_ = gateway.retrieve_checkout_session(checkout.provider_session_id)
    assert (session_.status, session_.amount_total) == ("open", 2_550)
    # The hosted page is there for the payer's browser.
    assert requests.get(checkout.provider_session_url, timeout=10).status_code == 200


def test_several_invoices_are_paid_in_one_checkout_with_the_amounts_chosen(
    client, account_with_invoices, db, gateway
):
    account, (first, second) = account_with_invoices
    find(client, account.reference, POSTCODE)
    response = pay(client, **{f"amount_{first.id}": "", f"amount_{second.id}": "50"})

    assert response.status_code == 303
    [checkout] = checkouts(db)
    assert (checkout.amount_pence, checkout.allocations) == (5_000, [[second.id, 5_000]])


def test_the_same_pay_form_submitted_twice_makes_one_checkout(client, invoice, db, gateway):
    find(client, "INV-QP1", POSTCODE)
    fields = {**amount_form(client), "choice": "full"}

    one = client.post("/pay/amount", data=fields)
    two = client.post("/pay/amount", data=fields)

    assert one.status_code == two.status_code == 303
    assert one.headers["Location"] == two.headers["Location"]
    assert len(checkouts(db)) == 1


def test_an_old_copy_of_the_form_changed_and_sent_again_is_a_new_checkout(
    client, invoice, db, gateway
):
    # The payer went Back from the provider's page and chose a different amount.
    find(client, "INV-QP1", POSTCODE)
    fields = amount_form(client)
    client.post("/pay/amount", data={**fields, "choice": "full"})
    client.post("/pay/amount", data={**fields, "choice": "other", "amount": "10"})

    assert [c.amount_pence for c in checkouts(db)] == [10_000, 1_000]


def test_the_pay_form_sent_again_after_paying_shows_that_payment_instead_of_a_new_one(
    client, invoice, db, gateway
):
    find(client, "INV-QP1", POSTCODE)
    fields = {**amount_form(client), "choice": "other", "amount": "10"}
    client.post("/pay/amount", data=fields)
    [checkout] = checkouts(db)
    apply_provider_event(provider_event("checkout.session.completed", checkout))

    again = client.post("/pay/amount", data=fields)

    assert again.status_code == 302
    assert again.headers["Location"] == f"/pay/return/{checkout.reference}"
    assert len(checkouts(db)) == 1


def test_when_card_payments_are_not_working_the_payer_is_told_and_nothing_is_charged(
    app, client, invoice, db
):
    # A real gateway with nothing listening at its address.
    app.extensions["payment_gateway"] = PaymentGateway(
        "sk_test_local", api_base="http://127.0.0.1:1", max_network_retries=0, timeout=2
    )
    find(client, "INV-QP1", POSTCODE)
    response = pay(client, choice="full")

    assert response.status_code == 503
    page = parse(response)
    assert text(page.h1) == "Sorry, card payments are not working right now"
    assert "Try again later or call 0300 123 4567" in text(page.main)
    [checkout] = checkouts(db)
    # Released so the payer can try again; no provider session, no payment.
    assert checkout.status == CheckoutStatus.CREATED
    assert checkout.provider_session_id is None


# --- coming back from the provider ---------------------------------------------------


def _pay_in_full(client, db, email=None) -> CardCheckout:
    find(client, "INV-QP1", POSTCODE)
    fields = {"choice": "full"}
    if email:
        fields["receipt_email"] = email
    assert pay(client, **fields).status_code == 303
    [checkout] = checkouts(db)
    return checkout


def test_a_return_page_for_a_payment_started_in_another_browser_is_not_found(
    app, client, invoice, db, gateway
):
    other_browser = app.test_client()
    checkout = _pay_in_full(other_browser, db)

    assert client.get(f"/pay/return/{checkout.reference}").status_code == 404
    assert other_browser.get(f"/pay/return/{checkout.reference}").status_code == 200
    made_elsewhere = begin_checkout(
        CheckoutRequest(invoice.account_id, [(invoice.id, 500)], uuid.uuid4().hex), SYSTEM
    )
    assert other_browser.get(f"/pay/return/{made_elsewhere.reference}").status_code == 404


def test_the_return_page_says_we_are_confirming_until_the_payment_is_recorded(
    client, invoice, db, gateway
):
    checkout = _pay_in_full(client, db)

    response = client.get(f"/pay/return/{checkout.reference}")

    assert response.status_code == 200
    page = parse(response)
    assert text(page.h1) == "We are confirming your payment"
    assert page.select_one('meta[http-equiv="refresh"]')["content"] == "3"
    assert "This page will update" in text(page.main)
    refresh = page.select_one(f'main a[href="/pay/return/{checkout.reference}"]')
    assert text(refresh) == "Check again"
    # The browser coming back records nothing: only the webhook does.
    db.session.refresh(checkout)
    assert checkout.status == CheckoutStatus.OPEN
    assert checkout.payment_entry_id is None


def test_the_return_page_says_payment_received_once_the_webhook_has_recorded_it(
    client, invoice, db, gateway
):
    checkout = _pay_in_full(client, db, email="payer@example.com")
    apply_provider_event(provider_event("checkout.session.completed", checkout))

    page = parse(client.get(f"/pay/return/{checkout.reference}"))

    assert title(page).startswith("Payment received – ")
    panel = page.select_one(".govuk-panel--confirmation")
    assert text(panel.select_one(".govuk-panel__title")) == "Payment received"
    assert "£100.00" in text(panel)
    # Real markup, not escaped tags shown to the payer.
    assert text(panel.select_one(".govuk-panel__body strong")) == checkout.reference
    assert "<" not in text(panel)
    assert "We have sent a receipt to payer@example.com" in text(page.main)
    assert page.select_one('meta[http-equiv="refresh"]') is None


def test_a_declined_payment_says_it_was_not_taken_and_offers_to_try_again(
    client, invoice, db, gateway
):
    checkout = _pay_in_full(client, db)
    apply_provider_event(
        provider_event(
            "payment_intent.payment_failed",
            checkout,
            last_payment_error={"message": "Your card was declined."},
        )
    )

    page = parse(client.get(f"/pay/return/{checkout.reference}"))

    assert text(page.h1) == "Your payment was not taken"
    assert "Your card was declined." in text(page.main)
    assert page.select_one('main a[href="/pay/amount"]') is not None
