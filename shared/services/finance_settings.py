"""What an administrator keeps for invoicing: each department's income codes (where its
income is booked in the general ledger) and its payment terms. Dated VAT rates are
kept by shared/services/vat_rates.py.

Every change is one transaction with an audit row. These are settings, not any one
debtor's business, so they write no account timeline. An income code is never
deleted or renamed, because invoices and the journal name it: it is retired (no
longer offered for new invoices) and can be reinstated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from shared.extensions import db
from shared.models import IncomeCode, Invoice, ServiceDepartment
from shared.services.actors import Actor
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.services.history import record_audit
from shared.services.unit_of_work import use_case

MAX_CODE = 20
MAX_DESCRIPTION = 120
MAX_TERMS_DAYS = 365
# Codes as finance systems print them: letters, digits, and - / . _ between.
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/._-]*$")


@dataclass(frozen=True)
class DepartmentRow:
    id: int
    code: str
    name: str
    payment_terms_days: int
    active_codes: int
    retired_codes: int


@dataclass(frozen=True)
class IncomeCodeRow:
    id: int
    department_id: int
    code: str
    description: str
    cost_centre: str
    ledger_code: str
    active: bool
    invoices: int  # how many invoices name it


@dataclass(frozen=True)
class IncomeCodeInput:
    code: str
    description: str
    cost_centre: str
    ledger_code: str


def _count(active: bool):
    return (
        sa.select(sa.func.count(IncomeCode.id))
        .where(IncomeCode.department_id == ServiceDepartment.id, IncomeCode.active == active)
        .correlate(ServiceDepartment)
        .scalar_subquery()
    )


_DEPARTMENTS = sa.select(
    ServiceDepartment.id,
    ServiceDepartment.code,
    ServiceDepartment.name,
    ServiceDepartment.payment_terms_days,
    _count(True).label("active_codes"),
    _count(False).label("retired_codes"),
).order_by(ServiceDepartment.name, ServiceDepartment.id)


def _department_row(r) -> DepartmentRow:
    return DepartmentRow(
        r.id, r.code, r.name, r.payment_terms_days, int(r.active_codes), int(r.retired_codes)
    )


def departments() -> list[DepartmentRow]:
    """Every service department with its payment terms and how many codes it has."""
    return [_department_row(r) for r in db.session.execute(_DEPARTMENTS)]


def department(department_id: int) -> DepartmentRow:
    row = db.session.execute(
        _DEPARTMENTS.where(ServiceDepartment.id == department_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"No service department {department_id}")
    return _department_row(row)


_CODES = sa.select(
    IncomeCode,
    sa.select(sa.func.count(Invoice.id))
    .where(Invoice.income_code_id == IncomeCode.id)
    .correlate(IncomeCode)
    .scalar_subquery()
    .label("invoices"),
)


def _code_row(code: IncomeCode, invoices: int) -> IncomeCodeRow:
    return IncomeCodeRow(
        id=code.id,
        department_id=code.department_id,
        code=code.code,
        description=code.description,
        cost_centre=code.cost_centre,
        ledger_code=code.ledger_code,
        active=code.active,
        invoices=int(invoices),
    )


def income_codes(department_id: int) -> list[IncomeCodeRow]:
    """A department's income codes, those in use first, then by code."""
    rows = db.session.execute(
        _CODES.where(IncomeCode.department_id == department_id).order_by(
            IncomeCode.active.desc(), IncomeCode.code
        )
    ).all()
    return [_code_row(code, invoices) for code, invoices in rows]


