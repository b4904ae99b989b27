"""Raising an invoice as a draft: its details, its lines, sending it for checking or
cancelling it, and what the raiser reads.

Only the raiser changes a draft, and only while it is a draft or returned to them. A
service-department user raises invoices for their own department only, and sees only
their own drafts. Income codes must belong to the invoice's department and be in use.
Every change carries the version of the draft the form was drawn from: a change made
meanwhile (another tab, a second click) is refused rather than overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from shared import clock
from shared.domain.invoice_checks import (
    EDITABLE,
    SERVICE_DEPARTMENT,
    STATUS_WORDS,
    CheckRefused,
    DraftStatus,
    check_move,
)
from shared.domain.permissions import Permission, role_has
from shared.domain.vat import NoRateInForce, RatePeriod, VatRate, rate_in_force, rate_words, vat_at
from shared.extensions import db
from shared.models import (
    DebtorAccount,
    IncomeCode,
    InvoiceDraft,
    InvoiceDraftLine,
    ServiceDepartment,
    StaffUser,
    VatRatePeriod,
)
from shared.services.actors import Actor
from shared.services.errors import Conflict, Forbidden, InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.unit_of_work import use_case

AUDIT_OBJECT = "invoice_draft"
MAX_DESCRIPTION = 300
MAX_PURCHASE_ORDER = 40
MAX_LINES = 50
MAX_QUANTITY = 100_000
# An invoice's total is stored in a 32-bit column: £20 million is far above any
# sundry invoice and well inside it.
MAX_TOTAL_PENCE = 2_000_000_000
# A due date further out than this is a typing mistake.
MAX_DAYS_TO_DUE = 366
VAT_CHOICES = (
    VatRate.OUTSIDE_SCOPE,
    VatRate.STANDARD,
    VatRate.REDUCED,
    VatRate.ZERO,
    VatRate.EXEMPT,
)
VAT_CHOICE_WORDS = {
    VatRate.OUTSIDE_SCOPE: "No VAT (outside the scope)",
    VatRate.STANDARD: "Standard rate",
    VatRate.REDUCED: "Reduced rate",
    VatRate.ZERO: "Zero rate",
    VatRate.EXEMPT: "Exempt",
}


# --- what the raiser types --------------------------------------------------------------


@dataclass(frozen=True)
class DraftDetails:
    department_id: int | None
    income_code_id: int | None
    description: str
    purchase_order: str | None = None
    due_date: date | None = None


@dataclass(frozen=True)
class LineDetails:
    description: str
    quantity: int | None
    unit_price_pence: int | None
    vat_rate: VatRate | str | None


def details_problems(details: DraftDetails, today: date) -> dict[str, str]:
    """Each field's problem in GOV.UK words (empty when the details will do)."""
    problems = {}
    if not details.income_code_id:
        problems["income_code"] = "Select an income code"
    description = (details.description or "").strip()
    if not description:
        problems["description"] = "Enter a description the debtor will read"
    elif len(description) > MAX_DESCRIPTION:
        problems["description"] = f"Description must be {MAX_DESCRIPTION} characters or fewer"
    if details.purchase_order and len(details.purchase_order.strip()) > MAX_PURCHASE_ORDER:
        problems["purchase_order"] = (
            f"Purchase order number must be {MAX_PURCHASE_ORDER} characters or fewer"
        )
    if details.due_date is not None:
        if details.due_date < today:
            problems["due_date"] = "Due date must be today or in the future"
        elif details.due_date > today + timedelta(days=MAX_DAYS_TO_DUE):
            problems["due_date"] = "Due date must be within a year"
    return problems


