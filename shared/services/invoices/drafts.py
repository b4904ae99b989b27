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
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from shared import clock
from shared.domain.invoice_checks import (
    EDITABLE,
    SERVICE_DEPARTMENT,
    STATUS_WORDS,
    CheckRefused,
    DraftStatus,
    Raiser,
    check_move,
    needs_check,
    why_checker_refused,
    why_unchecked_issue_refused,
)
from shared.domain.names import display_name
from shared.domain.permissions import Permission, role_has
from shared.domain.vat import NoRateInForce, RatePeriod, VatRate, rate_in_force, rate_words, vat_at
from shared.extensions import db
from shared.models import (
    Address,
    DebtorAccount,
    IncomeCode,
    Invoice,
    InvoiceDraft,
    InvoiceDraftLine,
    ServiceDepartment,
    StaffUser,
    VatRatePeriod,
)
from shared.services.actors import Actor
from shared.services.bill_lookup import normalise_reference
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


@dataclass(frozen=True)
class DraftView:
    id: int
    version: int
    status: DraftStatus
    status_words: str
    account_id: int
    account_reference: str
    account_name: str
    account_postcode: str
    department_id: int
    department_name: str
    payment_terms_days: int
    income_code_id: int
    income_code: str
    description: str
    purchase_order: str | None
    due_date: date | None  # as the raiser set it; None: from the payment terms
    due_if_issued_today: date
    raised_by_id: int
    raised_by_name: str
    raiser_role: str
    raiser_limit_pence: int
    created_at: datetime
    submitted_at: datetime | None
    checked_by_name: str | None
    checked_at: datetime | None
    return_note: str | None
    invoice_number: str | None
    lines: tuple[DraftLineView, ...]
    net_pence: int
    vat_pence: int

    @property
    def total_pence(self) -> int:
        return self.net_pence + self.vat_pence

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def raiser(self) -> Raiser:
        return Raiser(self.raised_by_id, self.raiser_role, self.raiser_limit_pence)

    @property
    def needs_check(self) -> bool:
        return needs_check(self.raiser, self.total_pence)

    def may_issue_unchecked(self, staff_id: int) -> bool:
        return (
            self.status == DraftStatus.DRAFT
            and bool(self.lines)
            and why_unchecked_issue_refused(self.raiser, staff_id, self.total_pence) is None
        )

    def may_check(self, staff_id: int, role: str) -> bool:
        return (
            self.status == DraftStatus.AWAITING_CHECK
            and why_checker_refused(staff_id, role, self.raised_by_id) is None
        )


@dataclass(frozen=True)
class DraftRow:
    id: int
    status: DraftStatus
    status_words: str
    account_reference: str
    account_name: str
    department_name: str
    description: str
    total_pence: int
    raised_by_name: str
    created_at: datetime
    submitted_at: datetime | None
    invoice_number: str | None
    return_note: str | None


@dataclass(frozen=True)
class IncomeCodeChoice:
    id: int
    department_id: int
    label: str


@dataclass(frozen=True)
class AccountFound:
    """All a service-department user is shown of an account: enough to pick the right one."""

    reference: str
    name: str
    postcode: str


# --- helpers ----------------------------------------------------------------------------


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


def _line_views(lines, rates: dict[VatRate, int]) -> tuple[DraftLineView, ...]:
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
    return sum(v.total_pence for v in _line_views(draft.lines, rates_on(day)))


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


def _may_view(draft: InvoiceDraft, viewer: StaffUser) -> bool:
    if draft.raised_by_staff_id == viewer.id:
        return True
    return viewer.role != SERVICE_DEPARTMENT and role_has(viewer.role, Permission.CHECK_INVOICES)


