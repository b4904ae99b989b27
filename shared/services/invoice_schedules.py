"""Periodic invoices: an officer sets up a schedule on an account (weekly, monthly,
quarterly or yearly, to an end date, for a number of invoices, or until cancelled), and
the daily job raises each period's invoice once.

Once per period, even when the job runs twice or two runs overlap: each period is
raised in its own transaction that locks the schedule row, checks the period is the
next one still to raise, and records it in invoice_schedule_runs, UNIQUE per
(schedule, period date). A run that loses the race (PostgreSQL waits on the lock and
then sees the period done; SQLite refuses the second writer or the duplicate row)
raises nothing. Periods are raised in order, so a schedule's `raised_count` says
which are done; after days without a run each missed period is raised once (dated the
day it is actually raised, so the debtor always gets the full payment terms).

Who may set one up: an officer with RAISE_INVOICES whose invoice limit covers one
invoice of the schedule. There is no checking queue for schedules yet, so above the
limit (and always for a service department's own staff, whose invoices are checked
before they go out) the schedule is refused with a plain "ask an officer who can issue
invoices of this size" rather than set up unchecked.

Accounts in Breathing Space are still billed: the moratorium stops enforcement of the
debts it covers, not new charges as they arise (the debtor must keep paying ongoing
liabilities), and an invoice is not a demand. A deceased account's schedules are
cancelled by the job with a timeline note, not billed: charges for a person stop at
death, and what the estate owes is an officer's decision.

The daily run that raises each period's invoice is in
shared/services/invoice_schedule_runs.py.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from shared import clock
from shared.domain import periodic
from shared.domain.permissions import Permission, role_has
from shared.domain.vat import VatRate, vat_on
from shared.extensions import db
from shared.models import (
    SCHEDULE_TRANSITIONS,
    DebtorAccount,
    IncomeCode,
    Invoice,
    InvoiceFrequency,
    InvoiceSchedule,
    InvoiceScheduleLine,
    InvoiceScheduleRun,
    ScheduleStatus,
    ServiceDepartment,
    StaffRole,
    StaffUser,
)
from shared.money import format_gbp
from shared.services.actors import Actor
from shared.services.errors import Conflict, Forbidden, InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.unit_of_work import use_case

logger = logging.getLogger(__name__)

AUDIT_OBJECT = "invoice_schedule"
MAX_LINES = 10
MAX_DESCRIPTION = 300
MAX_PURCHASE_ORDER = 40
MAX_REASON = 1000
MAX_QUANTITY = 10_000
# One invoice of a schedule: £1m at most, well inside the integer pence columns.
MAX_INVOICE_PENCE = 100_000_000
OVER_LIMIT = (
    "Each invoice would be {total}, above your invoice limit of {limit}: "
    "ask an officer who can issue invoices of this size to set up the schedule"
)
SERVICE_DEPARTMENT_REFUSED = (
    "Periodic invoices are set up by the income team: "
    "ask an officer who can issue invoices of this size"
)


class ScheduleRefused(InvalidRequest):
    """The schedule cannot be made as asked; `field` names the form field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class LineRequest:
    description: str
    quantity: int
    unit_price_pence: int
    vat_rate: VatRate = VatRate.OUTSIDE_SCOPE


@dataclass(frozen=True)
class ScheduleRequest:
    department_id: int
    description: str
    frequency: str
    start: date
    lines: Sequence[LineRequest]
    income_code_id: int | None = None
    purchase_order: str | None = None
    end: date | None = None
    count: int | None = None

    @property
    def terms(self) -> periodic.Terms:
        return periodic.Terms(self.frequency, self.start, self.end, self.count)


def invoice_total_pence(lines: Sequence[LineRequest]) -> int:
    """One invoice's total with VAT at today's rates (what the officer's limit is
    checked against; each invoice charges the rate in force when it is raised)."""
    return sum(
        line.quantity * line.unit_price_pence
        + vat_on(line.quantity * line.unit_price_pence, line.vat_rate)
        for line in lines
    )


