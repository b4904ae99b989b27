"""The finance settings pages an administrator keeps: income codes per department,
payment terms and dated VAT rates. Every change is audited; bad input is a field error
that changes nothing; an officer may not see them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.models import AuditLog, IncomeCode, ServiceDepartment, StaffRole, VatRatePeriod
from tests.factories import make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, inline_errors, parse, text, title

pytestmark = frozen_clock

INDEX = "/backoffice/admin/finance"
VAT = "/backoffice/admin/finance/vat-rates"


@pytest.fixture
def admin(client, db):
    user = make_staff(StaffRole.ADMIN)
    signed_in_session(client, user)
    return user


@pytest.fixture
def waste(db):
    return make_department(code="TW", name="Trade waste")


def codes_path(department) -> str:
    return f"/backoffice/admin/finance/departments/{department.id}/income-codes"


def post(client, path, **fields):
    return client.post(path, data={"csrf_token": csrf_token(client, path), **fields})


def audit(db, action: str) -> list[AuditLog]:
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditLog).where(AuditLog.action == action)).all()


def codes(db, department) -> list[IncomeCode]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(IncomeCode).where(IncomeCode.department_id == department.id)
    ).all()


def add_code(client, department, code="TW01", **fields):
    values = {
        "code": code,
        "description": "Trade waste collections",
        "cost_centre": "CC100",
        "ledger_code": "R4100",
        **fields,
    }
    return post(client, codes_path(department), **values)


def test_the_finance_settings_page_lists_departments_with_terms_and_the_rates_in_force(
    client, admin, waste
):
    page = parse(client.get(INDEX))

    assert title(page).startswith("Finance settings")
    row = text(page.select_one("#departments tbody tr"))
    assert row.startswith("Trade waste (TW) 30 days 0 0")
    rates = text(page.select_one("#rates"))
    assert "Standard 20% 4 January 2011" in rates
    assert "17.5%" not in rates  # the history is on its own page
    nav = text(page.select_one(".govuk-service-navigation"))
    assert "Finance settings" in nav


def test_an_administrator_adds_an_income_code_and_it_is_audited(client, db, admin, waste):
    response = add_code(client, waste, code=" tw01 ")

    assert response.status_code == 302
    [code] = codes(db, waste)
    assert (code.code, code.description, code.cost_centre, code.ledger_code, code.active) == (
        "TW01",
        "Trade waste collections",
        "CC100",
        "R4100",
        True,
    )
    [row] = audit(db, "income_code.added")
    assert (row.actor_id, row.object_id) == (admin.id, str(code.id))
    listing = text(parse(client.get(codes_path(waste))).select_one("#income-codes"))
    assert "TW01 Trade waste collections CC100 R4100 0 In use" in listing


def test_a_code_the_department_already_has_is_a_field_error_and_nothing_is_added(
    client, db, admin, waste
):
    add_code(client, waste)

    response = add_code(client, waste, code="tw01", description="Another")

    assert response.status_code == 200
    assert error_summary(parse(response)) == [("Trade waste already has income code TW01", "#code")]
    assert len(codes(db, waste)) == 1


def test_the_same_code_in_another_department_is_its_own(client, db, admin, waste):
    parks = make_department(name="Parks")
    add_code(client, waste)

    assert add_code(client, parks).status_code == 302
    assert len(codes(db, parks)) == 1


def test_an_income_code_with_missing_or_malformed_fields_shows_each_beside_its_field(
    client, db, admin, waste
):
    response = add_code(client, waste, code="TW 01", description="", cost_centre="x" * 21)

    errors = inline_errors(parse(response))
    assert errors["code"] == "Income code must be letters and numbers (and - / . _ between)"
    assert errors["description"] == "Enter the description"
    assert errors["cost_centre"] == "Cost centre must be 20 characters or fewer"
    assert codes(db, waste) == []


def test_editing_an_income_code_changes_its_description_and_codes_but_not_the_code(
    client, db, admin, waste
):
    add_code(client, waste)
    [code] = codes(db, waste)
    path = f"{codes_path(waste)}/{code.id}"
    form = parse(client.get(path))
    assert form.select_one("input[name=description]")["value"] == "Trade waste collections"

    response = post(
        client, path, description="Commercial waste", cost_centre="cc200", ledger_code="R4200"
    )

    assert response.status_code == 302
    [code] = codes(db, waste)
    assert (code.code, code.description, code.cost_centre, code.ledger_code) == (
        "TW01",
        "Commercial waste",
        "CC200",
        "R4200",
    )
    [row] = audit(db, "income_code.changed")
    assert row.before["description"] == "Trade waste collections"
    assert row.after["description"] == "Commercial waste"


def test_retiring_and_reinstating_an_income_code_is_audited_each_time(client, db, admin, waste):
    add_code(client, waste)
    [code] = codes(db, waste)
    status = f"{codes_path(waste)}/{code.id}/status"
    edit = f"{codes_path(waste)}/{code.id}"

    response = client.post(
        status, data={"csrf_token": csrf_token(client, edit), "action": "retire"}
    )

    assert response.status_code == 302
    assert codes(db, waste)[0].active is False
    assert "Retired" in text(parse(client.get(codes_path(waste))).select_one("#income-codes"))
    client.post(status, data={"csrf_token": csrf_token(client, edit), "action": "reinstate"})
    assert codes(db, waste)[0].active is True
    assert len(audit(db, "income_code.retired")) == len(audit(db, "income_code.reinstated")) == 1


def test_payment_terms_are_saved_and_audited(client, db, admin, waste):
    path = f"/backoffice/admin/finance/departments/{waste.id}/payment-terms"
    assert parse(client.get(path)).select_one("input[name=days]")["value"] == "30"

    response = post(client, path, days="14")

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ServiceDepartment, waste.id).payment_terms_days == 14
    [row] = audit(db, "department.payment_terms_changed")
    assert (row.before, row.after) == ({"payment_terms_days": 30}, {"payment_terms_days": 14})


@pytest.mark.parametrize(
    "typed, message",
    [
        ("366", "Payment terms must be between 0 and 365 days"),
        ("-1", "Enter the payment terms as a whole number of days"),
        ("٣٠", "Enter the payment terms as a whole number of days"),
        ("", "Enter the payment terms in days"),
    ],
)
def test_payment_terms_outside_0_to_365_days_are_a_field_error(
    client, db, admin, waste, typed, message
):
    path = f"/backoffice/admin/finance/departments/{waste.id}/payment-terms"

    response = post(client, path, days=typed)

    assert inline_errors(parse(response)) == {"days": message}
    db.session.expire_all()
    assert db.session.get(ServiceDepartment, waste.id).payment_terms_days == 30


def test_the_vat_page_shows_the_history_and_adds_a_future_rate(client, db, admin):
    history = text(parse(client.get(VAT)).select_one("#vat-rates"))
    assert "Standard 15% 1 December 2008 The rates history Past" in history
    assert "Standard 20% 4 January 2011 The rates history In force" in history
    starts = TODAY + timedelta(days=40)

    response = post(client, VAT, rate="standard", percent="22.5", valid_from=f"{starts:%d/%m/%Y}")

    assert response.status_code == 302
    db.session.expire_all()
    period = db.session.scalar(sa.select(VatRatePeriod).where(VatRatePeriod.valid_from == starts))
    assert (period.basis_points, period.created_by_staff_id) == (2250, admin.id)
    page = text(parse(client.get(VAT)).select_one("#vat-rates"))
    assert f"Standard 22.5% {starts:%-d %B %Y} {admin.full_name} Coming" in page
    assert len(audit(db, "vat_rate.added")) == 1


@pytest.mark.parametrize(
    "fields, field, message",
    [
        (
            {"valid_from": f"{TODAY:%d/%m/%Y}"},
            "valid_from",
            "The date the new rate starts must be after today: rates already charged never change",
        ),
        ({"percent": "120"}, "percent", "Enter the new rate as a percentage from 0 to 100"),
        ({"rate": "exempt"}, "rate", "Select which VAT rate changes"),
        ({"valid_from": "31/2/2027"}, "valid_from", "Date the new rate starts must be a real date"),
    ],
)
def test_a_vat_rate_that_will_not_do_is_a_field_error_and_nothing_is_added(
    client, db, admin, fields, field, message
):
    values = {
        "rate": "standard",
        "percent": "21",
        "valid_from": f"{TODAY + timedelta(days=10):%d/%m/%Y}",
        **fields,
    }
    before = db.session.scalar(sa.select(sa.func.count()).select_from(VatRatePeriod))

    response = post(client, VAT, **values)

    assert response.status_code == 200
    assert inline_errors(parse(response))[field].startswith(message)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VatRatePeriod)) == before


@pytest.mark.parametrize(
    "path",
    [INDEX, VAT, "/backoffice/admin/finance/departments/{id}/income-codes"],
)
def test_an_officer_may_not_see_or_change_finance_settings(client, db, waste, path):
    signed_in_session(client, make_staff(StaffRole.OFFICER))

    assert client.get(path.format(id=waste.id)).status_code == 403
    response = client.post(
        codes_path(waste),
        data={"code": "X1", "description": "x", "cost_centre": "C", "ledger_code": "L"},
    )
    assert response.status_code in (400, 403)
    assert codes(db, waste) == []


def test_an_unknown_department_or_income_code_is_not_found(client, admin, waste):
    assert (
        client.get("/backoffice/admin/finance/departments/999999/income-codes").status_code == 404
    )
    assert client.get(f"{codes_path(waste)}/999999").status_code == 404