def income_code(department_id: int, income_code_id: int) -> IncomeCodeRow:
    row = db.session.execute(
        _CODES.where(IncomeCode.id == income_code_id, IncomeCode.department_id == department_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"No income code {income_code_id} in department {department_id}")
    return _code_row(*row)


def _clean(value: IncomeCodeInput) -> IncomeCodeInput:
    return IncomeCodeInput(
        code=(value.code or "").strip().upper(),
        description=" ".join((value.description or "").split()),
        cost_centre=(value.cost_centre or "").strip().upper(),
        ledger_code=(value.ledger_code or "").strip().upper(),
    )


def income_code_problems(value: IncomeCodeInput, *, with_code: bool = True) -> dict[str, str]:
    """Each field's problem in GOV.UK words (empty when the code will do)."""
    value = _clean(value)
    problems = {}
    if with_code:
        if not value.code:
            problems["code"] = "Enter the income code"
        elif len(value.code) > MAX_CODE:
            problems["code"] = f"Income code must be {MAX_CODE} characters or fewer"
        elif not _CODE.match(value.code):
            problems["code"] = "Income code must be letters and numbers (and - / . _ between)"
    if not value.description:
        problems["description"] = "Enter a description of the income"
    elif len(value.description) > MAX_DESCRIPTION:
        problems["description"] = f"Description must be {MAX_DESCRIPTION} characters or fewer"
    for name, words in (("cost_centre", "Cost centre"), ("ledger_code", "Ledger code")):
        typed = getattr(value, name)
        if not typed:
            problems[name] = f"Enter the {words.lower()}"
        elif len(typed) > MAX_CODE:
            problems[name] = f"{words} must be {MAX_CODE} characters or fewer"
        elif not _CODE.match(typed):
            problems[name] = f"{words} must be letters and numbers (and - / . _ between)"
    return problems


def _refuse(problems: dict[str, str]) -> None:
    if problems:
        raise InvalidRequest(next(iter(problems.values())))


def _locked_department(department_id: int) -> ServiceDepartment:
    found = db.session.execute(
        sa.select(ServiceDepartment).where(ServiceDepartment.id == department_id).with_for_update()
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No service department {department_id}")
    return found


def _code_for_update(department_id: int, income_code_id: int) -> IncomeCode:
    code = db.session.execute(
        sa.select(IncomeCode)
        .where(IncomeCode.id == income_code_id, IncomeCode.department_id == department_id)
        .with_for_update()
    ).scalar_one_or_none()
    if code is None:
        raise NotFound(f"No income code {income_code_id} in department {department_id}")
    return code


def _fields(code: IncomeCode) -> dict:
    return {
        "code": code.code,
        "description": code.description,
        "cost_centre": code.cost_centre,
        "ledger_code": code.ledger_code,
        "active": code.active,
    }


@use_case
def add_income_code(department_id: int, value: IncomeCodeInput, actor: Actor) -> IncomeCodeRow:
    """Add an income code to a department; refuses a code the department already has
    (retired ones included: old invoices name them)."""
    _refuse(income_code_problems(value))
    value = _clean(value)
    found = _locked_department(department_id)
    taken = db.session.scalar(
        sa.select(IncomeCode.id).where(
            IncomeCode.department_id == found.id, IncomeCode.code == value.code
        )
    )
    if taken is not None:
        raise Conflict(f"{found.name} already has income code {value.code}")
    code = IncomeCode(
        department_id=found.id,
        code=value.code,
        description=value.description,
        cost_centre=value.cost_centre,
        ledger_code=value.ledger_code,
        active=True,
    )
    db.session.add(code)
    db.session.flush()
    record_audit(
        actor,
        "income_code.added",
        "income_code",
        code.id,
        after={"department_id": found.id, **_fields(code)},
    )
    db.session.commit()
    return _code_row(code, 0)


@use_case
def edit_income_code(
    department_id: int, income_code_id: int, value: IncomeCodeInput, actor: Actor
) -> IncomeCodeRow:
    """Change an income code's description, cost centre and ledger code (the code itself
    stays: invoices and journals name it)."""
    _refuse(income_code_problems(value, with_code=False))
    value = _clean(value)
    code = _code_for_update(department_id, income_code_id)
    before = _fields(code)
    code.description = value.description
    code.cost_centre = value.cost_centre
    code.ledger_code = value.ledger_code
    db.session.flush()
    record_audit(
        actor, "income_code.changed", "income_code", code.id, before=before, after=_fields(code)
    )
    db.session.commit()
    return income_code(department_id, income_code_id)


@use_case
def set_income_code_active(
    department_id: int, income_code_id: int, active: bool, actor: Actor
) -> IncomeCodeRow:
    """Retire an income code (no longer offered for new invoices) or reinstate it.
    Doing what is already done changes nothing and writes nothing."""
    code = _code_for_update(department_id, income_code_id)
    if code.active != active:
        code.active = active
        db.session.flush()
        record_audit(
            actor,
            "income_code.reinstated" if active else "income_code.retired",
            "income_code",
            code.id,
            before={"active": not active},
            after={"active": active},
        )
    db.session.commit()
    return income_code(department_id, income_code_id)


def terms_problem(days: int | None) -> str | None:
    if days is None or isinstance(days, bool) or not isinstance(days, int):
        return "Enter the payment terms as a whole number of days"
    if not 0 <= days <= MAX_TERMS_DAYS:
        return f"Payment terms must be between 0 and {MAX_TERMS_DAYS} days"
    return None


@use_case
def set_payment_terms(department_id: int, days: int, actor: Actor) -> DepartmentRow:
    """Days from issue to due date on the department's invoices from now on (invoices
    already raised keep their due dates)."""
    problem = terms_problem(days)
    if problem:
        raise InvalidRequest(problem)
    found = _locked_department(department_id)
    before = found.payment_terms_days
    if before != days:
        found.payment_terms_days = days
        db.session.flush()
        record_audit(
            actor,
            "department.payment_terms_changed",
            "service_department",
            found.id,
            before={"payment_terms_days": before},
            after={"payment_terms_days": days},
        )
    db.session.commit()
    return department(department_id)