def request_problems(request: ScheduleRequest, today: date) -> dict[str, str]:
    """Each field's problem in GOV.UK words (empty when the schedule will do)."""
    problems: dict[str, str] = {}
    description = (request.description or "").strip()
    if not description:
        problems["description"] = "Enter what the invoices are for"
    elif len(description) > MAX_DESCRIPTION:
        problems["description"] = f"Description must be {MAX_DESCRIPTION} characters or fewer"
    if request.purchase_order and len(request.purchase_order.strip()) > MAX_PURCHASE_ORDER:
        problems["purchase_order"] = (
            f"Purchase order number must be {MAX_PURCHASE_ORDER} characters or fewer"
        )
    problems.update(periodic.terms_problems(request.terms, today))
    if not request.lines:
        problems["lines"] = "Enter at least one line to charge"
    elif len(request.lines) > MAX_LINES:
        problems["lines"] = f"Enter {MAX_LINES} lines or fewer"
    for line in request.lines:
        if not line.description.strip() or len(line.description) > MAX_DESCRIPTION:
            problems.setdefault(
                "lines", f"Each line needs a description of {MAX_DESCRIPTION} characters or fewer"
            )
        if not 1 <= line.quantity <= MAX_QUANTITY:
            problems.setdefault(
                "lines", f"Each line's quantity must be a whole number from 1 to {MAX_QUANTITY:,}"
            )
        if not 0 <= line.unit_price_pence <= MAX_INVOICE_PENCE:
            problems.setdefault(
                "lines",
                f"Each line's price must be between £0 and {format_gbp(MAX_INVOICE_PENCE)}",
            )
        if line.vat_rate not in set(VatRate):
            problems.setdefault("lines", "Select each line's VAT rate")
    if "lines" not in problems:
        total = invoice_total_pence(request.lines)
        if total <= 0:
            problems["lines"] = "Each invoice must be for more than £0"
        elif total > MAX_INVOICE_PENCE:
            problems["lines"] = f"Each invoice must be {format_gbp(MAX_INVOICE_PENCE)} or less"
    return problems


# --- read objects ------------------------------------------------------------------------


@dataclass(frozen=True)
class RaisedInvoice:
    sequence: int
    period_date: date
    number: str
    total_pence: int


@dataclass(frozen=True)
class ScheduleLineView:
    description: str
    quantity: int
    unit_price_pence: int
    vat_rate: str


@dataclass(frozen=True)
class ScheduleView:
    id: int
    account_id: int
    department_name: str
    income_code: str | None
    description: str
    purchase_order: str | None
    frequency: str
    terms: str  # "Monthly from 31 January 2026, 12 invoices"
    status: ScheduleStatus
    next_date: date | None
    invoice_total_pence: int
    raised: tuple[RaisedInvoice, ...]
    lines: tuple[ScheduleLineView, ...]
    cancel_reason: str | None

    @property
    def can_cancel(self) -> bool:
        return ScheduleStatus.CANCELLED in SCHEDULE_TRANSITIONS[self.status]


def terms_of(schedule: InvoiceSchedule) -> periodic.Terms:
    return periodic.Terms(
        str(schedule.frequency), schedule.start_date, schedule.end_date, schedule.occurrences
    )


def _views(schedules: Sequence[InvoiceSchedule]) -> list[ScheduleView]:
    if not schedules:
        return []
    ids = [s.id for s in schedules]
    raised: dict[int, list[RaisedInvoice]] = {i: [] for i in ids}
    for row in db.session.execute(
        sa.select(
            InvoiceScheduleRun.schedule_id,
            InvoiceScheduleRun.sequence,
            InvoiceScheduleRun.period_date,
            Invoice.number,
            Invoice.total_pence,
        )
        .join(Invoice, Invoice.id == InvoiceScheduleRun.invoice_id)
        .where(InvoiceScheduleRun.schedule_id.in_(ids))
        .order_by(InvoiceScheduleRun.schedule_id, InvoiceScheduleRun.sequence)
    ):
        raised[row.schedule_id].append(
            RaisedInvoice(row.sequence, row.period_date, row.number, row.total_pence)
        )
    departments = dict(
        db.session.execute(
            sa.select(ServiceDepartment.id, ServiceDepartment.name).where(
                ServiceDepartment.id.in_({s.department_id for s in schedules})
            )
        ).all()
    )
    codes = dict(
        db.session.execute(
            sa.select(IncomeCode.id, IncomeCode.code).where(
                IncomeCode.id.in_({s.income_code_id for s in schedules if s.income_code_id})
            )
        ).all()
    )
    views = []
    for s in schedules:
        lines = [
            LineRequest(line.description, line.quantity, line.unit_price_pence, line.vat_rate)
            for line in s.lines
        ]
        views.append(
            ScheduleView(
                id=s.id,
                account_id=s.account_id,
                department_name=departments.get(s.department_id, ""),
                income_code=codes.get(s.income_code_id) if s.income_code_id else None,
                description=s.description,
                purchase_order=s.purchase_order,
                frequency=str(s.frequency),
                terms=periodic.describe(terms_of(s)),
                status=s.status,
                next_date=s.next_period_date,
                invoice_total_pence=invoice_total_pence(lines),
                raised=tuple(raised[s.id]),
                lines=tuple(
                    ScheduleLineView(
                        line.description,
                        line.quantity,
                        line.unit_price_pence,
                        str(line.vat_rate),
                    )
                    for line in lines
                ),
                cancel_reason=s.cancel_reason,
            )
        )
    return views