def line_problems(line: LineDetails) -> dict[str, str]:
    """Each field's problem in GOV.UK words (empty when the line will do)."""
    problems = {}
    description = (line.description or "").strip()
    if not description:
        problems["description"] = "Enter what the line is for"
    elif len(description) > MAX_DESCRIPTION:
        problems["description"] = f"Description must be {MAX_DESCRIPTION} characters or fewer"
    if line.quantity is None or isinstance(line.quantity, bool) or line.quantity <= 0:
        problems["quantity"] = "Quantity must be a whole number, 1 or more"
    elif line.quantity > MAX_QUANTITY:
        problems["quantity"] = f"Quantity must be {MAX_QUANTITY:,} or fewer"
    if line.unit_price_pence is None or line.unit_price_pence < 0:
        problems["unit_price"] = "Enter a unit price in pounds, like 125.00"
    elif line.unit_price_pence > MAX_TOTAL_PENCE:
        problems["unit_price"] = "Unit price must be £20,000,000 or less"
    if line.vat_rate not in {r.value for r in VAT_CHOICES}:
        problems["vat_rate"] = "Select a VAT rate"
    return problems


# --- what the pages read ----------------------------------------------------------------


def staff_acting(actor: Actor) -> StaffUser:
    if actor.staff_id is None:
        raise Forbidden("Only staff raise invoices")
    user = db.session.get(StaffUser, actor.staff_id)
    if user is None or not user.active:
        raise Forbidden("Only staff raise invoices")
    return user


def _raiser_may_raise(user: StaffUser) -> None:
    if not role_has(user.role, Permission.RAISE_INVOICES):
        raise Forbidden("You do not have permission to raise invoices")


def rates_on(day: date) -> dict[VatRate, int]:
    """Each VAT rate's basis points in force on `day` (shared.domain.vat.rate_in_force)."""
    periods = [
        RatePeriod(VatRate(p.rate), p.valid_from, p.basis_points)
        for p in db.session.scalars(sa.select(VatRatePeriod))
    ]
    rates = {}
    for rate in VatRate:
        try:
            rates[rate] = rate_in_force(periods, rate, day)
        except NoRateInForce:
            continue
    return rates


@dataclass(frozen=True)
class DraftLineView:
    line_no: int
    description: str
    quantity: int
    unit_price_pence: int
    vat_rate: VatRate
    vat_words: str
    net_pence: int
    vat_pence: int

    @property
    def total_pence(self) -> int:
        return self.net_pence + self.vat_pence


def line_views(lines, rates: dict[VatRate, int]) -> tuple[DraftLineView, ...]:
    views = []
    for line in lines:
        rate = VatRate(line.vat_rate)
        net = line.quantity * line.unit_price_pence
        bp = rates.get(rate, 0)
        views.append(
            DraftLineView(
                line_no=line.line_no,
                description=line.description,
                quantity=line.quantity,
                unit_price_pence=line.unit_price_pence,
                vat_rate=rate,
                vat_words=rate_words(rate, bp),
                net_pence=net,
                vat_pence=vat_at(net, bp),
            )
        )
    return tuple(views)


def draft_total_pence(draft: InvoiceDraft, day: date) -> int:
    """The draft's total with VAT at the rates in force on `day`."""
    return sum(v.total_pence for v in line_views(draft.lines, rates_on(day)))


def check_department(user: StaffUser, department_id: int | None, income_code_id: int | None):
    """The department and income code, if this person may raise for them: a service-
    department user only for their own department; the code must be the department's
    and in use."""
    department = db.session.get(ServiceDepartment, department_id) if department_id else None
    if department is None:
        raise InvalidRequest("Select an income code")
    if user.role == SERVICE_DEPARTMENT and user.department_id != department.id:
        raise Forbidden("You can only raise invoices for your own department")
    code = db.session.get(IncomeCode, income_code_id) if income_code_id else None
    if code is None or code.department_id != department.id:
        raise InvalidRequest(f"Select one of {department.name}’s income codes")
    if not code.active:
        raise InvalidRequest(f"Income code {code.code} is no longer in use: select another")
    return department, code


def locked_draft(draft_id: int) -> InvoiceDraft:
    draft = db.session.execute(
        sa.select(InvoiceDraft).where(InvoiceDraft.id == draft_id).with_for_update()
    ).scalar_one_or_none()
    if draft is None:
        raise NotFound("There is no such invoice draft")
    return draft