def draft_view(draft_id: int, viewer_id: int) -> DraftView | None:
    """The draft as its page shows it, with totals at today's VAT rates; None when there
    is no such draft or this person may not see it (a service-department user sees only
    their own; checkers see any)."""
    viewer = db.session.get(StaffUser, viewer_id)
    draft = db.session.get(InvoiceDraft, draft_id)
    if viewer is None or draft is None or not _may_view(draft, viewer):
        return None
    today = clock.today()
    account = db.session.get(DebtorAccount, draft.account_id)
    department = db.session.get(ServiceDepartment, draft.department_id)
    code = db.session.get(IncomeCode, draft.income_code_id)
    raiser = db.session.get(StaffUser, draft.raised_by_staff_id)
    checker = (
        db.session.get(StaffUser, draft.checked_by_staff_id) if draft.checked_by_staff_id else None
    )
    invoice = db.session.get(Invoice, draft.invoice_id) if draft.invoice_id else None
    lines = _line_views(draft.lines, rates_on(today))
    return DraftView(
        id=draft.id,
        version=draft.version,
        status=draft.status,
        status_words=STATUS_WORDS[draft.status],
        account_id=account.id,
        account_reference=account.reference,
        account_name=_name(account),
        account_postcode=_postcode(account.id),
        department_id=department.id,
        department_name=department.name,
        payment_terms_days=department.payment_terms_days,
        income_code_id=code.id,
        income_code=f"{code.code} {code.description}",
        description=draft.description,
        purchase_order=draft.purchase_order,
        due_date=draft.due_date,
        due_if_issued_today=draft.due_date or today + timedelta(days=department.payment_terms_days),
        raised_by_id=raiser.id,
        raised_by_name=raiser.full_name,
        raiser_role=raiser.role.value,
        raiser_limit_pence=raiser.invoice_limit_pence,
        created_at=draft.created_at,
        submitted_at=draft.submitted_at,
        checked_by_name=checker.full_name if checker else None,
        checked_at=draft.checked_at,
        return_note=draft.return_note,
        invoice_number=invoice.number if invoice else None,
        lines=lines,
        net_pence=sum(line.net_pence for line in lines),
        vat_pence=sum(line.vat_pence for line in lines),
    )


def _name(account: DebtorAccount) -> str:
    return display_name(
        account.kind, account.title, account.forename, account.surname, account.organisation_name
    )


def _postcode(account_id: int) -> str:
    return (
        db.session.scalar(
            sa.select(Address.postcode)
            .where(Address.account_id == account_id)
            .order_by(Address.is_primary.desc(), Address.id)
            .limit(1)
        )
        or ""
    )


def _rows(query) -> list[DraftRow]:
    raiser = sa.orm.aliased(StaffUser)
    rows = db.session.execute(
        query.add_columns(
            DebtorAccount.reference,
            DebtorAccount.kind,
            DebtorAccount.title,
            DebtorAccount.forename,
            DebtorAccount.surname,
            DebtorAccount.organisation_name,
            ServiceDepartment.name.label("department_name"),
            raiser.full_name.label("raiser_name"),
            Invoice.number.label("invoice_number"),
        )
        .join(DebtorAccount, DebtorAccount.id == InvoiceDraft.account_id)
        .join(ServiceDepartment, ServiceDepartment.id == InvoiceDraft.department_id)
        .join(raiser, raiser.id == InvoiceDraft.raised_by_staff_id)
        .outerjoin(Invoice, Invoice.id == InvoiceDraft.invoice_id)
    ).all()
    drafts = {
        d.id: d
        for d in db.session.scalars(
            sa.select(InvoiceDraft)
            .where(InvoiceDraft.id.in_([r[0].id for r in rows]))
            .options(sa.orm.selectinload(InvoiceDraft.lines))
        )
    }
    rates = rates_on(clock.today())
    result = []
    for r in rows:
        draft = drafts[r[0].id]
        total = sum(v.total_pence for v in _line_views(draft.lines, rates))
        result.append(
            DraftRow(
                id=draft.id,
                status=draft.status,
                status_words=STATUS_WORDS[draft.status],
                account_reference=r.reference,
                account_name=display_name(
                    r.kind, r.title, r.forename, r.surname, r.organisation_name
                ),
                department_name=r.department_name,
                description=draft.description,
                total_pence=total,
                raised_by_name=r.raiser_name,
                created_at=draft.created_at,
                submitted_at=draft.submitted_at,
                invoice_number=r.invoice_number,
                return_note=draft.return_note,
            )
        )
    return result


