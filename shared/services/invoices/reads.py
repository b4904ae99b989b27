"""What raisers and checkers read about invoice drafts: a draft with its lines and
totals, the raiser's own drafts, the checking queue and its counts, the income codes a
person may choose, and the accounts a service-department user may raise against.
The changes themselves are in drafts.py, issuing and checking in issuing.py and
checking.py.
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
    DraftStatus,
    Raiser,
    needs_check,
    why_checker_refused,
    why_unchecked_issue_refused,
)
from shared.domain.names import display_name
from shared.domain.permissions import Permission, role_has
from shared.extensions import db
from shared.models import (
    Address,
    DebtorAccount,
    IncomeCode,
    Invoice,
    InvoiceDraft,
    ServiceDepartment,
    StaffUser,
)
from shared.services.bill_lookup import normalise_reference
from shared.services.invoices.drafts import DraftLineView, line_views, rates_on


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
    lines = line_views(draft.lines, rates_on(today))
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
        total = sum(v.total_pence for v in line_views(draft.lines, rates))
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
