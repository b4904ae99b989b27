"""Each department's collection-rate target for a financial year, set by an administrator
and read by the collection report (shared/reports/collection.py).

A target is the share of what a department raises in the year (invoices less credit
notes) that recovery should collect, in basis points (9250 is 92.5%). It is kept for
this financial year and the next: an earlier year's target is what that year's
figures were judged against, so it stays as it was. Each change is versioned (two
administrators editing at once cannot overwrite each other unseen) and audited with
its before and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shared import clock
from shared.domain.numbers import ascii_digits
from shared.domain.reporting import financial_year_label, financial_year_of
from shared.domain.vat import parse_percent
from shared.extensions import db
from shared.models import CollectionTarget, ServiceDepartment, StaffUser
from shared.services.actors import Actor
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.services.history import record_audit
from shared.services.unit_of_work import use_case


class TargetRefused(InvalidRequest):
    """A field of the target is wrong: `field` names it (the form shows the message
    beside it); nothing was saved."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def settable_years(today: date) -> tuple[int, int]:
    """The financial years a target may be set for: this one and the next."""
    this_year = financial_year_of(today)
    return this_year, this_year + 1


def percent_words(basis_points: int | None) -> str:
    """9250 -> "92.5%", 9500 -> "95%", None -> "Not set"."""
    if basis_points is None:
        return "Not set"
    whole, part = divmod(basis_points, 100)
    return f"{whole}%" if not part else f"{whole}.{part:02d}".rstrip("0") + "%"


def parse_target_percent(text: str | None) -> tuple[int | None, str | None]:
    """The basis points typed ("92.5" or "92.5%" is 9250), or the problem in GOV.UK words."""
    typed = (text or "").strip()
    if not typed:
        return None, "Enter the target as a percentage, like 92.5"
    if typed.startswith("-"):
        return None, "The target cannot be negative: enter a percentage from 0 to 100"
    basis_points = parse_percent(typed)
    if basis_points is None:
        whole, _, part = typed.removesuffix("%").strip().partition(".")
        if ascii_digits(whole) and (not part or ascii_digits(part)):
            if len(part) > 2:
                return None, "Enter the target with at most 2 decimal places, like 92.55"
            return None, "The target must be 100% or less"
        return None, "Enter the target as a percentage from 0 to 100, like 92.5"
    return basis_points, None


def target_problems(financial_year: int, target_basis_points: int, today: date) -> dict[str, str]:
    """Each field's problem (empty when the target will do). Pure."""
    problems: dict[str, str] = {}
    first, last = settable_years(today)
    if financial_year not in (first, last):
        problems["financial_year"] = (
            f"Targets can be set for {financial_year_label(first)} or "
            f"{financial_year_label(last)} only: an earlier year's target is what its "
            "figures were judged against, so it stays as it was"
        )
    if not isinstance(target_basis_points, int) or isinstance(target_basis_points, bool):
        problems["target"] = "Enter the target as a percentage, like 92.5"
    elif not 0 <= target_basis_points <= 10000:
        problems["target"] = "The target must be a percentage from 0 to 100, like 92.5"
    return problems


@dataclass(frozen=True)
class TargetView:
    department_id: int
    department_code: str
    department_name: str
    financial_year: int
    target_basis_points: int | None  # None: not set
    version: int  # 0: not set yet
    set_by: str | None

    @property
    def percent(self) -> str:
        return percent_words(self.target_basis_points)

    @property
    def year_label(self) -> str:
        return financial_year_label(self.financial_year)


@dataclass(frozen=True)
class DepartmentTargets:
    department_id: int
    department_code: str
    department_name: str
    years: tuple[TargetView, ...]  # one per year asked for, in that order


def _department(department_id: int) -> ServiceDepartment:
    department = db.session.get(ServiceDepartment, department_id)
    if department is None:
        raise NotFound(f"No service department {department_id}")
    return department


