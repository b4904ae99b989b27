"""An officer's case-work pages in Chromium: recording a contact, holds and the diary,
used the way an officer would and scanned by axe, errors included."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared import clock
from shared.models import StaffRole
from shared.services import ledger
from shared.services.actors import SYSTEM
from tests.e2e.conftest import axe_violations
from tests.e2e.test_first_pages_in_chromium import _sign_in_with_the_setup_key
from tests.factories import make_account, make_department, make_staff

pytestmark = pytest.mark.e2e


def test_an_officer_records_a_call_places_and_lifts_a_hold_and_sees_the_diary(
    live_server, page_factory
):
    app, base = live_server
    today = clock.today()  # a live server on real time: see tests/frozen_clock.py
    with app.app_context():
        make_staff(StaffRole.OFFICER, email="olly@council.example", password="a long passphrase")
        account = make_account(surname="Archer")
        ledger.raise_invoice(
            account_id=account.id,
            department_id=make_department().id,
            number="INV00000123",
            issue_date=today - timedelta(days=30),
            due_date=today - timedelta(days=2),
            description="Trade waste",
            lines=[ledger.LineInput("Bin lifts", 1, 9_000)],
            actor=SYSTEM,
        )
        reference = account.reference
    page, problems = page_factory()
    _sign_in_with_the_setup_key(page, base, "olly@council.example", "a long passphrase")

    page.goto(f"{base}/backoffice/accounts/{reference}/contacts/new")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Save contact").click()
    page.locator(".govuk-error-summary").wait_for()
    assert axe_violations(page) == []
    page.get_by_label("Phone call from the debtor").check()
    page.get_by_label("Summary").fill("Rang to say they will pay on Friday")
    page.get_by_label("Outcome (optional)").select_option("Promise to pay")
    page.get_by_label("Follow-up date (optional)").fill(today.strftime("%d/%m/%Y"))
    page.get_by_role("button", name="Save contact").click()
    page.get_by_text("Contact saved to the account's timeline").wait_for()

    page.goto(f"{base}/backoffice/accounts/{reference}/holds/new")
    assert axe_violations(page) == []
    page.get_by_label("Promise to pay").check()
    page.get_by_label("Date they promised to pay by").fill(
        (today + timedelta(days=4)).strftime("%d/%m/%Y")
    )
    page.get_by_label("Amount they promised to pay").fill("90")
    page.get_by_label("Reason").fill("Payday on Friday")
    page.get_by_role("button", name="Place hold").click()
    page.get_by_text("Promise to pay hold placed").wait_for()
    assert "In force" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    page.goto(f"{base}/backoffice/accounts/{reference}")
    # The flag's badge (shown in capitals by MOJ's stylesheet, so its text content).
    flags = page.locator("ul[aria-label=Flags] .moj-badge").all_text_contents()
    assert "Promise to pay hold" in flags
    assert axe_violations(page) == []
    page.get_by_role("link", name="Holds").click()
    page.get_by_label("Why is the hold being lifted?").fill("Paid early")
    page.get_by_role("button", name="Lift hold").click()
    page.get_by_text("Hold lifted").wait_for()
    assert "Lifted" in page.locator("main").inner_text()

    page.goto(f"{base}/backoffice/diary")
    assert axe_violations(page) == []
    # The hold placed after the call counts as something further: nothing is due.
    assert "Nothing is due." in page.locator("main").inner_text()
    assert problems.messages == []
