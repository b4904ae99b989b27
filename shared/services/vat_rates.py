"""Dated VAT rates: the rate in force on a tax point, and an administrator adding a
rate that starts on a future date.

Rates already charged never change: an invoice line keeps the basis points it was
charged at (InvoiceLine.vat_basis_points), and a new period may only start after
today, so no invoice already raised, today's included, falls under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from shared import clock
from shared.domain.vat import NoRateInForce, RatePeriod, VatRate, percent, rate_in_force
from shared.extensions import db
from shared.models import StaffUser, VatRatePeriod
from shared.services.actors import Actor
from shared.services.errors import Conflict, InvalidRequest
from shared.services.history import record_audit
from shared.services.unit_of_work import use_case

RATE_WORDS = {
    VatRate.STANDARD: "Standard",
    VatRate.REDUCED: "Reduced",
    VatRate.ZERO: "Zero",
    VatRate.EXEMPT: "Exempt",
    VatRate.OUTSIDE_SCOPE: "Outside the scope of VAT",
}


@dataclass(frozen=True)
class PeriodRow:
    id: int
    rate: VatRate
    rate_words: str
    valid_from: date
    basis_points: int
    percent: str
    added_by: str | None  # None: part of the history the system was installed with
    added_at: datetime
    in_force: bool  # the period that applies today
    future: bool


def _periods(rate: VatRate | None = None) -> list[RatePeriod]:
    query = sa.select(VatRatePeriod.rate, VatRatePeriod.valid_from, VatRatePeriod.basis_points)
    if rate is not None:
        query = query.where(VatRatePeriod.rate == rate)
    return [
        RatePeriod(VatRate(r.rate), r.valid_from, r.basis_points) for r in db.session.execute(query)
    ]


def basis_points_on(rate: VatRate, tax_point: date) -> int:
    """The basis points of `rate` in force on `tax_point` (one small query on the
    rate's periods); InvalidRequest when none had started by then."""
    try:
        return rate_in_force(_periods(VatRate(rate)), VatRate(rate), tax_point)
    except NoRateInForce as exc:
        raise InvalidRequest(str(exc)) from None


def history(today: date | None = None) -> list[PeriodRow]:
    """Every period of every rate, newest first within each rate, marking the one in
    force today and those still to come."""
    today = today or clock.today()
    rows = db.session.execute(
        sa.select(VatRatePeriod, StaffUser.full_name)
        .outerjoin(StaffUser, StaffUser.id == VatRatePeriod.created_by_staff_id)
        .order_by(VatRatePeriod.rate, VatRatePeriod.valid_from.desc())
    ).all()
    in_force: dict[VatRate, date] = {}
    for period, _ in rows:
        rate = VatRate(period.rate)
        if period.valid_from <= today and period.valid_from > in_force.get(rate, date.min):
            in_force[rate] = period.valid_from
    order = list(VatRate)
    return sorted(
        (
            PeriodRow(
                id=period.id,
                rate=VatRate(period.rate),
                rate_words=RATE_WORDS[VatRate(period.rate)],
                valid_from=period.valid_from,
                basis_points=period.basis_points,
                percent=percent(period.basis_points),
                added_by=name,
                added_at=period.created_at,
                in_force=in_force.get(VatRate(period.rate)) == period.valid_from,
                future=period.valid_from > today,
            )
            for period, name in rows
        ),
        key=lambda p: (order.index(p.rate), -p.valid_from.toordinal()),
    )


def period_problems(rate: str, valid_from: date | None, basis_points: int | None, today: date):
    """Each field's problem in GOV.UK words (empty when the period will do)."""
    problems = {}
    if rate not in {r.value for r in VatRate}:
        problems["rate"] = "Select which VAT rate changes"
    if valid_from is None:
        problems["valid_from"] = "Enter the date the new rate starts"
    elif valid_from <= today:
        problems["valid_from"] = (
            "The date the new rate starts must be after today: rates already charged never change"
        )
    if basis_points is None:
        problems["basis_points"] = "Enter the new rate as a percentage, like 20 or 17.5"
    elif not 0 <= basis_points <= 10000:
        problems["basis_points"] = "The new rate must be between 0% and 100%"
    return problems


@use_case
def add_rate_period(
    *, rate: str, valid_from: date, basis_points: int, actor: Actor
) -> VatRatePeriod:
    """Add a rate that starts on a future date (an administrator, from a Budget
    announcement); refuses a start today or earlier, or a second period of the rate
    starting the same day. Audited."""
    problems = period_problems(rate, valid_from, basis_points, clock.today())
    if problems:
        raise InvalidRequest(next(iter(problems.values())))
    rate = VatRate(rate)
    exists = db.session.scalar(
        sa.select(VatRatePeriod.id).where(
            VatRatePeriod.rate == rate, VatRatePeriod.valid_from == valid_from
        )
    )
    if exists is not None:
        raise Conflict(
            f"A {RATE_WORDS[rate].lower()} rate already starts on {valid_from:%-d %B %Y}"
        )
    period = VatRatePeriod(
        rate=rate,
        valid_from=valid_from,
        basis_points=basis_points,
        created_by_staff_id=actor.staff_id,
    )
    db.session.add(period)
    db.session.flush()
    record_audit(
        actor,
        "vat_rate.added",
        "vat_rate_period",
        period.id,
        after={
            "rate": rate.value,
            "valid_from": valid_from.isoformat(),
            "basis_points": basis_points,
        },
    )
    db.session.commit()
    return period