def raisers_draft(draft_id: int, user: StaffUser, version: int | None) -> InvoiceDraft:
    """The draft, locked, if `user` raised it and `version` is still its version."""
    draft = locked_draft(draft_id)
    if draft.raised_by_staff_id != user.id:
        # Another raiser's draft looks like none at all to a service-department user.
        if user.role == SERVICE_DEPARTMENT:
            raise NotFound("There is no such invoice draft")
        raise Forbidden("Only the person who raised this invoice can change it")
    same_version(draft, version)
    return draft


def same_version(draft: InvoiceDraft, version: int | None) -> None:
    if version is not None and version != draft.version:
        raise Conflict("This invoice has changed since you opened it. Check it again and try again")


def _editable(draft: InvoiceDraft) -> None:
    if draft.status not in EDITABLE:
        raise InvalidRequest(
            f"This invoice is {STATUS_WORDS[draft.status].lower()}, so it cannot be changed"
        )


def _touch(draft: InvoiceDraft) -> None:
    draft.version += 1
    draft.updated_at = clock.utcnow()


def _audit(actor: Actor, action: str, draft: InvoiceDraft, **after) -> None:
    record_audit(
        actor, action, AUDIT_OBJECT, draft.id, account_id=draft.account_id, after=after or None
    )


def _first_problem(problems: dict[str, str]) -> None:
    if problems:
        raise InvalidRequest(next(iter(problems.values())))


# --- use cases --------------------------------------------------------------------------


@use_case
def start_draft(account_id: int, details: DraftDetails, actor: Actor) -> InvoiceDraft:
    """Start an invoice for an account: its department, income code and description."""
    user = staff_acting(actor)
    _raiser_may_raise(user)
    if db.session.get(DebtorAccount, account_id) is None:
        raise NotFound("There is no such account")
    _first_problem(details_problems(details, clock.today()))
    department, code = check_department(user, details.department_id, details.income_code_id)
    draft = InvoiceDraft(
        account_id=account_id,
        department_id=department.id,
        income_code_id=code.id,
        description=details.description.strip(),
        purchase_order=(details.purchase_order or "").strip() or None,
        due_date=details.due_date,
        status=DraftStatus.DRAFT,
        raised_by_staff_id=user.id,
        version=1,
    )
    db.session.add(draft)
    db.session.flush()
    record_timeline(
        account_id, actor, f"Invoice started (not issued yet): {draft.description}"[:300]
    )
    _audit(
        actor,
        "invoice_draft.started",
        draft,
        department_id=department.id,
        income_code_id=code.id,
        description=draft.description,
        purchase_order=draft.purchase_order,
        due_date=draft.due_date.isoformat() if draft.due_date else None,
    )
    db.session.commit()
    return draft


@use_case
def change_details(draft_id: int, version: int, details: DraftDetails, actor: Actor) -> None:
    """Change a draft's department, income code, description, purchase order or due date."""
    user = staff_acting(actor)
    draft = raisers_draft(draft_id, user, version)
    _editable(draft)
    _first_problem(details_problems(details, clock.today()))
    department, code = check_department(user, details.department_id, details.income_code_id)
    before = {
        "department_id": draft.department_id,
        "income_code_id": draft.income_code_id,
        "description": draft.description,
        "purchase_order": draft.purchase_order,
        "due_date": draft.due_date.isoformat() if draft.due_date else None,
    }
    draft.department_id = department.id
    draft.income_code_id = code.id
    draft.description = details.description.strip()
    draft.purchase_order = (details.purchase_order or "").strip() or None
    draft.due_date = details.due_date
    _touch(draft)
    record_audit(
        actor,
        "invoice_draft.changed",
        AUDIT_OBJECT,
        draft.id,
        account_id=draft.account_id,
        before=before,
        after={
            "department_id": draft.department_id,
            "income_code_id": draft.income_code_id,
            "description": draft.description,
            "purchase_order": draft.purchase_order,
            "due_date": draft.due_date.isoformat() if draft.due_date else None,
        },
    )
    db.session.commit()


