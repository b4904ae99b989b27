"""Before a debtor sends a plan, the pages say in plain words what the department's
rules would approve straight away and what an officer would need to look at; a plan
outside the rules is still sent (and referred), never refused. Served from the
policy and the debts, without JavaScript."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.models import Arrangement, ArrangementStatus
from shared.models.invoices import RecoveryStage
from shared.services import ledger
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_department, make_portal_login
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.pages import csrf_token, parse, sign_in_portal, text

pytestmark = frozen_clock
START = TODAY + timedelta(days=7)


def raise_invoice(account, department, number, pence):
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number=number,
        issue_date=TODAY - timedelta(days=60),
        due_date=TODAY - timedelta(days=30),
        description="Trade waste collections",
        lines=[ledger.LineInput("Collections", 1, pence)],
        actor=SYSTEM,
    )


@pytest.fixture
def debtor(app, db, client):
    """A signed-in debtor owing £100.00 and £500.00 to Trade waste, which has the
    default plan rules: at least £5.00 a payment, up to 12 months, an officer for
    plans over £1,000.00, income and spending asked for over £500.00."""
    department = make_department(name="Trade waste")
    account = make_account(email="debtor@example.com")
    small = raise_invoice(account, department, "INV-H1", 10_000)
    large = raise_invoice(account, department, "INV-H2", 50_000)
    sign_in_portal(client, make_portal_login(account))
    return account, small, large


def path(account, step: str) -> str:
    return f"/account/{account.reference}/plan/{step}"


def post(client, url: str, data: dict):
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data})


def choose(client, account, invoices, frequency):
    post(client, path(account, "bills"), {"invoices": [str(i.id) for i in invoices]})
    post(client, path(account, "frequency"), {"frequency": frequency})


def answer_to_check(client, account, invoices, frequency, how):
    choose(client, account, invoices, frequency)
    assert post(client, path(account, "amount"), how).status_code == 302
    day = {"start-day": START.day, "start-month": START.month, "start-year": START.year}
    post(client, path(account, "start"), {k: str(v) for k, v in day.items()})
    assert post(client, path(account, "how-to-pay"), {"route": "card"}).status_code == 302


def outlook(client, account) -> str:
    return text(parse(client.get(path(account, "check"))).select_one("#plan-outlook"))


# --- on the amount page, before the payments are chosen ------------------------------------


def test_the_amount_page_says_which_monthly_payments_are_agreed_straight_away(client, debtor):
    account, small, _ = debtor
    choose(client, account, [small], "monthly")

    hint = text(parse(client.get(path(account, "amount"))).select_one("#what-we-can-agree"))

    # £100.00 in at most 12 monthly payments: at least £8.34 each (12 x £8.34 >= £100).
    assert (
        "We can set up a plan as soon as you send it if you pay at least £8.34 each time, "
        "or in no more than 12 payments" in hint
    )
    assert "Each payment must be at least £5.00, and a plan can last up to 12 months" in hint
    assert "you can still send your plan. An officer will look at it" in hint
    assert "income and spending" not in hint


def test_weekly_payments_are_held_to_the_minimum_payment_not_the_length(client, debtor):
    account, small, _ = debtor
    choose(client, account, [small], "weekly")

    hint = text(parse(client.get(path(account, "amount"))).select_one("#what-we-can-agree"))

    # 52 weeks fit in 12 months, but £5.00 a week pays £100.00 in 20 payments.
    assert "at least £5.00 each time, or in no more than 20 payments" in hint


def test_bills_above_the_income_and_spending_threshold_say_it_will_be_asked_for(client, debtor):
    account, small, large = debtor
    choose(client, account, [small, large], "monthly")

    hint = text(parse(client.get(path(account, "amount"))).select_one("#what-we-can-agree"))

    assert "at least £50.00 each time, or in no more than 12 payments" in hint
    assert (
        "Your bills come to more than £500.00, so we will ask about your income and spending"
        in hint
    )


def test_a_bill_with_the_legal_team_says_an_officer_looks_at_any_plan(client, debtor, db):
    account, small, _ = debtor
    db.session.execute(
        sa.update(type(small))
        .where(type(small).id == small.id)
        .values(recovery_stage=RecoveryStage.REFERRED_LEGAL)
    )
    db.session.commit()
    choose(client, account, [small], "monthly")

    hint = text(parse(client.get(path(account, "amount"))).select_one("#what-we-can-agree"))

    assert "We can set up a plan as soon as you send it" not in hint
    assert (
        "An officer will look at your plan before it is set up, because: "
        "One of the bills is with our legal team or enforcement agents" in hint
    )


# --- on the check page, before sending -------------------------------------------------------


def test_a_plan_within_the_rules_is_expected_to_be_set_up_when_sent(client, debtor):
    account, small, _ = debtor
    answer_to_check(client, account, [small], "monthly", {"how": "count", "count": "3"})

    assert outlook(client, account).startswith("Your plan is within our rules")


def test_payments_below_the_minimum_say_an_officer_will_look_and_what_would_be_agreed(
    client, debtor, db
):
    account, small, _ = debtor
    answer_to_check(client, account, [small], "weekly", {"how": "amount", "instalment": "3.00"})

    page = parse(client.get(path(account, "check")))
    said = text(page.select_one("#plan-outlook"))

    assert said.startswith("An officer will need to look at your plan")
    assert (
        "Each payment of £3.00 is less than £5.00, the smallest payment we can agree "
        "straight away" in said
    )
    assert (
        "We could set it up straight away if you pay at least £5.00 each time, "
        "or in no more than 20 payments" in said
    )
    change = page.select_one("#plan-outlook a")
    assert change["href"] == path(account, "amount")
    # Still sent, and referred to an officer rather than refused.
    assert post(client, path(account, "check"), {}).status_code == 302
    [plan] = db.session.scalars(sa.select(Arrangement)).all()
    assert plan.status == ArrangementStatus.PROPOSED


def test_a_plan_longer_than_the_longest_term_says_so_before_it_is_sent(client, debtor):
    account, small, _ = debtor
    answer_to_check(client, account, [small], "monthly", {"how": "count", "count": "18"})

    said = outlook(client, account)

    assert (
        "It would take 18 months to pay. We can agree plans of up to 12 months straight away"
        in said
    )
    assert "less than £5.00" not in said  # £5.55 a month is above the minimum
    assert "in no more than 12 payments" in said
