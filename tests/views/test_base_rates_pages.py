"""The Bank of England base-rate page: everyone who sees cases reads the dated rates;
an administrator adds a decision (a past date too) and removes one not yet in effect;
bad input is a field error that changes nothing; every change is audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from shared.models import AuditLog, BaseRatePeriod, StaffRole
from tests.factories import make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, inline_errors, parse, text, title

pytestmark = frozen_clock

PAGE = "/backoffice/legal/base-rates"
REMOVE = "/backoffice/legal/base-rates/remove"


@pytest.fixture
def admin(client, db):
    user = make_staff(StaffRole.ADMIN)
    signed_in_session(client, user)
    return user


def post(client, path, **fields):
    return client.post(path, data={"csrf_token": csrf_token(client, PAGE), **fields})


def rates(db) -> dict[date, int]:
    db.session.expire_all()
    return dict(
        db.session.execute(
            sa.select(BaseRatePeriod.effective_from, BaseRatePeriod.basis_points)
        ).all()
    )


def audit(db, action: str) -> list[AuditLog]:
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditLog).where(AuditLog.action == action)).all()


def test_the_page_lists_the_seeded_decisions_with_the_late_payment_rate(client, db, admin):
    page = parse(client.get(PAGE))
    assert title(page).startswith("Bank of England base rate")
    table = text(page.select_one("#base-rates"))
    assert "7 August 2025 4% 12% The rates history In force" in table
    assert "3 August 2023 5.25% 13.25% The rates history Past" in table
    assert "5 March 2009 0.5% 8.5% The rates history Past" in table
    assert len(page.select("#base-rates tbody tr")) == 25


def test_an_admin_adds_a_decision_and_removes_it_before_it_takes_effect(client, db, admin):
    starts = TODAY + timedelta(days=30)
    response = post(client, PAGE, percent="3.75", effective_from=f"{starts:%d/%m/%Y}")
    assert response.status_code == 302
    assert rates(db)[starts] == 375
    added = db.session.scalar(
        sa.select(BaseRatePeriod).where(BaseRatePeriod.effective_from == starts)
    )
    assert added.created_by_staff_id == admin.id
    table = text(parse(client.get(PAGE)).select_one("#base-rates"))
    assert f"{starts:%-d %B %Y} 3.75% 11.75% {admin.full_name} Coming" in table
    assert audit(db, "base_rate.added")[0].after == {
        "effective_from": starts.isoformat(),
        "basis_points": 375,
    }

    response = post(client, REMOVE, rate_id=str(added.id))
    assert response.status_code == 302
    assert starts not in rates(db)
    assert len(audit(db, "base_rate.removed")) == 1


def test_a_decision_may_be_added_after_it_took_effect(client, db, admin):
    response = post(client, PAGE, percent="3.75", effective_from="5/2/2026")
    assert response.status_code == 302
    assert rates(db)[date(2026, 2, 5)] == 375
    table = text(parse(client.get(PAGE)).select_one("#base-rates"))
    assert "5 February 2026 3.75%" in table and "In force" in table


def test_a_rate_in_effect_cannot_be_removed(client, db, admin):
    seeded = db.session.scalar(
        sa.select(BaseRatePeriod.id).where(BaseRatePeriod.effective_from == date(2025, 8, 7))
    )
    response = post(client, REMOVE, rate_id=str(seeded))
    assert response.status_code == 302
    assert date(2025, 8, 7) in rates(db)
    page = parse(client.get(PAGE))
    assert "only a rate that has not started yet can be removed" in text(page)
    assert page.select(f"form[action='{REMOVE}']") == []  # no remove button on history


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"percent": "-0.25"}, "percent", "The base rate cannot be negative"),
        ({"percent": "100.5"}, "percent", "Enter the base rate as a percentage from 0 to 100"),
        ({"percent": "4.125"}, "percent", "Enter the base rate as a percentage from 0 to 100"),
        ({"percent": "four"}, "percent", "Enter the base rate as a percentage from 0 to 100"),
        ({"percent": ""}, "percent", "Enter the base rate as a percentage, like 4.25"),
        (
            {"effective_from": "31/2/2026"},
            "effective_from",
            "Date the rate takes effect must be a real date",
        ),
        ({"effective_from": ""}, "effective_from", "Enter the date the rate takes effect"),
        (
            {"effective_from": f"{TODAY + timedelta(days=400):%d/%m/%Y}"},
            "effective_from",
            "The date the rate takes effect must be no more than a year from today",
        ),
        (
            {"effective_from": "7/8/2025"},
            "effective_from",
            "A base rate already takes effect on 7 August 2025",
        ),
    ],
)
def test_a_rate_that_will_not_do_is_a_field_error_and_nothing_is_added(
    client, db, admin, fields, field, message
):
    before = rates(db)
    response = post(client, PAGE, **({"percent": "3.5", "effective_from": "18/6/2026"} | fields))
    assert response.status_code == 200
    page = parse(response)
    assert inline_errors(page)[field].startswith(message)
    assert error_summary(page)
    assert title(page).startswith("Error: ")
    assert rates(db) == before
    assert audit(db, "base_rate.added") == []


def test_an_officer_reads_the_rates_but_cannot_change_them(client, db):
    signed_in_session(client, make_staff(StaffRole.OFFICER))
    page = parse(client.get(PAGE))
    assert "7 August 2025" in text(page.select_one("#base-rates"))
    assert page.select("form[action$='/legal/base-rates']") == []
    token = csrf_token(client, PAGE)
    response = client.post(
        PAGE, data={"csrf_token": token, "percent": "3.5", "effective_from": "18/6/2026"}
    )
    assert response.status_code == 403
    assert date(2026, 6, 18) not in rates(db)