def my_drafts(staff_id: int, *, limit: int = 100) -> tuple[list[DraftRow], list[DraftRow]]:
    """This person's invoices not yet issued (returned first, then drafts, then waiting),
    and the ones most recently issued or cancelled."""
    order = sa.case(
        (InvoiceDraft.status == DraftStatus.RETURNED, 0),
        (InvoiceDraft.status == DraftStatus.DRAFT, 1),
        else_=2,
    )
    open_ = _rows(
        sa.select(InvoiceDraft)
        .where(
            InvoiceDraft.raised_by_staff_id == staff_id,
            InvoiceDraft.status.in_(
                [DraftStatus.DRAFT, DraftStatus.RETURNED, DraftStatus.AWAITING_CHECK]
            ),
        )
        .order_by(order, InvoiceDraft.id.desc())
        .limit(limit)
    )
    done = _rows(
        sa.select(InvoiceDraft)
        .where(
            InvoiceDraft.raised_by_staff_id == staff_id,
            InvoiceDraft.status.in_([DraftStatus.ISSUED, DraftStatus.CANCELLED]),
        )
        .order_by(InvoiceDraft.updated_at.desc(), InvoiceDraft.id.desc())
        .limit(20)
    )
    return open_, done


def checking_queue(*, limit: int = 200) -> list[DraftRow]:
    """Invoices waiting to be checked, the longest waiting first."""
    return _rows(
        sa.select(InvoiceDraft)
        .where(InvoiceDraft.status == DraftStatus.AWAITING_CHECK)
        .order_by(InvoiceDraft.submitted_at, InvoiceDraft.id)
        .limit(limit)
    )


def waiting_count(exclude_raised_by: int | None = None) -> int:
    """How many invoices wait to be checked (not counting this person's own)."""
    query = sa.select(sa.func.count()).where(InvoiceDraft.status == DraftStatus.AWAITING_CHECK)
    if exclude_raised_by is not None:
        query = query.where(InvoiceDraft.raised_by_staff_id != exclude_raised_by)
    return int(db.session.scalar(query) or 0)


def open_draft_count(staff_id: int) -> int:
    """This person's drafts and returned invoices: the ones waiting on them."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count()).where(
                InvoiceDraft.raised_by_staff_id == staff_id,
                InvoiceDraft.status.in_([DraftStatus.DRAFT, DraftStatus.RETURNED]),
            )
        )
        or 0
    )


def income_code_choices(staff_id: int) -> list[IncomeCodeChoice]:
    """The income codes this person may raise against: in use, and for a service-
    department user only their own department's."""
    user = db.session.get(StaffUser, staff_id)
    query = (
        sa.select(IncomeCode, ServiceDepartment.name)
        .join(ServiceDepartment, ServiceDepartment.id == IncomeCode.department_id)
        .where(IncomeCode.active.is_(True))
        .order_by(ServiceDepartment.name, IncomeCode.code)
    )
    if user is None:
        return []
    if user.role == SERVICE_DEPARTMENT:
        query = query.where(IncomeCode.department_id == user.department_id)
    return [
        IncomeCodeChoice(code.id, code.department_id, f"{name}: {code.code} {code.description}")
        for code, name in db.session.execute(query)
    ]


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.lower() + "%"


def find_accounts(text: str, *, limit: int = 20) -> list[AccountFound]:
    """Accounts whose reference is `text`, or whose surname or organisation name starts
    with it: only the name, reference and postcode, for someone who may not see cases."""
    text = " ".join((text or "").split())
    if len(text) < 2:
        return []
    prefix = _like_prefix(text)
    accounts = db.session.scalars(
        sa.select(DebtorAccount)
        .where(
            sa.or_(
                DebtorAccount.reference == normalise_reference(text),
                sa.func.lower(DebtorAccount.surname).like(prefix, escape="\\"),
                sa.func.lower(DebtorAccount.organisation_name).like(prefix, escape="\\"),
            )
        )
        .order_by(DebtorAccount.reference)
        .limit(limit)
    ).all()
    return [AccountFound(a.reference, _name(a), _postcode(a.id)) for a in accounts]


def account_for_raising(reference: str) -> AccountFound | None:
    """The account an invoice is being raised for, as a service-department user may see it."""
    account = db.session.scalar(
        sa.select(DebtorAccount).where(DebtorAccount.reference == normalise_reference(reference))
    )
    if account is None:
        return None
    return AccountFound(account.reference, _name(account), _postcode(account.id))


def account_id_for(reference: str) -> int | None:
    return db.session.scalar(
        sa.select(DebtorAccount.id).where(DebtorAccount.reference == normalise_reference(reference))
    )
