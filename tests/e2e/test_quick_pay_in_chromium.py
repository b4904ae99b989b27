"""A member of the public pays an invoice in Chromium, through the local Stripe
stand-in's hosted page, and sees the receipt; a declined card changes nothing."""

from __future__ import annotations

from datetime import date

import pytest

from shared.extensions import db
from shared.models import CardCheckout, CheckoutStatus
from shared.services import balances, ledger
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
            number="INV00000042",
            issue_date=date(2026, 9, 1),
            due_date=date(2026, 10, 1),
            description="Trade waste, September",
            lines=[ledger.LineInput("Bin lifts", 1, 25_000)],
            actor=SYSTEM,
        )
        return inv.id


def outstanding(app, invoice_id):
    with app.app_context():
        return balances.invoice_outstanding(invoice_id)


def start_payment(page, base, amount_text):
    page.goto(f"{base}/")
    page.get_by_role("button", name="Start now").click()
    page.get_by_label("Invoice number or account reference").fill("inv 0000 0042")
    page.get_by_label("Postcode").fill("wr14pt")
    page.get_by_role("button", name="Continue").click()
    assert "INV00000042" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    page.get_by_label("Pay a different amount").check()
    page.get_by_label("Amount to pay").fill(amount_text)
    page.get_by_role("button", name="Continue to payment").click()


def test_a_payer_pays_part_of_an_invoice_and_sees_the_receipt(live_payments, invoice, page_factory):
    app, base = live_payments
    page, problems = page_factory()
    start_payment(page, base, "100.50")
    # On the provider's hosted page now.
    page.get_by_role("button", name="Pay £100.50").click()
    page.wait_for_url(f"{base}/pay/return/**")
    # The webhook landed before the redirect; a refresh would also catch it later.
    page.get_by_text("Payment received").first.wait_for(timeout=10_000)
    assert "£100.50" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    assert outstanding(app, invoice) == 25_000 - 10_050
    assert problems.messages == []


def test_a_declined_card_leaves_the_balance_unchanged(live_payments, invoice, page_factory):
    app, base = live_payments
    page, _ = page_factory()
    start_payment(page, base, "50")
    page.get_by_role("button", name="Decline (card declined)").click()
    assert "declined" in page.locator("body").inner_text().lower()
    assert outstanding(app, invoice) == 25_000
    with app.app_context():
        [checkout] = db.session.scalars(db.select(CardCheckout)).all()
        assert checkout.status in (CheckoutStatus.OPEN, CheckoutStatus.FAILED)