def target_for(department_id: int, financial_year: int) -> TargetView:
    """One department's target for one year (version 0 and no target if none is set)."""
    department = _department(department_id)
    row = db.session.execute(
        sa.select(CollectionTarget, StaffUser.full_name)
        .outerjoin(StaffUser, StaffUser.id == CollectionTarget.set_by_staff_id)
        .where(
            CollectionTarget.department_id == department_id,
            CollectionTarget.financial_year == financial_year,
        )
    ).one_or_none()
    target, name = row if row is not None else (None, None)
    return TargetView(
        department_id=department.id,
        department_code=department.code,
        department_name=department.name,
        financial_year=financial_year,
        target_basis_points=target.target_basis_points if target else None,
        version=target.version if target else 0,
        set_by=name,
    )


def list_targets(years: tuple[int, ...]) -> list[DepartmentTargets]:
    """Every department, by name, with its target for each of `years`."""
    departments = db.session.execute(
        sa.select(ServiceDepartment.id, ServiceDepartment.code, ServiceDepartment.name).order_by(
            ServiceDepartment.name, ServiceDepartment.code
        )
    ).all()
    rows = db.session.execute(
        sa.select(CollectionTarget, StaffUser.full_name)
        .outerjoin(StaffUser, StaffUser.id == CollectionTarget.set_by_staff_id)
        .where(CollectionTarget.financial_year.in_(years))
    ).all()
    found = {(t.department_id, t.financial_year): (t, name) for t, name in rows}
    out = []
    for dept_id, code, name in departments:
        views = []
        for year in years:
            target, set_by = found.get((dept_id, year), (None, None))
            views.append(
                TargetView(
                    department_id=dept_id,
                    department_code=code,
                    department_name=name,
                    financial_year=year,
                    target_basis_points=target.target_basis_points if target else None,
                    version=target.version if target else 0,
                    set_by=set_by,
                )
            )
        out.append(DepartmentTargets(dept_id, code, name, tuple(views)))
    return out


@use_case
def set_target(
    department_id: int,
    financial_year: int,
    target_basis_points: int,
    expected_version: int,
    actor: Actor,
) -> TargetView:
    """Set a department's collection-rate target for a financial year (expected_version
    0 creates it); refuses a stale version, a target outside 0-100% and a year other
    than this one or the next. Audited."""
    if actor.staff_id is None:
        raise InvalidRequest("Only a member of staff sets collection targets")
    problems = target_problems(financial_year, target_basis_points, clock.today())
    if problems:
        field, message = next(iter(problems.items()))
        raise TargetRefused(field, message)
    department = _department(department_id)
    target = db.session.execute(
        sa.select(CollectionTarget)
        .where(
            CollectionTarget.department_id == department_id,
            CollectionTarget.financial_year == financial_year,
        )
        .with_for_update()
    ).scalar_one_or_none()
    current = target.version if target is not None else 0
    year = financial_year_label(financial_year)
    if expected_version != current:
        raise Conflict(
            f"Someone else changed the {year} target for {department.name} while you were "
            "editing it. Nothing was saved: check the target as it is now and set it again"
        )
    before = None
    if target is None:
        target = CollectionTarget(
            department_id=department_id,
            financial_year=financial_year,
            target_basis_points=target_basis_points,
            version=1,
            set_by_staff_id=actor.staff_id,
        )
        db.session.add(target)
    else:
        if target.target_basis_points == target_basis_points:
            db.session.commit()  # nothing to change: no new version, no audit row
            return target_for(department_id, financial_year)
        before = {"target_basis_points": target.target_basis_points, "version": target.version}
        target.target_basis_points = target_basis_points
        target.version = target.version + 1
        target.set_by_staff_id = actor.staff_id
    try:
        db.session.flush()
    except IntegrityError:
        # Another administrator created this year's target at the same moment.
        db.session.rollback()
        raise Conflict(
            f"Someone else set the {year} target for {department.name} at the same time. "
            "Nothing was saved: check the target as it is now"
        ) from None
    record_audit(
        actor,
        "collection_target.set" if before is None else "collection_target.changed",
        "collection_target",
        target.id,
        before=before
        and {"department_id": department_id, "financial_year": financial_year, **before},
        after={
            "department_id": department_id,
            "financial_year": financial_year,
            "target_basis_points": target_basis_points,
            "version": target.version,
        },
    )
    db.session.commit()
    return target_for(department_id, financial_year)
