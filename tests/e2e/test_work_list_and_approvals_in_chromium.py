"""The back-office home as a work list and the approvals decision in Chromium (issue
16): a team leader's home lists their work and the team's totals, each row a link
that opens its queue, axe-clean; on the approvals queue the reason appears only when
Reject is chosen (with JavaScript), and without JavaScript it is simply shown and a
rejection without one is refused with the error summary."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.extensions import db
from shared.models import ApprovalRequest, ApprovalStatus, StaffRole
from tests.e2e.conftest import axe_violations
from tests.e2e.test_case_work_components_in_chromium import _debt_written_off_in_part
from tests.e2e.test_first_pages_in_chromium import _sign_in_with_the_setup_key
from tests.factories import make_staff

pytestmark = pytest.mark.e2e
PASSWORD = "a long passphrase"


def _a_leader_and_a_waiting_write_off(app) -> None:
    with app.app_context():
        make_staff(
            StaffRole.TEAM_LEADER,
            email="tess@council.example",
            password=PASSWORD,
            write_off_limit_pence=100_000,
        )
        officer = make_staff(StaffRole.OFFICER, write_off_limit_pence=1_000)
        _debt_written_off_in_part(officer.id, "Archer", 15_000)


def _status(app) -> ApprovalStatus:
    with app.app_context():
        db.session.expire_all()
        return db.session.scalars(sa.select(ApprovalRequest.status)).one()


def test_a_team_leaders_home_is_their_work_list_and_rejecting_reveals_the_reason(
    live_server, page_factory
):
    app, base = live_server
    _a_leader_and_a_waiting_write_off(app)
    page, problems = page_factory()
    _sign_in_with_the_setup_key(page, base, "tess@council.example", PASSWORD)

    mine = page.locator("table#work-mine")
    row = mine.locator("tr", has_text="for you to approve")
    assert row.locator("td").inner_text().strip() == "1"
    assert page.locator("table#work-team").is_visible()
    assert page.get_by_label("Find a debtor").is_visible()
    assert axe_violations(page) == []

    row.get_by_role("link").click()
    page.wait_for_url(f"{base}/backoffice/approvals")
    reason = page.get_by_label("Why are you rejecting it?")
    assert not reason.is_visible()
    assert axe_violations(page) == []
    page.get_by_label("Reject", exact=True).check()
    assert reason.is_visible()
    assert axe_violations(page) == []
    reason.fill("Try a payment plan first")
    page.get_by_role("button", name="Continue").click()
    page.locator(".govuk-notification-banner").wait_for()

    assert _status(app) == ApprovalStatus.REJECTED
    assert problems.messages == []


def test_without_javascript_the_reason_is_shown_and_a_rejection_needs_one(
    live_server, page_factory
):
    app, base = live_server
    _a_leader_and_a_waiting_write_off(app)
    page, _ = page_factory(javascript=False)
    _sign_in_with_the_setup_key(page, base, "tess@council.example", PASSWORD)
    page.goto(f"{base}/backoffice/approvals")

    assert page.get_by_label("Why are you rejecting it?").is_visible()
    page.get_by_label("Reject", exact=True).check()
    page.get_by_role("button", name="Continue").click()

    summary = page.locator(".govuk-error-summary")
    assert "Enter why the request is rejected" in summary.inner_text()
    assert _status(app) == ApprovalStatus.PENDING
    page.get_by_label("Approve", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    page.locator(".govuk-notification-banner").wait_for()
    assert _status(app) == ApprovalStatus.APPROVED
