"""Input that once got a server error gets a clear answer instead: unicode digits and
numbers too long for int() in whole-number fields, amounts larger than the pence
columns hold, dates in year 1 or 99999, a reference already used for a different
payment, and NUL characters anywhere. (The property-based sweep of every form is in
test_no_server_error_on_any_input.py; these pin each case down.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.models import EntryKind, LedgerEntry, PlanPolicy, StaffRole
from shared.services import ledger
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_department, make_portal_login, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, parse, sign_in_portal, title

pytestmark = frozen_clock
MAXIMUM = "Amount must be £10,000,000.00 or less"


def raise_invoice(account, department, number, pence):
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number=number,
        issue_date=TODAY - timedelta(days=60),
        due_date=TODAY - timedelta(days=30),
        description="Trade waste",
        lines=[ledger.LineInput("Bin lifts", 1, pence)],
        actor=SYSTEM,
    )


def post(client, path, **fields):
    return client.post(path, data={"csrf_token": csrf_token(client, path), **fields})


def payments(db, account):
    db.session.expire_all()
    return db.session.scalars(
        sa.select(LedgerEntry).where(
            LedgerEntry.account_id == account.id, LedgerEntry.kind == EntryKind.PAYMENT
        )
    ).all()


@pytest.fixture
def officer(client, db):
    person = make_staff(role=StaffRole.OFFICER)
    signed_in_session(client, person)
    return person


# --- whole numbers ---------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["²", "١٢", "9" * 5000])
def test_a_plan_policy_number_in_unicode_digits_or_too_long_is_a_field_error(client, db, typed):
    department = make_department(name="Trade waste")
    signed_in_session(client, make_staff(StaffRole.ADMIN))
    path = f"/backoffice/admin/plan-policies/{department.id}"

    response = post(
        client,
        path,
        max_length_months=typed,
        min_instalment="10",
        max_auto_approve="500",
        no_broken_plan_within_months=typed,
        refer_if_legal="no",
        income_expenditure_above="250",
        team_leader_above="2,000",
    )

    assert response.status_code == 200
    anchors = [anchor for _, anchor in error_summary(parse(response))]
    assert anchors == ["#max_length_months", "#no_broken_plan_within_months"]
    assert db.session.scalars(sa.select(PlanPolicy)).all() == []


@pytest.mark.parametrize("typed", ["²", "٣", "9" * 5000])
def test_a_number_of_payments_in_unicode_digits_or_too_long_is_a_field_error(client, db, typed):
    department = make_department()
    account = make_account()
    invoice = raise_invoice(account, department, "INV-AW1", 10_000)
    sign_in_portal(client, make_portal_login(account))
    with client.session_transaction() as session:
        session["payment_plan"] = {
            "account_id": account.id,
            "invoice_ids": [invoice.id],
            "frequency": "monthly",
        }

    response = post(client, f"/account/{account.reference}/plan/amount", how="count", count=typed)

    assert response.status_code == 200
    assert [anchor for _, anchor in error_summary(parse(response))] == ["#count"]


def test_a_page_number_in_unicode_digits_or_too_long_shows_the_first_page(client, db, officer):
    account = make_account()
    ledger = f"/backoffice/accounts/{account.reference}/ledger"
    for page in ("²", "9" * 5000):
        for section in ("ledger", "timeline"):
            response = client.get(f"/backoffice/accounts/{account.reference}/{section}?page={page}")
            assert response.status_code == 200
        # The one long case page's old paging links land on the section's first page.
        response = client.get(f"/backoffice/accounts/{account.reference}?ledger_page={page}")
        assert response.status_code == 302
        assert response.headers["Location"] == f"{ledger}?page=1"


# --- amounts and dates -----------------------------------------------------------------


@pytest.mark.parametrize("typed", ["21474836.48", "10000000.01", "9" * 5000])
def test_an_amount_larger_than_the_maximum_is_a_field_error_naming_the_maximum(
    client, db, officer, typed
):
    account = make_account()
    path = f"/backoffice/accounts/{account.reference}/payments/new"

    response = post(
        client, path, method="cash", amount=typed, allocation="oldest", submission_key="k" * 20
    )

    assert response.status_code == 200
    assert (MAXIMUM, "#amount") in error_summary(parse(response))
    assert payments(db, account) == []


@pytest.mark.parametrize("typed", ["1/1/0001", "1/1/0000", "31/12/9999", "1/1/99999", "٢/٣/٢٠٢٦"])
def test_a_date_in_a_year_nobody_means_is_a_field_error(client, db, officer, typed):
    account = make_account()
    path = f"/backoffice/accounts/{account.reference}/payments/new"

    response = post(
        client,
        path,
        method="cash",
        amount="10",
        allocation="oldest",
        received_on=typed,
        submission_key="k" * 20,
    )

    assert response.status_code == 200
    assert [anchor for _, anchor in error_summary(parse(response))] == ["#received_on"]
    assert payments(db, account) == []


# --- a reference already used ----------------------------------------------------------


def test_a_cheque_reference_used_on_another_account_is_a_field_error_and_nothing_is_recorded(
    client, db, officer
):
    department = make_department()
    first, second = make_account(), make_account()
    raise_invoice(first, department, "INV-AW2", 10_000)
    raise_invoice(second, department, "INV-AW3", 10_000)
    cheque = {"method": "cheque", "amount": "50", "reference": "100234", "allocation": "oldest"}
    post(client, f"/backoffice/accounts/{first.reference}/payments/new", **cheque)
    assert len(payments(db, first)) == 1

    response = post(client, f"/backoffice/accounts/{second.reference}/payments/new", **cheque)

    assert response.status_code == 200
    assert error_summary(parse(response)) == [
        (
            "This reference has already been used for a different payment. Check the reference",
            "#reference",
        )
    ]
    assert payments(db, second) == []


# --- NUL characters --------------------------------------------------------------------


def test_a_nul_character_in_a_form_is_refused_with_the_problem_page(client, db):
    response = post(client, "/sign-in", email="alex\x00@example.com", password="a password!")

    assert response.status_code == 400
    assert title(parse(response)).startswith("Sorry, there is a problem with your request")


def test_a_nul_character_in_a_query_string_or_a_path_is_refused_with_the_problem_page(
    client, db, officer
):
    account = make_account()

    for path in (
        "/backoffice/search?q=smith%00",
        f"/backoffice/accounts/{account.reference}%00",
    ):
        response = client.get(path)
        assert response.status_code == 400, path
