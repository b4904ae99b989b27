"""A bill already paid, looked up again: it says it is paid, when, and shows its
receipt, which tells what paid the bill and nothing about who owes it; and bill
look-ups count only the failed ones towards an address's limit."""

from __future__ import annotations

from datetime import date

import pytest

from shared.models import CardCheckout, CheckoutStatus, PaymentMethod
from shared.services import ledger
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_department
from tests.frozen_clock import frozen_clock
from tests.views.pages import csrf_token, error_summary, parse, text, title

# Bills settled "in the last 12 months" are counted back from the frozen day.
pytestmark = frozen_clock
POSTCODE = "SW1A 1AA"
TOO_MANY = "You have tried too many times. Wait 15 minutes and try again"


@pytest.fixture(autouse=True)
def limiter(app, isolated_limiter):
    return isolated_limiter(app)


@pytest.fixture
def department(app):
    return make_department(name="Trade waste")


@pytest.fixture
def account(app):
    return make_account(surname="Ambridge-Pennyfeather", postcode=POSTCODE)


def raise_invoice(account, department, number, pence, due=date(2026, 1, 31)):
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number=number,
        issue_date=due.replace(day=1),
        due_date=due,
        description="Trade waste collections",
        lines=[ledger.LineInput("Collections", 1, pence)],
        actor=SYSTEM,
    )


def pay(invoice, pence, day, method=PaymentMethod.BANK_TRANSFER):
    return ledger.record_payment(
        account_id=invoice.account_id,
        amount_pence=pence,
        method=method,
        allocations=[(invoice.id, pence)],
        effective_date=day,
        actor=SYSTEM,
    )


def find(client, reference, postcode=POSTCODE, ip="127.0.0.1"):
    token = csrf_token(client, "/pay")
    return client.post(
        "/pay",
        data={"csrf_token": token, "reference": reference, "postcode": postcode},
        environ_base={"REMOTE_ADDR": ip},
    )


def summary(page, selector) -> dict[str, str]:
    rows = page.select(f"{selector} .govuk-summary-list__row")
    return {
        text(r.select_one(".govuk-summary-list__key")): text(
            r.select_one(".govuk-summary-list__value")
        )
        for r in rows
    }


# --- a bill already paid -----------------------------------------------------------------


def test_a_bill_paid_in_full_says_it_is_paid_when_and_offers_its_receipt(
    client, account, department
):
    invoice = raise_invoice(account, department, "INV-PD1", 10_000)
    pay(invoice, 4_000, date(2026, 2, 3))
    pay(invoice, 6_000, date(2026, 3, 10), method=PaymentMethod.CHEQUE)

    assert find(client, "inv-pd1").headers["Location"].endswith("/pay/amount")
    page = parse(client.get("/pay/amount"))

    assert text(page.h1) == "This bill has been paid"
    assert title(page).startswith("This bill has been paid")
    assert summary(page, "#paid-bill") == {
        "Invoice": "INV-PD1",
        "What it was for": "Trade waste collections",
        "Amount": "£100.00",
        "Paid in full on": "10 March 2026",
    }
    # Not the wording of something gone wrong, and nothing to pay with.
    assert "If you think this is wrong" not in text(page.main)
    assert page.select_one("main form") is None
    receipt_link = page.select_one('main a[href="/pay/receipt/INV-PD1"]')
    assert text(receipt_link) == "View your receipt"


def test_the_receipt_lists_what_paid_the_bill_and_nothing_about_the_debtor(
    client, account, department
):
    invoice = raise_invoice(account, department, "INV-PD1", 10_000)
    pay(invoice, 4_000, date(2026, 2, 3))
    pay(invoice, 6_000, date(2026, 3, 10), method=PaymentMethod.CHEQUE)
    find(client, "INV-PD1")

    response = client.get("/pay/receipt/inv-pd1")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = parse(response)
    assert text(page.h1) == "Receipt for invoice INV-PD1"
    assert summary(page, "#receipt") == {
        "Invoice": "INV-PD1",
        "What it was for": "Trade waste collections",
        "Invoice amount": "£100.00",
        "Paid": "£100.00",
        "Left to pay": "£0.00",
        "Paid in full on": "10 March 2026",
    }
    rows = [[text(c) for c in r.select("td")] for r in page.select("#receipt-lines tbody tr")]
    assert rows == [
        ["3 February 2026", "Bank transfer", "", "£40.00"],
        ["10 March 2026", "Cheque", "", "£60.00"],
    ]
    # The look-up proved a reference and a postcode: no name, no address.
    main = text(page.main)
    assert "Ambridge-Pennyfeather" not in main
    assert "High Street" not in main
    assert POSTCODE not in main


def test_a_card_payment_shows_its_card_payment_reference_on_the_receipt(
    client, account, department, db
):
    invoice = raise_invoice(account, department, "INV-PD1", 10_000)
    result = pay(invoice, 10_000, date(2026, 2, 3), method=PaymentMethod.CARD)
    db.session.add(
        CardCheckout(
            reference="CP-TESTRECEIPT1",
            account_id=account.id,
            amount_pence=10_000,
            allocations=[[invoice.id, 10_000]],
            status=CheckoutStatus.PAID,
            submission_key="receipt-test-1",
            payment_entry_id=result.entry.id,
        )
    )
    db.session.commit()
    find(client, "INV-PD1")

    page = parse(client.get("/pay/receipt/INV-PD1"))

    rows = [[text(c) for c in r.select("td")] for r in page.select("#receipt-lines tbody tr")]
    assert rows == [["3 February 2026", "Card (online)", "CP-TESTRECEIPT1", "£100.00"]]