@use_case
def add_line(draft_id: int, version: int, line: LineDetails, actor: Actor) -> None:
    """Add a line (quantity, unit price and VAT rate) to the end of a draft."""
    user = staff_acting(actor)
    draft = raisers_draft(draft_id, user, version)
    _editable(draft)
    _first_problem(line_problems(line))
    if len(draft.lines) >= MAX_LINES:
        raise InvalidRequest(f"An invoice can have at most {MAX_LINES} lines")
    new = InvoiceDraftLine(
        line_no=max((existing.line_no for existing in draft.lines), default=0) + 1,
        description=line.description.strip(),
        quantity=line.quantity,
        unit_price_pence=line.unit_price_pence,
        vat_rate=VatRate(line.vat_rate),
    )
    draft.lines.append(new)
    if draft_total_pence(draft, clock.today()) > MAX_TOTAL_PENCE:
        raise InvalidRequest("An invoice must be for £20,000,000 or less")
    _touch(draft)
    _audit(
        actor,
        "invoice_draft.line_added",
        draft,
        line_no=new.line_no,
        description=new.description,
        quantity=new.quantity,
        unit_price_pence=new.unit_price_pence,
        vat_rate=new.vat_rate.value,
    )
    db.session.commit()


@use_case
def remove_line(draft_id: int, version: int, line_no: int, actor: Actor) -> None:
    """Take a line off a draft."""
    user = staff_acting(actor)
    draft = raisers_draft(draft_id, user, version)
    _editable(draft)
    line = next((existing for existing in draft.lines if existing.line_no == line_no), None)
    if line is None:
        raise NotFound("There is no such line on this invoice")
    draft.lines.remove(line)
    _touch(draft)
    _audit(
        actor,
        "invoice_draft.line_removed",
        draft,
        line_no=line.line_no,
        description=line.description,
        quantity=line.quantity,
        unit_price_pence=line.unit_price_pence,
    )
    db.session.commit()


@use_case
def send_for_checking(draft_id: int, version: int, actor: Actor) -> None:
    """Put a draft (or a returned one, changed) in the checking queue."""
    user = staff_acting(actor)
    draft = raisers_draft(draft_id, user, version)
    try:
        check_move(draft.status, DraftStatus.AWAITING_CHECK)
    except CheckRefused as exc:
        raise InvalidRequest(str(exc)) from None
    if not draft.lines:
        raise InvalidRequest("Add at least one line before sending the invoice for checking")
    total = draft_total_pence(draft, clock.today())
    if total <= 0:
        raise InvalidRequest("An invoice must be for more than £0")
    before = draft.status
    draft.status = DraftStatus.AWAITING_CHECK
    draft.submitted_at = clock.utcnow()
    _touch(draft)
    record_timeline(
        draft.account_id, actor, f"Invoice sent for checking: {draft.description}"[:300]
    )
    record_audit(
        actor,
        "invoice_draft.sent_for_checking",
        AUDIT_OBJECT,
        draft.id,
        account_id=draft.account_id,
        before={"status": before.value},
        after={"status": draft.status.value, "total_pence": total},
    )
    db.session.commit()


@use_case
def cancel(draft_id: int, version: int, actor: Actor) -> None:
    """Abandon a draft that has not been issued (nothing reaches the ledger)."""
    user = staff_acting(actor)
    draft = raisers_draft(draft_id, user, version)
    try:
        check_move(draft.status, DraftStatus.CANCELLED)
    except CheckRefused as exc:
        raise InvalidRequest(str(exc)) from None
    before = draft.status
    draft.status = DraftStatus.CANCELLED
    _touch(draft)
    record_timeline(
        draft.account_id, actor, f"Invoice cancelled before issue: {draft.description}"[:300]
    )
    record_audit(
        actor,
        "invoice_draft.cancelled",
        AUDIT_OBJECT,
        draft.id,
        account_id=draft.account_id,
        before={"status": before.value},
        after={"status": draft.status.value},
    )
    db.session.commit()


# --- reads ------------------------------------------------------------------------------