def schedules_for_account(account_id: int) -> list[ScheduleView]:
    """The account's schedules, active first, then newest first."""
    schedules = db.session.scalars(
        sa.select(InvoiceSchedule)
        .where(InvoiceSchedule.account_id == account_id)
        .order_by(
            (InvoiceSchedule.status == ScheduleStatus.ACTIVE).desc(), InvoiceSchedule.id.desc()
        )
    ).all()
    return _views(schedules)


def schedule_for_account(account_id: int, schedule_id: int) -> ScheduleView | None:
    """One schedule of the account (None if it is not this account's)."""
    schedule = db.session.get(InvoiceSchedule, schedule_id)
    if schedule is None or schedule.account_id != account_id:
        return None
    return _views([schedule])[0]


def departments() -> list[tuple[int, str]]:
    """(id, name) of every service department, by name: who a schedule may bill for."""
    return [
        (row.id, row.name)
        for row in db.session.execute(
            sa.select(ServiceDepartment.id, ServiceDepartment.name).order_by(
                ServiceDepartment.name, ServiceDepartment.id
            )
        )
    ]


def income_codes() -> list[tuple[int, str]]:
    """(id, "Department: CODE description") of every income code that may be chosen."""
    return [
        (row.id, f"{row.name}: {row.code} {row.description}")
        for row in db.session.execute(
            sa.select(
                IncomeCode.id, IncomeCode.code, IncomeCode.description, ServiceDepartment.name
            )
            .join(ServiceDepartment, ServiceDepartment.id == IncomeCode.department_id)
            .where(IncomeCode.active.is_(True))
            .order_by(ServiceDepartment.name, IncomeCode.code)
        )
    ]


# --- commands ----------------------------------------------------------------------------


def _check_staff(actor: Actor, total_pence: int) -> None:
    staff = db.session.get(StaffUser, actor.staff_id) if actor.staff_id else None
    if staff is None or not staff.active or not role_has(staff.role, Permission.RAISE_INVOICES):
        raise Forbidden("Only officers who raise invoices set up periodic invoices")
    if staff.role == StaffRole.SERVICE_DEPARTMENT:
        raise ScheduleRefused("lines", SERVICE_DEPARTMENT_REFUSED)
    if total_pence > staff.invoice_limit_pence:
        raise ScheduleRefused(
            "lines",
            OVER_LIMIT.format(
                total=format_gbp(total_pence), limit=format_gbp(staff.invoice_limit_pence)
            ),
        )


