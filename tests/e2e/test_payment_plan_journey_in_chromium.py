"""The instalment-plan journey the issue names, in Chromium: a debtor proposes a plan
with an income and expenditure statement, policy refers it, an officer counter-offers
different terms, the debtor accepts them, and the account page shows the plan.
axe runs on every page of the way."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from shared import clock
from shared.extensions import db
from shared.models import (
    Arrangement,
    ArrangementStatus,
    Channel,
    Instalment,
    OutboxMessage,
    PortalUser,
    PortalUserAccount,
    StaffRole,
)
from shared.services import ledger
from shared.services.actors import SYSTEM
from tests.e2e.conftest import axe_violations
from tests.e2e.test_first_pages_in_chromium import _sign_in_with_the_setup_key
from tests.factories import make_account, make_department, make_staff

pytestmark = pytest.mark.e2e

EMAIL = "sam.debtor@example.com"
PASSWORD = "a long enough password"
STAFF_PASSWORD = "a long passphrase"


def accessible(page) -> None:
    page.wait_for_load_state()
    assert axe_violations(page) == [], page.url


def test_a_referred_plan_is_counter_offered_accepted_and_shown_on_the_account(
    live_server, page_factory
):
    app, base = live_server
    today = clock.today()  # a live server on real time: see tests/frozen_clock.py
    start = today + timedelta(days=7)
    with app.app_context():
        make_staff(StaffRole.OFFICER, email="olly@council.example", password=STAFF_PASSWORD)
        account = make_account(surname="Archer", postcode="AM2 3CD", email=EMAIL)
        # £900 in all: above the default policy's £500, so income and spending is asked for.
        ledger.raise_invoice(
            account_id=account.id,
            department_id=make_department(name="Adult social care").id,
            number="INV00000777",
            issue_date=today - timedelta(days=60),
            due_date=today - timedelta(days=30),
            description="Care contribution",
            lines=[ledger.LineInput("Care", 1, 90_000)],
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
        reference = account.reference

    # The debtor proposes 18 monthly payments: longer than the 12-month policy allows.
    debtor, debtor_problems = page_factory()
    debtor.goto(f"{base}/sign-in")
    debtor.get_by_label("Email address").fill(EMAIL)
    debtor.get_by_label("Password", exact=True).fill(PASSWORD)
    debtor.get_by_role("button", name="Sign in").click()
    debtor.get_by_role("link", name="Set up a payment plan").click()
    accessible(debtor)
    assert debtor.get_by_role("checkbox").first.is_checked()
    debtor.get_by_role("button", name="Continue").click()
    accessible(debtor)
    debtor.get_by_label("Monthly").check()
    debtor.get_by_role("button", name="Continue").click()
    accessible(debtor)
    debtor.get_by_label("Choose how many payments to make").check()
    debtor.get_by_label("Number of payments").fill("18")
    debtor.get_by_role("button", name="Continue").click()
    accessible(debtor)
    debtor.get_by_label("Day").fill(str(start.day))
    debtor.get_by_label("Month").fill(str(start.month))
    debtor.get_by_label("Year").fill(str(start.year))
    debtor.get_by_role("button", name="Continue").click()
    # Income and spending, as the Standard Financial Statement lays it out.
    accessible(debtor)
    debtor.get_by_label("Wages or salary").fill("1,450")
    debtor.get_by_label("Rent", exact=True).fill("650")
    debtor.get_by_label("Council Tax", exact=True).fill("120")
    debtor.get_by_role("button", name="Continue").click()
    accessible(debtor)
    debtor.get_by_label("Debit or credit card").check()
    debtor.get_by_role("button", name="Continue").click()
    # Check your answers: every payment, the total, and what is left over each month.
    accessible(debtor)
    main = debtor.locator("main").inner_text()
    assert "£900.00" in main and "£50.00" in main and "£680.00" in main
    debtor.get_by_role("button", name="Send").click()
    assert debtor.locator(".govuk-panel__title").inner_text() == "We have your proposal"
    accessible(debtor)
    with app.app_context():
        [plan] = db.session.scalars(sa.select(Arrangement)).all()
        assert plan.status == ArrangementStatus.PROPOSED
        assert [r["rule"] for r in plan.policy_rules if not r["passed"]] == ["length"]
        plan_id = plan.id

    # The officer finds it on the queue, sees why it was referred, and offers 12 payments.
    officer, officer_problems = page_factory()
    _sign_in_with_the_setup_key(officer, base, "olly@council.example", STAFF_PASSWORD)
    officer.get_by_role("link", name="Payment plans").first.click()
    accessible(officer)
    officer.get_by_role("link", name=f"({reference})", exact=False).click()
    officer.wait_for_url(f"{base}/backoffice/plans/{plan_id}")
    accessible(officer)
    assert "Adult social care" in officer.locator("main").inner_text()
    officer.get_by_label("Monthly").check()
    officer.get_by_label("Number of payments").fill("12")
    officer.get_by_label("First payment date").fill(start.strftime("%d/%m/%Y"))
    officer.get_by_label("Why are you offering different terms?").fill(
        "Twelve months is the longest plan we agree for care contributions"
    )
    officer.get_by_role("button", name="Make counter-offer").click()
    officer.wait_for_url(f"{base}/backoffice/plans")
    with app.app_context():
        db.session.expire_all()
        assert db.session.get(Arrangement, plan_id).status == ArrangementStatus.COUNTER_OFFERED

    # The debtor sees the offer beside their own terms and accepts it.
    debtor.goto(f"{base}/account/{reference}")
    debtor.get_by_role("link", name="See our offer and accept or decline it").click()
    accessible(debtor)
    offer = debtor.locator("main").inner_text()
    assert "Twelve months is the longest plan" in offer and "£75.00" in offer
    debtor.get_by_role("button", name="Accept these terms").click()
    debtor.goto(f"{base}/account/{reference}")
    accessible(debtor)
    assert "Active" in debtor.locator("main").inner_text()

    with app.app_context():
        db.session.expire_all()
        plan = db.session.get(Arrangement, plan_id)
        assert plan.status == ArrangementStatus.ACTIVE
        amounts = db.session.scalars(
            sa.select(Instalment.amount_pence).where(Instalment.arrangement_id == plan_id)
        ).all()
        assert amounts == [7_500] * 12
        templates = db.session.scalars(
            sa.select(OutboxMessage.template).order_by(OutboxMessage.id)
        ).all()
        assert templates == ["plan_received", "plan_counter_offer", "plan_active"]
    assert debtor_problems.messages == [] and officer_problems.messages == []
