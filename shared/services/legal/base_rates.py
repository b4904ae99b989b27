"""The Bank of England base-rate table Late Payment Act interest is worked from.

The history to 7 August 2025 comes with the system (migration 0027); an
administrator adds each later decision, usually a day or two after it is announced,
so a rate may start in the past. A charge keeps the base rate it was worked out at
(LatePaymentCharge.base_rate_basis_points), so adding a rate never changes a charge
already posted; only a rate that has not started yet may be removed (one added in
error).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from shared import clock
from shared.domain.late_payment import STATUTORY_UPLIFT_BP, BaseRate, percent_words
from shared.domain.vat import parse_percent
from shared.extensions import db
from shared.models import BaseRatePeriod, StaffUser
from shared.services.actors import Actor
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.services.history import record_audit
from shared.services.unit_of_work import use_case

FURTHEST_AHEAD = timedelta(days=366)  # a decision is announced days, not years, ahead


@dataclass(frozen=True)
class RateRow:
    id: int
    effective_from: date
    basis_points: int
    percent: str  # "5.25%"
    late_payment_percent: str  # the rate + 8%, what the Act charges while it is the reference
    added_by: str | None  # None: part of the history the system was installed with
    added_at: datetime
    in_force: bool  # the rate in force today
    future: bool  # not started yet: may be removed


def periods() -> list[BaseRate]:
    """Every recorded rate, in the shape the pure rules take (a small table)."""
    return [
        BaseRate(r.effective_from, r.basis_points)
        for r in db.session.execute(
            sa.select(BaseRatePeriod.effective_from, BaseRatePeriod.basis_points).order_by(
                BaseRatePeriod.effective_from
            )
        )
    ]


def list_rates(today: date | None = None) -> list[RateRow]:
    """Every rate, newest first, marking the one in force today and those to come."""
    today = today or clock.today()
    rows = db.session.execute(
        sa.select(BaseRatePeriod, StaffUser.full_name)
        .outerjoin(StaffUser, StaffUser.id == BaseRatePeriod.created_by_staff_id)
        .order_by(BaseRatePeriod.effective_from.desc())
    ).all()
    current = next((p.effective_from for p, _ in rows if p.effective_from <= today), None)
    return [
        RateRow(
            id=period.id,
            effective_from=period.effective_from,
            basis_points=period.basis_points,
            percent=percent_words(period.basis_points),
            late_payment_percent=percent_words(period.basis_points + STATUTORY_UPLIFT_BP),
            added_by=name,
            added_at=period.created_at,
            in_force=period.effective_from == current,
            future=period.effective_from > today,
        )
        for period, name in rows
    ]


def rate_problems(
    effective_from: date | None, percent_text: str | None, today: date
) -> tuple[dict[str, str], int | None]:
    """Each field's problem in GOV.UK words (empty when the rate will do), and the basis
    points typed ("5.25" is 525)."""
    problems: dict[str, str] = {}
    text = (percent_text or "").strip()
    basis_points = parse_percent(text)
    if not text:
        problems["percent"] = "Enter the base rate as a percentage, like 4.25"
    elif text.lstrip().startswith("-"):
        problems["percent"] = "The base rate cannot be negative"
    elif basis_points is None:
        problems["percent"] = (
            "Enter the base rate as a percentage from 0 to 100 with at most two decimal "
            "places, like 4.25"
        )
    if effective_from is None:
        problems["effective_from"] = "Enter the date the rate takes effect"
    elif effective_from > today + FURTHEST_AHEAD:
        problems["effective_from"] = (
            "The date the rate takes effect must be no more than a year from today"
        )
    return problems, basis_points


@use_case
def add_rate(actor: Actor, effective_from: date | None, percent_text: str | None) -> RateRow:
    """Record a base-rate decision from the date it takes effect; refuses a second rate
    on the same date, a negative rate, one over 100% and a date more than a year
    ahead. Audited."""
    problems, basis_points = rate_problems(effective_from, percent_text, clock.today())
    if problems:
        raise InvalidRequest(next(iter(problems.values())))
    exists = db.session.scalar(
        sa.select(BaseRatePeriod.id).where(BaseRatePeriod.effective_from == effective_from)
    )
    if exists is not None:
        raise Conflict(f"A base rate already takes effect on {effective_from:%-d %B %Y}")
    period = BaseRatePeriod(
        effective_from=effective_from, basis_points=basis_points, created_by_staff_id=actor.staff_id
    )
    db.session.add(period)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # the same date added at the same moment elsewhere
        db.session.rollback()
        raise Conflict(f"A base rate already takes effect on {effective_from:%-d %B %Y}") from None
    record_audit(
        actor,
        "base_rate.added",
        "base_rate_period",
        period.id,
        after={"effective_from": effective_from.isoformat(), "basis_points": basis_points},
    )
    db.session.commit()
    return next(r for r in list_rates() if r.id == period.id)


@use_case
def remove_rate(actor: Actor, rate_id: int) -> BaseRatePeriod:
    """Remove a rate that has not taken effect yet (added in error); a rate in force or
    past is history and stays. Audited."""
    period = db.session.execute(
        sa.select(BaseRatePeriod).where(BaseRatePeriod.id == rate_id).with_for_update()
    ).scalar_one_or_none()
    if period is None:
        raise NotFound(f"No base rate {rate_id}")
    if period.effective_from <= clock.today():
        raise InvalidRequest(
            f"The rate from {period.effective_from:%-d %B %Y} has taken effect: only a rate "
            "that has not started yet can be removed"
        )
    before = {
        "effective_from": period.effective_from.isoformat(),
        "basis_points": period.basis_points,
    }
    db.session.delete(period)
    record_audit(actor, "base_rate.removed", "base_rate_period", rate_id, before=before)
    db.session.commit()
    return period