@use_case
def create_schedule(
    account_id: int, request: ScheduleRequest, actor: Actor, *, today: date
) -> ScheduleView:
    """Set up a periodic invoice schedule on the account (one commit)."""
    account = db.session.get(DebtorAccount, account_id)
    if account is None:
        raise NotFound(f"No debtor account {account_id}")
    problems = request_problems(request, today)
    if problems:
        name, message = next(iter(problems.items()))
        raise ScheduleRefused(name, message)
    if account.deceased:
        raise ScheduleRefused("description", "The account holder has died: no new schedules")
    department = db.session.get(ServiceDepartment, request.department_id)
    if department is None:
        raise ScheduleRefused("department_id", "Select the department the invoices are for")
    if request.income_code_id is not None:
        code = db.session.get(IncomeCode, request.income_code_id)
        if code is None or not code.active or code.department_id != department.id:
            raise ScheduleRefused(
                "income_code_id", f"Select one of {department.name}'s income codes"
            )
    total = invoice_total_pence(request.lines)
    _check_staff(actor, total)

    first = periodic.period(request.terms, 1)
    assert first is not None  # terms_problems: the end is on or after the start
    schedule = InvoiceSchedule(
        account_id=account.id,
        department_id=department.id,
        income_code_id=request.income_code_id,
        description=request.description.strip(),
        purchase_order=(request.purchase_order or "").strip() or None,
        frequency=InvoiceFrequency(request.frequency),
        start_date=request.start,
        end_date=request.end,
        occurrences=request.count,
        status=ScheduleStatus.ACTIVE,
        next_period_date=first.day,
        raised_count=0,
        created_by_staff_id=actor.staff_id,
        lines=[
            InvoiceScheduleLine(
                line_no=n,
                description=line.description.strip(),
                quantity=line.quantity,
                unit_price_pence=line.unit_price_pence,
                vat_rate=VatRate(line.vat_rate),
            )
            for n, line in enumerate(request.lines, start=1)
        ],
    )
    db.session.add(schedule)
    db.session.flush()
    terms = periodic.describe(request.terms)
    record_timeline(
        account.id,
        actor,
        f"Periodic invoice set up: {schedule.description}, {format_gbp(total)} each",
        detail=f"{terms}. First invoice {first.day:%-d %B %Y}.",
    )
    record_audit(
        actor,
        "invoice_schedule.created",
        AUDIT_OBJECT,
        schedule.id,
        account_id=account.id,
        after={
            "frequency": request.frequency,
            "start_date": request.start.isoformat(),
            "end_date": request.end.isoformat() if request.end else None,
            "occurrences": request.count,
            "invoice_total_pence": total,
            "department_id": department.id,
            "income_code_id": request.income_code_id,
        },
    )
    db.session.commit()
    return _views([schedule])[0]


def lock_schedule(schedule_id: int) -> InvoiceSchedule | None:
    return db.session.execute(
        sa.select(InvoiceSchedule)
        .where(InvoiceSchedule.id == schedule_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def move(schedule: InvoiceSchedule, to: ScheduleStatus) -> None:
    if to not in SCHEDULE_TRANSITIONS[schedule.status]:
        raise Conflict(f"This schedule has {schedule.status.value} already")
    schedule.status = to
    schedule.next_period_date = None


def cancel_locked(schedule: InvoiceSchedule, reason: str, actor: Actor) -> None:
    move(schedule, ScheduleStatus.CANCELLED)
    schedule.cancelled_by_staff_id = actor.staff_id
    schedule.cancelled_at = clock.utcnow()
    schedule.cancel_reason = reason
    record_timeline(
        schedule.account_id,
        actor,
        f"Periodic invoice cancelled: {schedule.description}",
        detail=reason,
    )
    record_audit(
        actor,
        "invoice_schedule.cancelled",
        AUDIT_OBJECT,
        schedule.id,
        account_id=schedule.account_id,
        before={"status": ScheduleStatus.ACTIVE.value},
        after={"status": ScheduleStatus.CANCELLED.value, "reason": reason},
    )


@use_case
def cancel_schedule(account_id: int, schedule_id: int, reason: str, actor: Actor) -> ScheduleView:
    """Stop a schedule raising any more invoices, with the reason (one commit). Invoices
    already raised stay: a wrong one is corrected with a credit note."""
    if actor.staff_id is None:
        raise Forbidden("Only staff cancel periodic invoices")
    text = (reason or "").strip()
    if not text:
        raise ScheduleRefused("reason", "Enter why the schedule is being cancelled")
    if len(text) > MAX_REASON:
        raise ScheduleRefused("reason", f"Reason must be {MAX_REASON:,} characters or fewer")
    schedule = lock_schedule(schedule_id)
    if schedule is None or schedule.account_id != account_id:
        raise NotFound(f"No schedule {schedule_id} on this account")
    cancel_locked(schedule, text, actor)
    db.session.commit()
    return _views([schedule])[0]


# --- the daily job -----------------------------------------------------------------------