def test_a_receipt_is_only_for_the_bill_the_look_up_found(client, account, department):
    paid = raise_invoice(account, department, "INV-PD1", 10_000)
    pay(paid, 10_000, date(2026, 2, 3))
    other_paid = raise_invoice(account, department, "INV-PD2", 5_000)
    pay(other_paid, 5_000, date(2026, 2, 4))
    stranger = make_account(postcode="SW1A 2AA")
    strangers = raise_invoice(stranger, department, "INV-XX1", 5_000)
    pay(strangers, 5_000, date(2026, 2, 4))

    # Nothing looked up yet: find the bill first.
    assert client.get("/pay/receipt/INV-PD1").headers["Location"].endswith("/pay")
    find(client, "INV-PD1")

    assert client.get("/pay/receipt/INV-PD1").status_code == 200
    # Another invoice of the same account was not proved by an invoice number's look-up,
    # and another account's is not found at all.
    assert client.get("/pay/receipt/INV-PD2").status_code == 404
    assert client.get("/pay/receipt/INV-XX1").status_code == 404
    assert client.get("/pay/receipt/NO-SUCH").status_code == 404


def test_an_account_with_nothing_to_pay_lists_its_bills_paid_this_year_with_receipts(
    client, account, department
):
    older = raise_invoice(account, department, "INV-PD1", 10_000, due=date(2026, 1, 31))
    pay(older, 10_000, date(2026, 2, 3))
    newer = raise_invoice(account, department, "INV-PD2", 5_000, due=date(2026, 2, 28))
    pay(newer, 5_000, date(2026, 3, 10))
    long_ago = raise_invoice(account, department, "INV-PD0", 2_000, due=date(2024, 1, 31))
    pay(long_ago, 2_000, date(2024, 2, 1))

    find(client, account.reference.lower())
    page = parse(client.get("/pay/amount"))

    assert text(page.h1) == "Your bills have been paid"
    rows = [[text(c) for c in r.select("th, td")] for r in page.select("#paid-bills tbody tr")]
    assert rows == [
        ["INV-PD2", "Trade waste collections", "£50.00", "Paid in full on 10 March 2026",
         "Receipt for INV-PD2"],
        ["INV-PD1", "Trade waste collections", "£100.00", "Paid in full on 3 February 2026",
         "Receipt for INV-PD1"],
    ]  # fmt: skip
    # The account's reference proved every bill on it.
    assert client.get("/pay/receipt/INV-PD1").status_code == 200
    assert client.get("/pay/receipt/INV-PD0").status_code == 200


def test_a_bill_cancelled_by_a_credit_note_says_so_and_offers_no_receipt(
    client, account, department
):
    invoice = raise_invoice(account, department, "INV-PD1", 10_000)
    ledger.raise_credit_note(
        invoice_id=invoice.id, amount_pence=10_000, reason="Raised in error", actor=SYSTEM
    )
    find(client, "INV-PD1")
    page = parse(client.get("/pay/amount"))

    assert text(page.h1) == "There is nothing to pay on this bill"
    assert "Invoice INV-PD1 was cancelled by a credit note on" in text(page.main)
    assert page.select_one('main a[href^="/pay/receipt/"]') is None
    assert client.get("/pay/receipt/INV-PD1").headers["Location"].endswith("/pay/amount")


def test_a_bill_owed_again_after_a_payment_was_returned_is_to_pay_again(
    client, account, department
):
    invoice = raise_invoice(account, department, "INV-PD1", 10_000)
    payment = pay(invoice, 10_000, date(2026, 2, 3))
    ledger.reverse(entry_id=payment.entry.id, reason="Cheque bounced", actor=SYSTEM)
    find(client, "INV-PD1")

    assert text(parse(client.get("/pay/amount")).h1) == "Pay your bill"
    assert client.get("/pay/receipt/INV-PD1").headers["Location"].endswith("/pay/amount")


# --- the look-up limit counts failures only ------------------------------------------------


def test_eleven_bills_found_from_one_address_all_go_through(client, account, department):
    for n in range(11):
        raise_invoice(account, department, f"INV-LK{n}", 1_000)

    for n in range(11):
        response = find(client, f"INV-LK{n}", ip="192.0.2.20")
        assert response.status_code == 302, n


def test_ten_failed_look_ups_lock_the_address_even_between_bills_found(client, account, department):
    raise_invoice(account, department, "INV-LK1", 1_000)
    for n in range(10):
        # Found bills in between never count, nor reset the count.
        assert find(client, "INV-LK1", ip="192.0.2.21").status_code == 302
        assert find(client, f"INV-NONE{n}", ip="192.0.2.21").status_code == 200

    response = find(client, "INV-LK1", ip="192.0.2.21")

    assert response.status_code == 429
    assert error_summary(parse(response)) == [(TOO_MANY, "#reference")]
    assert find(client, "INV-LK1", ip="192.0.2.22").status_code == 302
