"""Dated VAT on raised invoices: each line is charged the rate in force on the tax point
(the issue date) and keeps it; an administrator adds a future rate that applies only
from its date, and can never change a rate already charged."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from shared.domain.vat import VatRate
from shared.extensions import db
from shared.models import AuditLog, Invoice, VatRatePeriod
from shared.services import actors, ledger, vat_rates
from shared.services.actors import SYSTEM
from shared.services.errors import Conflict, InvalidRequest
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock


@pytest.fixture
def raise_on(app):
    account, department = make_account(), make_department()
    numbers = iter(range(1, 100))

    def raise_invoice(issue_date: date, rate=VatRate.STANDARD, net_pence=10_000):
        return ledger.raise_invoice(
            account_id=account.id,
            department_id=department.id,
            number=f"INV-VAT{next(numbers)}",
            issue_date=issue_date,
            due_date=issue_date + timedelta(days=30),
            description="Trade waste",
            lines=[ledger.LineInput("Collections", 1, net_pence, rate)],
            actor=SYSTEM,
        )

    return raise_invoice


@pytest.mark.parametrize(
    "issue_date, basis_points, vat_pence",
    [
        (date(2008, 11, 30), 1750, 1_750),
        (date(2008, 12, 1), 1500, 1_500),  # the temporary cut, from its first day
        (date(2009, 12, 31), 1500, 1_500),
        (date(2010, 1, 1), 1750, 1_750),  # and back
        (date(2011, 1, 4), 2000, 2_000),
    ],
)
def test_an_invoice_is_charged_the_standard_rate_in_force_on_its_issue_date(
    raise_on, issue_date, basis_points, vat_pence
):
    invoice = raise_on(issue_date)

    [line] = invoice.lines
    assert (line.vat_basis_points, line.vat_pence) == (basis_points, vat_pence)
    assert invoice.total_pence == 10_000 + vat_pence


def test_lines_with_no_vat_keep_a_rate_of_nothing(raise_on):
    [line] = raise_on(date(2009, 6, 1), VatRate.OUTSIDE_SCOPE).lines
    assert (line.vat_basis_points, line.vat_pence) == (0, 0)


def test_a_future_rate_added_by_an_administrator_applies_only_from_its_date(raise_on):
    admin = make_staff()
    starts = TODAY + timedelta(days=10)

    vat_rates.add_rate_period(
        rate="standard", valid_from=starts, basis_points=2250, actor=actors.staff(admin.id)
    )

    assert raise_on(TODAY).lines[0].vat_basis_points == 2000
    assert raise_on(starts - timedelta(days=1)).lines[0].vat_basis_points == 2000
    assert raise_on(starts).lines[0].vat_pence == 2_250
    assert vat_rates.basis_points_on(VatRate.REDUCED, starts) == 500  # other rates unchanged
    [row] = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "vat_rate.added"))
    assert row.actor_id == admin.id
    assert row.after == {"rate": "standard", "valid_from": starts.isoformat(), "basis_points": 2250}


@pytest.mark.parametrize("days", [0, -1, -400])
def test_a_rate_starting_today_or_earlier_is_refused_so_no_rate_charged_changes(app, days):
    with pytest.raises(InvalidRequest, match="must be after today: rates already charged"):
        vat_rates.add_rate_period(
            rate="standard",
            valid_from=TODAY + timedelta(days=days),
            basis_points=2500,
            actor=SYSTEM,
        )
    assert vat_rates.basis_points_on(VatRate.STANDARD, TODAY) == 2000


def test_a_second_rate_starting_the_same_day_is_refused(app):
    starts = TODAY + timedelta(days=30)
    vat_rates.add_rate_period(rate="reduced", valid_from=starts, basis_points=600, actor=SYSTEM)

    with pytest.raises(Conflict, match="reduced rate already starts on"):
        vat_rates.add_rate_period(rate="reduced", valid_from=starts, basis_points=700, actor=SYSTEM)

    assert (
        db.session.scalar(sa.select(sa.func.count()).where(VatRatePeriod.rate == VatRate.REDUCED))
        == 2
    )  # 1997's and the new one


def test_an_invoice_dated_before_any_rate_existed_is_refused_and_nothing_is_raised(raise_on):
    with pytest.raises(InvalidRequest, match="No reduced VAT rate was in force"):
        raise_on(date(1990, 1, 1), VatRate.REDUCED)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invoice)) == 0


def test_the_history_marks_the_rate_in_force_today_and_the_rates_to_come(app):
    vat_rates.add_rate_period(
        rate="standard", valid_from=TODAY + timedelta(days=5), basis_points=2100, actor=SYSTEM
    )

    standard = [p for p in vat_rates.history(TODAY) if p.rate == VatRate.STANDARD]

    assert [(p.percent, p.in_force, p.future) for p in standard] == [
        ("21%", False, True),
        ("20%", True, False),
        ("17.5%", False, False),
        ("15%", False, False),
        ("17.5%", False, False),
    ]
