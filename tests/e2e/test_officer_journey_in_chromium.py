"""The back-office journey the issue names, in Chromium: an officer signs in with a
TOTP code, finds a debtor, records a call with a promise to pay, places a hold and
requests a write-off above their limit; a team leader approves it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared import clock
from shared.extensions import db
from shared.models import ApprovalRequest, ApprovalStatus, EntryKind, LedgerEntry, StaffRole
from shared.services import balances, ledger
from shared.services.actors import SYSTEM
from tests.e2e.conftest import axe_violations
from tests.e2e.test_first_pages_in_chromium import _sign_in_with_the_setup_key
from tests.factories import make_account, make_department, make_staff

pytestmark = pytest.mark.e2e
PASSWORD = "a long passphrase"


def test_an_officer_works_a_case_and_a_team_leader_approves_the_write_off(
    live_server, page_factory
):
    app, base = live_server
    today = clock.today()  # a live server on real time: see tests/frozen_clock.py
    with app.app_context():
        make_staff(
            StaffRole.OFFICER,
            email="olly@council.example",
            password=PASSWORD,
            write_off_limit_pence=1_000,
        )
        make_staff(
            StaffRole.TEAM_LEADER,
            email="tess@council.example",
            password=PASSWORD,
            write_off_limit_pence=100_000,
        )
        account = make_account(surname="Fairbrother", postcode="AM1 2BR")
        invoice = ledger.raise_invoice(
            account_id=account.id,
            department_id=make_department().id,
            number="INV00000321",
            issue_date=today - timedelta(days=90),
            due_date=today - timedelta(days=60),
            description="Care contribution",
            lines=[ledger.LineInput("Care", 1, 48_000)],
            actor=SYSTEM,
        )
        reference, invoice_id = account.reference, invoice.id

    officer, problems = page_factory()
    _sign_in_with_the_setup_key(officer, base, "olly@council.example", PASSWORD)
    # Find the debtor by surname.
    officer.get_by_label("Find a debtor").fill("fairbro")
    officer.get_by_role("button", name="Search").click()
    assert axe_violations(officer) == []
    assert "Fairbrother" in officer.locator("main").inner_text()
    officer.get_by_role("link", name=reference).click()
    officer.wait_for_url(f"{base}/backoffice/accounts/{reference}")

    # A call with a promise to pay.
    officer.get_by_role("link", name="Record a contact").click()
    officer.get_by_label("Phone call from the debtor").check()
    officer.get_by_label("Summary").fill("Will pay £100 on Friday, can't pay the rest")
    officer.get_by_label("Outcome (optional)").select_option("Promise to pay")
    officer.get_by_role("button", name="Save contact").click()
    officer.get_by_text("Contact saved to the account's timeline").wait_for()

    # A hold for the promise.
    officer.get_by_role("link", name="Holds").click()
    officer.get_by_role("button", name="Place a hold").click()
    officer.get_by_label("Promise to pay").check()
    officer.get_by_label("Date they promised to pay by").fill(
        (today + timedelta(days=4)).strftime("%d/%m/%Y")
    )
    officer.get_by_label("Amount they promised to pay").fill("100")
    officer.get_by_label("Reason").fill("Promised on the phone")
    officer.get_by_role("button", name="Place hold").click()
    officer.get_by_text("Promise to pay hold placed").wait_for()

    # A write-off above the officer's £10 limit goes to a team leader.
    officer.goto(f"{base}/backoffice/accounts/{reference}/invoices")
    officer.get_by_role("link", name="Write off").first.click()
    assert axe_violations(officer) == []
    officer.get_by_label("Uneconomical to pursue").check()
    officer.get_by_label("Amount to write off").fill("380")
    officer.get_by_label("Reason").fill("Balance after the promised payment is not worth pursuing")
    officer.get_by_role("button", name="Write off").click()
    officer.locator(".govuk-notification-banner").wait_for()
    with app.app_context():
        [request] = db.session.scalars(sa.select(ApprovalRequest)).all()
        assert request.status == ApprovalStatus.PENDING
        assert balances.invoice_outstanding(invoice_id) == 48_000

    leader, leader_problems = page_factory()
    _sign_in_with_the_setup_key(leader, base, "tess@council.example", PASSWORD)
    leader.get_by_role("link", name="Approvals").click()
    assert axe_violations(leader) == []
    assert "£380.00" in leader.locator("main").inner_text()
    # One decision per request: choose Approve, then Continue.
    leader.get_by_label("Approve", exact=True).check()
    leader.get_by_role("button", name="Continue").click()
    leader.locator(".govuk-notification-banner").wait_for()

    with app.app_context():
        db.session.expire_all()
        assert db.session.get(ApprovalRequest, request.id).status == ApprovalStatus.APPROVED
        assert balances.invoice_outstanding(invoice_id) == 48_000 - 38_000
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(LedgerEntry.kind == EntryKind.WRITE_OFF)
            )
            == 1
        )
    assert problems.messages == [] and leader_problems.messages == []
