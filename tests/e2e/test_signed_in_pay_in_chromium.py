"""A signed-in debtor pays part of two invoices in one card payment, in Chromium,
through the local Stripe stand-in's hosted page, and sees the receipt and the
new balances on their account page; with JavaScript off as well."""

from __future__ import annotations

from datetime import date

import pytest
from werkzeug.security import generate_password_hash

from shared.extensions import db
from shared.models import Channel, LedgerEntry, PortalUser, PortalUserAccount
from shared.services import balances, ledger
from shared.services.actors import SYSTEM
from tests.e2e.conftest import axe_violations
from tests.factories import make_account, make_department

pytestmark = pytest.mark.e2e

EMAIL = "pat.debtor@example.com"
PASSWORD = "a long enough password"


@pytest.fixture
def debtor(live_payments):
    """A login linked to an account with two open invoices (£250 and £80)."""
    app, _ = live_payments
    with app.app_context():
        account = make_account(postcode="WR1 4PT")
        department = make_department()
        invoices = [
            ledger.raise_invoice(
                account_id=account.id,
                department_id=department.id,
                number=number,
                issue_date=date(2026, 9, 1),
                due_date=due,
                description=what,
                lines=[ledger.LineInput(what, 1, pence)],
                actor=SYSTEM,
            ).id
            for number, due, what, pence in (
                ("INV00000101", date(2026, 10, 1), "Trade waste, September", 25_000),
                ("INV00000102", date(2026, 11, 1), "Garden waste, October", 8_000),
            )
        ]
        user = PortalUser(email=EMAIL, password_hash=generate_password_hash(PASSWORD))
        db.session.add(user)
        db.session.flush()
        db.session.add(
            PortalUserAccount(
                portal_user_id=user.id, account_id=account.id, verified_via=Channel.EMAIL
            )
        )
        db.session.commit()
        return {"account": account.id, "reference": account.reference, "invoices": invoices}


def accessible(page, javascript=True) -> bool:
    # axe runs as a script in the page, so only where scripts run (the JavaScript
    # run of each journey checks the same pages).
    if javascript:
        page.wait_for_load_state()
        assert axe_violations(page) == [], page.url
    return True


def sign_in_and_open_pay_page(page, base, javascript=True):
    page.goto(f"{base}/sign-in")
    assert accessible(page, javascript)
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    main = page.locator("main")
    assert "£330.00" in main.inner_text()
    assert accessible(page, javascript)
    page.get_by_role("link", name="Pay now").first.click()
    page.wait_for_url("**/pay")
    assert accessible(page, javascript)


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_signed_in_debtor_pays_part_of_two_invoices_and_sees_the_new_balances(
    live_payments, debtor, page_factory, javascript
):
    app, base = live_payments
    page, problems = page_factory(javascript=javascript)
    sign_in_and_open_pay_page(page, base, javascript)
    page.get_by_label("Amount to pay on invoice INV00000101").fill("100.50")
    page.get_by_label("Amount to pay on invoice INV00000102").fill("30")
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_role("button", name="Pay £130.50").click()
    page.wait_for_url(f"{base}/account/{debtor['reference']}/pay/return/**")
    page.get_by_text("Payment received").first.wait_for(timeout=10_000)
    assert "£130.50" in page.locator("main").inner_text()
    assert accessible(page, javascript)

    # The payment went where the payer chose, and the account page says so.
    with app.app_context():
        first, second = debtor["invoices"]
        assert balances.invoice_outstanding(first) == 25_000 - 10_050
        assert balances.invoice_outstanding(second) == 8_000 - 3_000
        payments = db.session.scalars(
            db.select(LedgerEntry)
            .where(LedgerEntry.account_id == debtor["account"])
            .where(LedgerEntry.kind == "payment")
        ).all()
        assert [p.amount_pence for p in payments] == [-13_050]
    page.goto(f"{base}/account/{debtor['reference']}")
    main = page.locator("main").inner_text()
    assert "£199.50" in main  # 330.00 - 130.50
    assert "£149.50" in main and "£50.00" in main
    if javascript:
        assert problems.messages == []


def test_a_declined_card_leaves_a_signed_in_debtors_balances_unchanged(
    live_payments, debtor, page_factory
):
    app, base = live_payments
    page, _ = page_factory()
    sign_in_and_open_pay_page(page, base)
    page.get_by_label("Amount to pay on invoice INV00000101").fill("20")
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_role("button", name="Decline (card declined)").click()
    assert "declined" in page.locator("body").inner_text().lower()
    with app.app_context():
        assert [balances.invoice_outstanding(i) for i in debtor["invoices"]] == [25_000, 8_000]
