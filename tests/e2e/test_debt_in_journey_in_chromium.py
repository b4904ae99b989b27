"""Debt in, end to end in Chromium (issue 12): an officer creates an account and raises
an invoice; a second officer checks and issues it; the debtor pays part of it through
the portal; the bank statement line for the rest, paid by transfer, is matched."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from shared import clock
from shared.extensions import db
from shared.models import (
    DebtorAccount,
    EntryKind,
    IncomeCode,
    Invoice,
    LedgerEntry,
    OutboxMessage,
    PaymentMethod,
    StaffRole,
)
from shared.services import balances
from tests.e2e.conftest import axe_violations
from tests.e2e.test_first_pages_in_chromium import _sign_in_with_the_setup_key
from tests.factories import make_department, make_staff

pytestmark = pytest.mark.e2e
PASSWORD = "a long passphrase"


def _statement_csv(invoice_number: str, pence: int) -> str:
    """A bank CSV (docs/bank-statements.md layout) with one transfer quoting the invoice
    number the way payers type it: lower case, spaced."""
    spaced = f"{invoice_number[:3].lower()} {invoice_number[3:7]} {invoice_number[7:]}"
    pounds = f"{pence // 100}.{pence % 100:02d}"
    day = clock.today().strftime("%d/%m/%Y")
    return (
        "Date,Sort code,Account number,Bank reference,Type,Payer,Description,Debit,Credit,Balance\n"
        f"{day},60-16-13,31926819,FP-E2E-0001,FPI,MRS R WHITCOMBE,{spaced},,{pounds},{pounds}\n"
    )


def test_an_invoice_raised_checked_issued_paid_by_card_and_by_transfer(
    live_payments, page_factory, tmp_path
):
    app, base = live_payments
    with app.app_context():
        department = make_department(name="Trade Waste")
        db.session.add(
            IncomeCode(
                department_id=department.id,
                code="TW01",
                description="Commercial waste collections",
                cost_centre="C2100",
                ledger_code="L4410",
            )
        )
        db.session.commit()
        # The raiser has no invoice limit, so every invoice of theirs is checked.
        make_staff(StaffRole.OFFICER, email="raj@council.example", password=PASSWORD)
        make_staff(
            StaffRole.OFFICER,
            email="cleo@council.example",
            password=PASSWORD,
            invoice_limit_pence=500_000,
        )

    # 1. The first officer creates the account.
    raiser, raiser_problems = page_factory()
    _sign_in_with_the_setup_key(raiser, base, "raj@council.example", PASSWORD)
    raiser.get_by_role("link", name="Create an account").first.click()
    assert axe_violations(raiser) == []
    raiser.get_by_label("A person").check()
    raiser.get_by_label("First name (optional)").fill("Ruth")
    raiser.get_by_label("Last name").fill("Whitcombe")
    raiser.get_by_label("Address line 1").fill("3 Orchard Row")
    raiser.get_by_label("Town or city").fill("Borchester")
    raiser.get_by_label("Postcode").fill("bc2 7rw")
    raiser.get_by_label("Email address", exact=True).fill("ruth.whitcombe@example.com")
    raiser.get_by_label("Email", exact=True).check()
    raiser.get_by_role("button", name="Continue").click()
    raiser.wait_for_url(re.compile(rf"{re.escape(base)}/backoffice/accounts/A\d{{8}}$"))
    reference = raiser.url.rsplit("/", 1)[-1]
    assert "Whitcombe" in raiser.locator("main").inner_text()

    # 2. ...and raises an invoice, which goes for checking (above their £0 limit).
    raiser.get_by_role("link", name="Raise an invoice").click()
    codes = raiser.get_by_label("Income code")
    # all_inner_texts() does not wait: wait for the new page's option first (seen failing
    # in a clean-clone run when the click's navigation was slow).
    codes.locator("option", has_text="TW01").wait_for(state="attached")
    [tw01] = [o for o in codes.locator("option").all_inner_texts() if "TW01" in o]
    codes.select_option(label=tw01)
    raiser.get_by_label("Description the debtor will read").fill(
        "Trade waste collections, December"
    )
    raiser.get_by_role("button", name="Save and continue").click()
    raiser.get_by_label("What the line is for").fill("1100 litre bin: weekly lift")
    raiser.get_by_label("Quantity").fill("4")
    raiser.get_by_label("Unit price").fill("25.00")
    raiser.get_by_label("VAT rate").select_option("standard")
    raiser.get_by_role("button", name="Add line").click()
    raiser.get_by_text("£120.00").first.wait_for()  # 4 x £25 + 20% VAT
    assert axe_violations(raiser) == []
    raiser.get_by_role("button", name="Send for checking", exact=True).click()
    raiser.locator(".govuk-notification-banner").wait_for()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Invoice)) == 0

    # 3. A second officer checks it and issues it: numbered, posted, emailed with the PDF.
    checker, checker_problems = page_factory()
    _sign_in_with_the_setup_key(checker, base, "cleo@council.example", PASSWORD)
    checker.get_by_role("link", name=re.compile("Invoices to check")).first.click()
    assert axe_violations(checker) == []
    checker.get_by_role("link", name=re.compile("Whitcombe")).first.click()
    checker.get_by_role("button", name="Issue invoice").click()
    checker.locator(".govuk-notification-banner").wait_for()
    with app.app_context():
        account = db.session.scalar(
            sa.select(DebtorAccount).where(DebtorAccount.reference == reference)
        )
        [invoice] = db.session.scalars(sa.select(Invoice)).all()
        number, invoice_id = invoice.number, invoice.id
        assert (invoice.account_id, invoice.total_pence) == (account.id, 12_000)
        [email] = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.account_id == account.id)
        ).all()
        assert email.recipient == "ruth.whitcombe@example.com"
        assert email.payload["attachment"] == {"document": "invoice", "id": invoice_id}

    # 4. The debtor pays £50 of it through the portal, by card.
    debtor, debtor_problems = page_factory()
    debtor.goto(f"{base}/")
    debtor.get_by_role("button", name="Start now").click()
    debtor.get_by_label("Invoice number or account reference").fill(number.lower())
    debtor.get_by_label("Postcode").fill("BC2 7RW")
    debtor.get_by_role("button", name="Continue").click()
    assert number in debtor.locator("main").inner_text()
    debtor.get_by_label("Pay a different amount").check()
    debtor.get_by_label("Amount to pay").fill("50")
    debtor.get_by_role("button", name="Continue to payment").click()
    debtor.get_by_role("button", name="Pay £50.00").click()
    debtor.wait_for_url(f"{base}/pay/return/**")
    debtor.get_by_text("Payment received").first.wait_for(timeout=10_000)
    with app.app_context():
        assert balances.invoice_outstanding(invoice_id) == 7_000

    # 5. The rest arrives by bank transfer; the statement line is matched to the invoice.
    statement = tmp_path / "statement.csv"
    statement.write_text(_statement_csv(number, 7_000))
    raiser.goto(f"{base}/backoffice/bank-statements")
    raiser.get_by_label(re.compile("statement", re.I)).first.set_input_files(str(statement))
    raiser.get_by_role("button", name="Import statement").click()
    raiser.locator("main").get_by_text(re.compile("Matched")).first.wait_for()
    with app.app_context():
        db.session.expire_all()
        assert balances.invoice_outstanding(invoice_id) == 0
        transfers = db.session.scalars(
            sa.select(LedgerEntry).where(
                LedgerEntry.kind == EntryKind.PAYMENT,
                LedgerEntry.method == PaymentMethod.BANK_TRANSFER,
            )
        ).all()
        assert [t.amount_pence for t in transfers] == [-7_000]

    for problems in (raiser_problems, checker_problems, debtor_problems):
        assert problems.messages == []
