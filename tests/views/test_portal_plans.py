"""'Set up a payment plan': a signed-in debtor chooses bills, how often, how much and
when, gives their income and spending when policy asks, chooses how to pay, checks
the schedule and sends it; and answers an officer's counter-offer."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from shared.models import (
    Arrangement,
    ArrangementStatus,
    Frequency,
    IncomeExpenditureStatement,
    PaymentRoute,
    StaffRole,
)
from shared.services import actors, ledger, plans
from shared.services.actors import SYSTEM
from tests.factories import (
    make_account,
    make_department,
    make_portal_login,
    make_staff,
)
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.pages import (
    csrf_token,
    error_summary,
    inline_errors,
    parse,
    sign_in_portal,
    text,
    title,
)

pytestmark = frozen_clock
START = TODAY + timedelta(days=7)


# --- fixtures and helpers --------------------------------------------------------------


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
def debtor(app, db):
    """One account owing £100.00 and £500.00 (together above the default I&E threshold)."""
    department = make_department(name="Trade waste")
    account = make_account(email="debtor@example.com")
    small = raise_invoice(account, department, "INV-P1", 10_000)
    large = raise_invoice(account, department, "INV-P2", 50_000)
    user = make_portal_login(account)
    return account, small, large, user


@pytest.fixture
def signed_in(client, debtor):
    sign_in_portal(client, debtor[3])
    return client


def path(account, step: str) -> str:
    return f"/account/{account.reference}/plan/{step}"


def post(client, url: str, data: dict):
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data})


def start_fields(day: date) -> dict:
    return {"start-day": str(day.day), "start-month": str(day.month), "start-year": str(day.year)}


def answer_up_to_start(client, account, invoice_ids, *, frequency="monthly", how=None):
    """Bills, frequency, amount and date; returns the response to the date page."""
    how = how or {"how": "count", "count": "3"}
    assert post(client, path(account, "bills"), {"invoices": [str(i) for i in invoice_ids]})
    post(client, path(account, "frequency"), {"frequency": frequency})
    response = post(client, path(account, "amount"), how)
    assert response.status_code == 302, text(parse(response))
    return post(client, path(account, "start"), start_fields(START))


def arrangements(db):
    db.session.expire_all()
    return db.session.scalars(sa.select(Arrangement)).all()


# --- the whole journey -----------------------------------------------------------------


def test_the_whole_journey_makes_an_active_plan_and_shows_the_schedule_with_the_odd_pence(
    db, signed_in, debtor
):
    account, small, large, _ = debtor
    page = parse(signed_in.get(path(account, "bills")))
    assert title(page).startswith("Which bills do you want to include?")
    # Every plannable bill is ticked to begin with.
    assert {i["value"] for i in page.select("input[name=invoices][checked]")} == {
        str(small.id),
        str(large.id),
    }

    response = answer_up_to_start(signed_in, account, [small.id])
    # £100 is under the I&E threshold: straight on to how to pay.
    assert response.headers["Location"].endswith("/plan/how-to-pay")
    response = post(signed_in, path(account, "how-to-pay"), {"route": "card"})
    assert response.headers["Location"].endswith("/plan/check")

    page = parse(signed_in.get(path(account, "check")))
    rows = [[text(c) for c in r.select("td")] for r in page.select("#schedule tbody tr")]
    assert [r[2] for r in rows] == ["£33.33", "£33.33", "£33.34"]
    assert rows[0][1] == f"{START.day} {START:%B %Y}"
    assert "£100.00" in text(page.select_one("#schedule tfoot"))
    assert "Payment 3, the last, is £33.34: it carries the odd pence" in text(
        page.select_one("#odd-pence")
    )
    assert "INV-P1" in text(page.select_one("#answers"))

    response = post(signed_in, path(account, "check"), {})
    assert response.status_code == 302
    [plan] = arrangements(db)
    assert plan.status == ArrangementStatus.ACTIVE
    assert plan.payment_route == PaymentRoute.CARD
    assert [d.invoice_id for d in plan.debts] == [small.id]
    assert response.headers["Location"].endswith(f"/plan/{plan.id}/confirmation")
    page = parse(signed_in.get(response.headers["Location"]))
    assert text(page.select_one(".govuk-panel__title")) == "Your payment plan is set up"
    assert "reminder with a link to pay" in text(page.select_one("main"))


def test_a_plan_outside_policy_is_referred_and_shown_as_waiting_on_the_account_page(
    db, signed_in, debtor
):
    account, small, _, _ = debtor
    # 24 monthly payments is longer than the default 12 months: an officer decides.
    answer_up_to_start(signed_in, account, [small.id], how={"how": "count", "count": "20"})
    post(signed_in, path(account, "how-to-pay"), {"route": "direct_debit"})
    response = post(signed_in, path(account, "check"), {})
    [plan] = arrangements(db)
    assert plan.status == ArrangementStatus.PROPOSED
    assert plan.payment_route == PaymentRoute.DIRECT_DEBIT
    page = parse(signed_in.get(response.headers["Location"]))
    assert text(page.select_one(".govuk-panel__title")) == "We have your proposal"

    page = parse(signed_in.get(f"/account/{account.reference}"))
    assert "Waiting for a decision" in text(page.select_one("[data-plan-state=proposed]"))
    # The other bill can still go in a plan.
    assert page.select_one("#set-up-plan") is not None


def test_the_account_page_offers_no_new_plan_once_every_bill_is_in_one(db, signed_in, debtor):
    account, small, large, _ = debtor
    plans.propose(
        account_id=account.id,
        invoice_ids=[small.id, large.id],
        terms=plans.Terms(Frequency.MONTHLY, START, count=20),
        payment_route=PaymentRoute.CARD,
        actor=SYSTEM,
        ie_statement_id=plans.save_statement(
            account_id=account.id, amounts={"wages": 150_000}, actor=SYSTEM, submit=True
        ).id,
        today=TODAY,
    )

    page = parse(signed_in.get(f"/account/{account.reference}"))

    assert "Waiting for a decision" in text(page.select_one("[data-plan-state=proposed]"))
    assert page.select_one("#set-up-plan") is None


def test_the_direct_debit_choice_says_it_is_set_up_online_after_sending_the_plan(signed_in, debtor):
    account, small, _, _ = debtor
    answer_up_to_start(signed_in, account, [small.id])
    form = text(parse(signed_in.get(path(account, "how-to-pay"))).select_one("main form"))
    assert "You cannot set up a Direct Debit online" not in form
    assert "set up the Direct Debit online" in form


# --- income and expenditure ------------------------------------------------------------


def test_income_and_spending_is_asked_for_a_large_plan_and_a_saved_draft_is_filled_in_later(
    db, signed_in, debtor
):
    account, small, large, _ = debtor
    response = answer_up_to_start(signed_in, account, [small.id, large.id])
    assert response.headers["Location"].endswith("/plan/income-and-spending")
    page = parse(signed_in.get(path(account, "income-and-spending")))
    legends = [text(legend) for legend in page.select("form legend")]
    assert legends == ["Income", "Fixed costs", "Flexible spending", "Priority debts"]
    # How to pay cannot be reached before the statement is sent.
    assert (
        signed_in.get(path(account, "how-to-pay"))
        .headers["Location"]
        .endswith("/plan/income-and-spending")
    )

    response = post(
        signed_in,
        path(account, "income-and-spending"),
        {"wages": "1,500", "rent": "500.50", "action": "save"},
    )
    assert "Your answers have been saved" in title(parse(response))
    draft = plans.latest_draft(account.id)
    assert draft.items["wages"] == 150_000 and draft.submitted_at is None

    page = parse(signed_in.get(path(account, "income-and-spending")))
    assert page.select_one("input[name=wages]")["value"] == "1,500.00"
    assert page.select_one("input[name=rent]")["value"] == "500.50"

    response = post(
        signed_in,
        path(account, "income-and-spending"),
        {"wages": "1500", "rent": "500.50", "food_housekeeping": "300", "action": "submit"},
    )
    assert response.headers["Location"].endswith("/plan/how-to-pay")
    post(signed_in, path(account, "how-to-pay"), {"route": "card"})
    page = parse(signed_in.get(path(account, "check")))
    summary = text(page.select("dl")[1])
    assert "£1,500.00 a month" in summary and "£699.50" in summary  # left over each month

    post(signed_in, path(account, "check"), {})
    [plan] = arrangements(db)
    sent = db.session.scalars(
        sa.select(IncomeExpenditureStatement).where(
            IncomeExpenditureStatement.submitted_at.is_not(None)
        )
    ).one()
    assert plan.ie_statement_id == sent.id


def test_a_bad_amount_in_the_statement_is_shown_beside_its_box(signed_in, debtor):
    account, small, large, _ = debtor
    answer_up_to_start(signed_in, account, [small.id, large.id])
    response = post(
        signed_in, path(account, "income-and-spending"), {"wages": "12.345", "action": "submit"}
    )
    page = parse(response)
    assert error_summary(page)[0][1] == "#wages"
    assert "2 decimal places" in inline_errors(page)["wages"]


# --- each page's validation ------------------------------------------------------------


def test_choosing_no_bills_is_an_error(signed_in, debtor):
    account = debtor[0]
    page = parse(post(signed_in, path(account, "bills"), {}))
    assert title(page).startswith("Error:")
    assert error_summary(page) == [("Select at least one bill to include in the plan", "#invoices")]


def test_choosing_no_frequency_is_an_error(signed_in, debtor):
    account, small, _, _ = debtor
    post(signed_in, path(account, "bills"), {"invoices": [str(small.id)]})
    page = parse(post(signed_in, path(account, "frequency"), {}))
    assert error_summary(page) == [("Select how often you want to pay", "#frequency")]


@pytest.mark.parametrize(
    ("answer", "field", "message"),
    [
        ({"how": "amount", "instalment": "0.50"}, "instalment", "must be £1.00 or more"),
        ({"how": "amount", "instalment": "12.345"}, "instalment", "2 decimal places"),
        ({"how": "amount", "instalment": "100.01"}, "instalment", "must be £100.00 or less"),
        ({"how": "amount", "instalment": "ten"}, "instalment", "must be a number"),
        ({"how": "amount", "instalment": ""}, "instalment", "Enter how much"),
        ({"how": "count", "count": "2.5"}, "count", "whole number"),
        ({"how": "count", "count": "101"}, "count", "100 or fewer"),
        ({"how": "count", "count": "0"}, "count", "1 or more"),
        ({}, "how", "Select how you want to set your payments"),
    ],
)
def test_a_bad_amount_or_number_of_payments_is_shown_beside_its_box(
    signed_in, debtor, answer, field, message
):
    account, small, _, _ = debtor
    post(signed_in, path(account, "bills"), {"invoices": [str(small.id)]})
    post(signed_in, path(account, "frequency"), {"frequency": "monthly"})
    response = post(signed_in, path(account, "amount"), answer)
    page = parse(response)
    assert response.status_code == 200
    assert error_summary(page)[0][1] == f"#{field}"
    assert message in inline_errors(page)[field]


@pytest.mark.parametrize(
    ("fields", "message", "first_wrong"),
    [
        (start_fields(TODAY - timedelta(days=1)), "must be today or in the future", "day"),
        (start_fields(TODAY + timedelta(days=31)), "must be on or before", "day"),
        ({"start-day": "31", "start-month": "2", "start-year": "2030"}, "real date", "day"),
        ({"start-day": "3", "start-month": "", "start-year": "2030"}, "include a month", "month"),
        ({}, "Enter the date of first payment", "day"),
    ],
)
def test_a_first_payment_date_out_of_range_is_an_error(
    signed_in, debtor, fields, message, first_wrong
):
    account, small, _, _ = debtor
    post(signed_in, path(account, "bills"), {"invoices": [str(small.id)]})
    post(signed_in, path(account, "frequency"), {"frequency": "weekly"})
    post(signed_in, path(account, "amount"), {"how": "count", "count": "4"})
    page = parse(post(signed_in, path(account, "start"), fields))
    [(summary, link)] = error_summary(page)
    assert message in summary
    assert link == f"#start-{first_wrong}"
    assert message in text(page.select_one("#start-error"))


def test_a_later_page_sends_you_back_to_the_first_question_not_answered(signed_in, debtor):
    account = debtor[0]
    response = signed_in.get(path(account, "check"))
    assert response.headers["Location"].endswith("/plan/bills")


# --- whose plan ------------------------------------------------------------------------


def test_another_logins_account_and_plan_are_not_found(db, client, debtor):
    account, small, _, _ = debtor
    plan = plans.propose(
        account_id=account.id,
        invoice_ids=[small.id],
        terms=plans.Terms(Frequency.MONTHLY, START, count=3),
        payment_route=PaymentRoute.CARD,
        actor=SYSTEM,
    )
    other_account = make_account()
    sign_in_portal(client, make_portal_login(other_account, email="someone.else@example.com"))
    assert client.get(path(account, "bills")).status_code == 404
    assert client.get(path(account, f"{plan.id}/confirmation")).status_code == 404
    # Nor through their own account's address.
    assert client.get(path(other_account, f"{plan.id}/confirmation")).status_code == 404
    assert client.get(path(other_account, f"{plan.id}/counter-offer")).status_code == 404


# --- sending twice ---------------------------------------------------------------------


def test_sending_twice_makes_one_plan_and_shows_the_first(db, signed_in, debtor):
    account, small, _, _ = debtor
    answer_up_to_start(signed_in, account, [small.id])
    post(signed_in, path(account, "how-to-pay"), {"route": "card"})
    token = csrf_token(signed_in, path(account, "check"))
    with signed_in.session_transaction() as session:
        before_send = dict(session["payment_plan"])

    first = signed_in.post(path(account, "check"), data={"csrf_token": token})
    again = signed_in.post(path(account, "check"), data={"csrf_token": token})
    # A double click's second request carries the session from before the first finished.
    with signed_in.session_transaction() as session:
        session["payment_plan"] = before_send
    stale = signed_in.post(path(account, "check"), data={"csrf_token": token})

    [plan] = arrangements(db)
    done = f"/plan/{plan.id}/confirmation"
    for response in (first, again, stale):
        assert response.status_code == 302
        assert response.headers["Location"].endswith(done)


# --- counter-offers --------------------------------------------------------------------


@pytest.fixture
def counter_offered(db, debtor):
    account, small, _, _ = debtor
    plan = plans.propose(
        account_id=account.id,
        invoice_ids=[small.id],
        terms=plans.Terms(Frequency.MONTHLY, START, count=20),
        payment_route=PaymentRoute.CARD,
        actor=SYSTEM,
    )
    assert plan.status == ArrangementStatus.PROPOSED
    officer = make_staff(StaffRole.OFFICER)
    return plans.counter_offer(
        arrangement_id=plan.id,
        terms=plans.Terms(Frequency.MONTHLY, START, count=10),
        reason="Twelve months is our longest plan",
        actor=actors.staff(officer.id),
    )


def test_a_counter_offer_shows_the_officers_terms_and_reason_beside_the_debtors(
    signed_in, debtor, counter_offered
):
    account = debtor[0]
    page = parse(signed_in.get(f"/account/{account.reference}"))
    link = page.select_one("[data-plan-state=counter_offered] a")["href"]
    assert link == path(account, f"{counter_offered.id}/counter-offer")
    page = parse(signed_in.get(link))
    assert text(page.select_one("#reason")) == "Twelve months is our longest plan"
    terms = text(page.select_one(".govuk-summary-list"))
    assert "10 monthly payments of £10.00" in terms
    assert "20 monthly payments of £5.00" in terms
    assert len(page.select("#schedule tbody tr")) == 10


def test_accepting_a_counter_offer_makes_the_plan_active(db, signed_in, debtor, counter_offered):
    account = debtor[0]
    url = path(account, f"{counter_offered.id}/counter-offer")
    response = post(signed_in, url, {"decision": "accept"})
    assert response.headers["Location"].endswith(f"/plan/{counter_offered.id}/confirmation")
    [plan] = arrangements(db)
    assert plan.status == ArrangementStatus.ACTIVE
    page = parse(signed_in.get(response.headers["Location"]))
    assert text(page.select_one(".govuk-panel__title")) == "Your payment plan is set up"


def test_declining_a_counter_offer_cancels_the_plan_and_frees_the_bills(
    db, signed_in, debtor, counter_offered
):
    account, small, _, _ = debtor
    url = path(account, f"{counter_offered.id}/counter-offer")
    response = post(signed_in, url, {"decision": "decline"})
    assert response.headers["Location"].endswith(f"/account/{account.reference}")
    [plan] = arrangements(db)
    assert plan.status == ArrangementStatus.CANCELLED
    assert small.id in {d.invoice_id for d in plans.plannable_debts(account.id)}
    # The offer is closed: its page is gone.
    assert signed_in.get(url).status_code == 404


def test_a_counter_offer_answer_needs_the_csrf_token(db, signed_in, debtor, counter_offered):
    account = debtor[0]
    url = path(account, f"{counter_offered.id}/counter-offer")
    response = signed_in.post(url, data={"decision": "accept"})
    assert response.status_code == 400
    assert arrangements(db)[0].status == ArrangementStatus.COUNTER_OFFERED
