"""The periodic invoices pages of a case: listing an account's schedules, setting one
up (lines without JavaScript, how often, when it ends) with GOV.UK errors for bad
answers, cancelling one with a reason, and who may do each."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.models import InvoiceSchedule, ScheduleStatus, StaffRole
from shared.services import actors
from shared.services import invoice_schedule_runs as schedule_runs
from shared.services import invoice_schedules as schedules
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.integration.test_periodic_invoices import ensure_vat_rates
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, inline_errors, parse, text, title

pytestmark = frozen_clock


@pytest.fixture(autouse=True)
def vat_rates(db):
    ensure_vat_rates(db)


@pytest.fixture
def officer(client, db):
    person = make_staff(StaffRole.OFFICER, invoice_limit_pence=200_000)
    signed_in_session(client, person)
    return person


@pytest.fixture
def department(db):
    return make_department(name="Markets", payment_terms_days=14)


@pytest.fixture
def account(db):
    return make_account(surname="Grundy")


def link(page, words: str):
    return next((a for a in page.select("a") if text(a) == words), None)


def new_path(account) -> str:
    return f"/backoffice/accounts/{account.reference}/invoice-schedules/new"


def good_answers(department, **changes) -> dict:
    answers = {
        "department_id": str(department.id),
        "income_code_id": "",
        "description": "Market stall pitch",
        "purchase_order": "PO-123",
        "line1_description": "Pitch fee",
        "line1_quantity": "1",
        "line1_price": "120.00",
        "line1_vat": "standard",
        "line2_description": "Electricity",
        "line2_quantity": "2",
        "line2_price": "15",
        "line2_vat": "outside_scope",
        "frequency": "monthly",
        "start_date": TODAY.strftime("%d/%m/%Y"),
        "ends": "count",
        "count": "12",
        "end_date": "",
    }
    answers.update(changes)
    return answers


def submit(client, account, answers):
    path = new_path(account)
    return client.post(path, data={"csrf_token": csrf_token(client, path), **answers})


def only_schedule(db) -> InvoiceSchedule:
    db.session.expire_all()
    [schedule] = db.session.scalars(sa.select(InvoiceSchedule)).all()
    return schedule


def test_the_case_page_links_to_the_accounts_periodic_invoices(client, officer, account):
    page = parse(client.get(f"/backoffice/accounts/{account.reference}"))
    assert (
        link(page, "Periodic invoices")["href"]
        == f"/backoffice/accounts/{account.reference}/invoice-schedules"
    )


def test_an_account_with_no_schedules_says_so_and_offers_to_set_one_up(client, officer, account):
    page = parse(client.get(f"/backoffice/accounts/{account.reference}/invoice-schedules"))
    assert title(page).startswith("Periodic invoices")
    assert "There are no periodic invoices on this account." in text(page)
    assert link(page, "Set up a periodic invoice")["href"] == new_path(account)


def test_the_form_has_five_line_rows_and_the_frequencies_without_javascript(
    client, officer, account, department
):
    page = parse(client.get(new_path(account)))
    assert title(page).startswith("Set up a periodic invoice")
    assert len(page.select("fieldset[id^=line-]")) == 5
    assert {i["value"] for i in page.select("input[name=frequency]")} == {
        "weekly",
        "monthly",
        "quarterly",
        "yearly",
    }
    assert {i["value"] for i in page.select("input[name=ends]")} == {"date", "count", "never"}
    assert page.select_one(f"select[name=department_id] option[value='{department.id}']")


def test_an_officer_sets_up_a_schedule_and_sees_it_listed(client, db, officer, account, department):
    response = submit(client, account, good_answers(department))

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/accounts/{account.reference}/invoice-schedules")
    schedule = only_schedule(db)
    assert (schedule.frequency, schedule.occurrences, schedule.end_date) == ("monthly", 12, None)
    assert [(line.quantity, line.unit_price_pence) for line in schedule.lines] == [
        (1, 12_000),
        (2, 1_500),
    ]
    assert schedule.purchase_order == "PO-123"
    assert schedule.created_by_staff_id == officer.id

    page = parse(client.get(response.headers["Location"]))
    card = text(page.select_one(f"#schedule-{schedule.id}"))
    assert "Market stall pitch" in card
    assert f"Monthly from {TODAY:%-d %B %Y}, 12 invoices" in card
    assert "£174.00" in card  # £120 + 20% VAT + 2 x £15
    assert "None yet" in card


def test_the_list_shows_invoices_raised_so_far_and_the_next_date(
    client, db, officer, account, department
):
    submit(client, account, good_answers(department))
    schedule_runs.raise_due(TODAY)
    page = parse(client.get(f"/backoffice/accounts/{account.reference}/invoice-schedules"))
    card = text(page.select_one(".govuk-summary-card"))
    assert f"for {TODAY:%-d %B %Y}: £174.00" in card
    assert "INV" in card
    next_month = TODAY.replace(month=TODAY.month + 1)
    assert f"Next invoice {next_month:%-d %B %Y}" in card


def test_an_end_date_schedule_is_saved_with_its_end_date_not_a_count(
    client, db, officer, account, department
):
    end = TODAY + timedelta(days=200)
    submit(
        client,
        account,
        good_answers(department, ends="date", end_date=end.strftime("%d/%m/%Y"), count="7"),
    )
    schedule = only_schedule(db)
    assert (schedule.end_date, schedule.occurrences) == (end, None)


@pytest.mark.parametrize(
    ("changes", "field_id", "message"),
    [
        ({"description": ""}, "description", "Enter what the invoices are for"),
        ({"frequency": ""}, "frequency", "Select how often to raise an invoice"),
        ({"frequency": "daily"}, "frequency", "Select how often to raise an invoice"),
        ({"start_date": "31/2/2026"}, "start_date", "Start date must be a real date"),
        ({"ends": "count", "count": ""}, "count", "Enter the number of invoices"),
        ({"ends": "count", "count": "1.5"}, "count", "must be a whole number"),
        ({"ends": "date", "end_date": ""}, "end_date", "Enter the end date"),
        ({"line1_price": "12.345"}, "line1_price", "Price:"),
        ({"line1_price": ""}, "line1_price", "Enter line 1's price"),
        ({"line2_description": ""}, "line2_description", "Enter what line 2 is for"),
        ({"department_id": ""}, "department_id", "Select the department"),
        ({"department_id": "999999"}, "department_id", "Select the department"),
        ({"line1_vat": "lots"}, "line1_vat", "Select line 1's VAT rate"),
    ],
)
def test_bad_answers_get_a_field_error_and_change_nothing(
    client, db, officer, account, department, changes, field_id, message
):
    response = submit(client, account, good_answers(department, **changes))

    assert response.status_code == 200
    page = parse(response)
    assert title(page).startswith("Error:") or error_summary(page)
    assert message in inline_errors(page).get(field_id, "")
    assert any(message in m for m, _ in error_summary(page))
    assert db.session.scalar(sa.select(sa.func.count(InvoiceSchedule.id))) == 0


def test_no_lines_at_all_is_an_error_on_the_first_line(client, db, officer, account, department):
    blank = {f"line{n}_{part}": "" for n in (1, 2) for part in ("description", "price", "quantity")}
    page = parse(submit(client, account, good_answers(department, **blank)))
    assert inline_errors(page)["line1_description"] == "Enter at least one line to charge"


def test_a_start_date_in_the_past_is_refused_by_the_service_beside_the_field(
    client, db, officer, account, department
):
    yesterday = (TODAY - timedelta(days=1)).strftime("%d/%m/%Y")
    page = parse(submit(client, account, good_answers(department, start_date=yesterday)))
    assert inline_errors(page)["start_date"] == "Start date must be today or in the future"
    assert db.session.scalar(sa.select(sa.func.count(InvoiceSchedule.id))) == 0


def test_a_schedule_over_the_officers_invoice_limit_is_refused_with_who_to_ask(
    client, db, account, department
):
    signed_in_session(client, make_staff(StaffRole.OFFICER, invoice_limit_pence=10_000))
    page = parse(submit(client, account, good_answers(department)))
    assert "ask an officer who can issue invoices of this size" in inline_errors(page).get(
        "line1_description", ""
    )
    assert db.session.scalar(sa.select(sa.func.count(InvoiceSchedule.id))) == 0


def cancel_path(account, schedule_id) -> str:
    return f"/backoffice/accounts/{account.reference}/invoice-schedules/{schedule_id}/cancel"


def a_schedule(account, department, officer) -> int:
    return schedules.create_schedule(
        account.id,
        schedules.ScheduleRequest(
            department_id=department.id,
            description="Pitch",
            frequency="weekly",
            start=TODAY,
            lines=[schedules.LineRequest("Pitch", 1, 5_000)],
        ),
        actors.staff(officer.id),
        today=TODAY,
    ).id


def test_an_officer_cancels_a_schedule_with_a_reason(client, db, officer, account, department):
    schedule_id = a_schedule(account, department, officer)
    path = cancel_path(account, schedule_id)
    response = client.post(
        path, data={"csrf_token": csrf_token(client, path), "reason": "Trader left the market"}
    )

    assert response.status_code == 302
    schedule = only_schedule(db)
    assert schedule.status == ScheduleStatus.CANCELLED
    assert schedule.cancel_reason == "Trader left the market"
    page = parse(client.get(response.headers["Location"]))
    assert "Trader left the market" in text(page)
    assert page.find("a", string=lambda s: s and s.startswith("Cancel")) is None


def test_cancelling_without_a_reason_is_an_error_and_changes_nothing(
    client, db, officer, account, department
):
    schedule_id = a_schedule(account, department, officer)
    path = cancel_path(account, schedule_id)
    page = parse(client.post(path, data={"csrf_token": csrf_token(client, path), "reason": " "}))
    assert inline_errors(page)["reason"] == "Enter why the schedule is being cancelled"
    assert only_schedule(db).status == ScheduleStatus.ACTIVE


def test_another_accounts_schedule_is_not_found(client, db, officer, account, department):
    schedule_id = a_schedule(account, department, officer)
    other = make_account(surname="Carter")
    assert client.get(cancel_path(other, schedule_id)).status_code == 404


@pytest.mark.parametrize("role", [StaffRole.AUDITOR, StaffRole.ADMIN, StaffRole.SERVICE_DEPARTMENT])
def test_only_staff_who_raise_invoices_and_see_cases_may_set_up_or_cancel(
    client, db, account, department, role
):
    extra = {"department_id": department.id} if role == StaffRole.SERVICE_DEPARTMENT else {}
    schedule_id = a_schedule(
        account, department, make_staff(StaffRole.OFFICER, invoice_limit_pence=100_000)
    )
    signed_in_session(client, make_staff(role, **extra))
    assert client.get(new_path(account)).status_code == 403
    assert client.post(new_path(account), data=good_answers(department)).status_code in (400, 403)
    assert client.get(cancel_path(account, schedule_id)).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(InvoiceSchedule.id))) == 1


def test_an_auditor_sees_the_list_without_the_set_up_or_cancel_links(
    client, db, account, department
):
    a_schedule(account, department, make_staff(StaffRole.OFFICER, invoice_limit_pence=100_000))
    signed_in_session(client, make_staff(StaffRole.AUDITOR))
    page = parse(client.get(f"/backoffice/accounts/{account.reference}/invoice-schedules"))
    assert "Pitch" in text(page)
    assert link(page, "Set up a periodic invoice") is None
    assert not page.select("a[href$='/cancel']")
