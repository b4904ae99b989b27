"""The paperless Direct Debit sign-up the issue names, in Chromium, with and without
JavaScript: a signed-in debtor starts from the account page, types an account number
that fails modulus checking and is told so on the field, says another signatory is
needed and is sent to the paper form, comes back as the only signatory, checks the
answers (the account masked, the Direct Debit Guarantee shown), confirms, and sees the
mandate reference; the account page then shows the Direct Debit. axe runs on every
page of the way (in the pass with JavaScript: axe is a script)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from shared import clock
from shared.extensions import db
from shared.models import (
    Channel,
    Mandate,
    MandateSource,
    MandateStatus,
    OutboxMessage,
    PortalUser,
    PortalUserAccount,
)
from shared.services import ledger
from shared.services.actors import SYSTEM
from tests.e2e.conftest import axe_violations
from tests.factories import make_account, make_department

pytestmark = pytest.mark.e2e

EMAIL = "dee.debit@example.com"
PASSWORD = "a long enough password"
SORT_CODE, ACCOUNT_NUMBER = "08-99-99", "66374958"  # a spec test pair that passes
MISTYPED = "66374959"  # one digit out: fails the modulus check


def _accessible(page) -> None:
    page.wait_for_load_state()
    assert axe_violations(page) == [], page.url


def _loaded(page) -> None:
    page.wait_for_load_state()


def _debtor_with_a_bill(app) -> str:
    today = clock.today()  # a live server on real time: see tests/frozen_clock.py
    with app.app_context():
        account = make_account(surname="Debit", postcode="DD1 1DD", email=EMAIL)
        ledger.raise_invoice(
            account_id=account.id,
            department_id=make_department(name="Trade waste").id,
            number="INV00000913",
            issue_date=today - timedelta(days=5),
            due_date=today + timedelta(days=25),
            description="Trade waste collection",
            lines=[ledger.LineInput("Bins", 1, 12_000)],
            actor=SYSTEM,
        )
        user = PortalUser(email=EMAIL, password_hash=generate_password_hash(PASSWORD))
        db.session.add(user)
        db.session.flush()
        db.session.add(
            PortalUserAccount(
                portal_user_id=user.id, account_id=account.id, verified_via=Channel.EMAIL
            )
        )
        db.session.commit()
        return account.reference


def _bank_details(page, account_number: str) -> None:
    page.get_by_label("Name on the account").fill("Dee Debit")
    page.get_by_label("Sort code").fill(SORT_CODE)
    page.get_by_label("Account number").fill(account_number)
    page.get_by_role("button", name="Continue").click()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_debtor_sets_up_a_direct_debit_online_and_sees_it_on_the_account(
    live_server, page_factory, javascript
):
    app, base = live_server
    reference = _debtor_with_a_bill(app)
    page, problems = page_factory(javascript=javascript)
    # axe is a script: the pass without JavaScript checks the journey works, not axe.
    accessible = _accessible if javascript else _loaded
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{base}/account/{reference}")
    accessible(page)
    assert "You have no Direct Debit set up" in page.locator("main").inner_text()

    # Start: what it pays, the council's details and the Guarantee.
    page.locator("#set-up-direct-debit").click()
    accessible(page)
    assert page.locator("#direct-debit-guarantee").is_visible()
    page.get_by_label("Bills on this account as they fall due").check()
    page.get_by_role("button", name="Continue").click()

    # Bank details: a mistyped account number is refused on its field, nothing kept.
    accessible(page)
    _bank_details(page, MISTYPED)
    accessible(page)
    assert page.title().startswith("Error:")
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "do not match a real bank account" in summary
    error = page.locator("#account_number-error").inner_text()
    assert "do not match a real bank account" in error
    assert MISTYPED not in summary + error  # kept in the field to correct, never in words
    _bank_details(page, ACCOUNT_NUMBER)

    # More than one signatory: the paperless route ends with the paper form.
    accessible(page)
    page.get_by_label("No").check()
    page.get_by_role("button", name="Continue").click()
    accessible(page)
    assert page.locator("h1").inner_text() == "You need a paper Direct Debit form"
    assert ACCOUNT_NUMBER not in page.content()

    # Back again as the only signatory: nothing was kept, so from the start once more.
    page.get_by_role("link", name="Back to your account").click()
    page.locator("#set-up-direct-debit").click()
    page.get_by_label("Bills on this account as they fall due").check()
    page.get_by_role("button", name="Continue").click()
    accessible(page)
    assert page.get_by_label("Account number").input_value() == ""
    _bank_details(page, ACCOUNT_NUMBER)
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Continue").click()

    # Check your answers: masked, with the Guarantee; then confirm.
    accessible(page)
    answers = page.locator("#answers").inner_text()
    assert "DEE DEBIT" in answers and "****58" in answers
    assert ACCOUNT_NUMBER not in page.content() and "089999" not in page.content()
    assert page.locator("#direct-debit-guarantee").is_visible()
    page.get_by_role("button", name="Confirm and set up the Direct Debit").click()

    accessible(page)
    assert page.locator(".govuk-panel__title").inner_text() == "Your Direct Debit is set up"
    shown = page.locator("#mandate-reference").inner_text()
    with app.app_context():
        [mandate] = db.session.scalars(sa.select(Mandate)).all()
        assert (mandate.reference, mandate.status, mandate.source) == (
            shown,
            MandateStatus.PENDING_SUBMISSION,
            MandateSource.PORTAL,
        )
        assert mandate.collects_invoices and mandate.account_ending == "58"
        assert db.session.scalar(
            sa.select(OutboxMessage.id).where(OutboxMessage.template == "dd_mandate_confirmation")
        )

    page.get_by_role("link", name="Back to your account").click()
    accessible(page)
    direct_debit = page.locator("main").inner_text()
    assert shown in direct_debit and "Ending 58" in direct_debit
    # The refused bank details answered 400, as every refused form does; nothing else.
    assert [m for m in problems.messages if "status of 400" not in m] == []
