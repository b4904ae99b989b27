"""A payer pays a bill in full in Chromium, looks it up again, is told it is paid and
when, and opens its receipt with the card payment's reference; axe runs on both
pages."""

from __future__ import annotations

from datetime import date

import pytest

from shared.extensions import db
from shared.models import CardCheckout
from shared.services import ledger
from shared.services.actors import SYSTEM
from tests.e2e.conftest import axe_violations
from tests.factories import make_account, make_department

pytestmark = pytest.mark.e2e


@pytest.fixture
def invoice(live_payments):
    app, _ = live_payments
    with app.app_context():
        account = make_account(postcode="WR1 4PT")
        inv = ledger.raise_invoice(
            account_id=account.id,
            department_id=make_department().id,
            number="INV00000043",
            issue_date=date(2026, 9, 1),
            due_date=date(2026, 10, 1),
            description="Trade waste, September",
            lines=[ledger.LineInput("Bin lifts", 1, 25_000)],
            actor=SYSTEM,
        )
        return inv.id


def find_bill(page, base):
    page.goto(f"{base}/pay")
    page.get_by_label("Invoice number or account reference").fill("INV00000043")
    page.get_by_label("Postcode").fill("WR1 4PT")
    page.get_by_role("button", name="Continue").click()


def test_a_bill_paid_in_full_and_looked_up_again_says_paid_and_shows_the_receipt(
    live_payments, invoice, page_factory
):
    app, base = live_payments
    page, problems = page_factory()
    find_bill(page, base)
    page.get_by_label("Pay the full amount").check()
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_role("button", name="Pay £250.00").click()
    page.wait_for_url(f"{base}/pay/return/**")
    page.get_by_text("Payment received").first.wait_for(timeout=10_000)
    with app.app_context():
        [checkout] = db.session.scalars(db.select(CardCheckout)).all()
        reference = checkout.reference

    # Looked up again, later.
    find_bill(page, base)
    main = page.locator("main").inner_text()
    assert page.locator("h1").inner_text() == "This bill has been paid"
    assert "There is nothing to pay" not in main
    assert "£250.00" in main
    assert axe_violations(page) == []

    page.get_by_role("link", name="View your receipt").click()
    assert page.locator("h1").inner_text() == "Receipt for invoice INV00000043"
    receipt = page.locator("#receipt-lines").inner_text()
    assert "Card (online)" in receipt
    assert reference in receipt
    assert axe_violations(page) == []
    assert problems.messages == []
