"""Read-side queries for a signed-in debtor's "Your account" pages and PDFs.

Every function takes the signed-in login's id and finds nothing outside the
accounts linked to it, so a reference or invoice number belonging to someone
else looks exactly like one that does not exist. Each page is a handful of
indexed queries whatever the size of the book: sums are correlated
subqueries on indexed columns (allocations.invoice_id, ledger_entries
(account_id, id)), never a GROUP BY over the whole table, and nothing is
loaded row by row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from shared import clock
from shared.domain.names import display_name
from shared.domain.vat import VatRate, rate_words
from shared.extensions import db
from shared.models import (
    Address,
    Allocation,
    ArrangementStatus,
    Channel,
    DebtorAccount,
    EntryKind,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    PaymentMethod,
    PortalUserAccount,
    ServiceDepartment,
)
from shared.services import reads
from shared.services.account_view_invoices import DEBTOR_INVOICES as _DEBTOR_INVOICES
from shared.services.account_view_invoices import (  # noqa: F401 (re-exported)
    DUE,
    IN_ACTIVE_PLAN,
    IN_PLAN,
    INVOICE_COLUMNS,
    OVERDUE,
    PAID,
    PART_PAID,
    RECOVERY_STAGE_WORDS,
    STAGE_RECORDED,
    InvoiceRow,
    invoice_row,
    invoice_row_of,
    invoice_status,
    invoices_of,
    open_invoices,
)
from shared.services.account_view_payments import (
    METHOD_WORDS as METHOD_WORDS,  # re-exported: other services' words for methods
)
from shared.services.account_view_payments import (
    PaymentRow,
    older_payments_count,
    recent_payments,
    shown_since,
)
from shared.services.account_view_plans import (
    FREQUENCY_WORDS as FREQUENCY_WORDS,  # re-exported: the case page's plan words
)
from shared.services.account_view_plans import (
    MANDATE_COLUMNS,
    MandateView,
    PlanView,
    live_plans,
    mandate_view,
)

# --- words for people ----------------------------------------------------------------

VAT_WORDS = {
    VatRate.STANDARD: "20%",
    VatRate.REDUCED: "5%",
    VatRate.ZERO: "0%",
    VatRate.EXEMPT: "Exempt",
    VatRate.OUTSIDE_SCOPE: "No VAT",
}

# How many paid invoices the account page lists (newest due first); the statement has all.
PAID_INVOICES_SHOWN = 10


# --- value objects the pages render ----------------------------------------------------


@dataclass(frozen=True)
class AccountChoice:
    reference: str
    name: str
    balance_pence: int


@dataclass(frozen=True)
class AccountSummary:
    id: int
    reference: str
    name: str
    balance_pence: int
    email: str | None
    mobile_phone: str | None
    other_phone: str | None
    preferred_channel: Channel
    consent_email: bool
    consent_sms: bool


@dataclass(frozen=True)
class PendingPlan:
    """A proposed plan waiting on an officer, or a counter-offer waiting on the debtor."""

    id: int
    status: ArrangementStatus
    total_pence: int
    by_direct_debit: bool = False


@dataclass(frozen=True)
class AccountPage:
    account: AccountSummary
    open_invoices: list[InvoiceRow]
    paid_invoices: list[InvoiceRow]  # the newest PAID_INVOICES_SHOWN
    older_paid_invoices: int  # paid invoices not listed (the statement has them)
    payments: list[PaymentRow]  # since payments_since, newest first
    payments_since: date
    older_payments: int  # payments before payments_since (the statement has them)
    plans: list[PlanView]  # every live plan, active first
    mandate: MandateView | None
    # Invoices already in a live plan (proposed, counter-offered or active).
    covered_invoice_ids: frozenset[int]

    @property
    def plan(self) -> PlanView | None:
        """The newest plan being paid, if any."""
        return next((p for p in self.plans if p.active), None)

    @property
    def pending_plan(self) -> PendingPlan | None:
        """The first plan waiting on someone (an offer to answer comes first)."""
        waiting = next((p for p in self.plans if not p.active), None)
        if waiting is None:
            return None
        return PendingPlan(waiting.id, waiting.status, waiting.total_pence, waiting.by_direct_debit)

    @property
    def can_plan(self) -> bool:
        """Whether any open invoice is free to go in a new plan."""
        return any(i.id not in self.covered_invoice_ids for i in self.open_invoices)

    @property
    def plans_waiting_for_direct_debit(self) -> list[PlanView]:
        """Plans to be paid by Direct Debit while the account has no Direct Debit."""
        if self.mandate is not None:
            return []
        return [p for p in self.plans if p.by_direct_debit]


@dataclass(frozen=True)
class LineRow:
    description: str
    quantity: int
    unit_price_pence: int
    net_pence: int
    vat_rate: str
    vat_pence: int
    # The rate as charged on the tax point (2000 is 20%); None on lines from before rates
    # were dated, which were charged today's (vat_rate says which).
    vat_basis_points: int | None = None

    @property
    def total_pence(self) -> int:
        return self.net_pence + self.vat_pence


@dataclass(frozen=True)
class AllocationRow:
    date: date
    description: str
    amount_pence: int


@dataclass(frozen=True)
class InvoicePage:
    account: AccountSummary
    invoice: InvoiceRow
    net_pence: int
    vat_pence: int
    department: str
    lines: list[LineRow]
    allocations: list[AllocationRow]
    # The organisation's purchase-order number, printed on the invoice when there is one.
    purchase_order: str | None = None


@dataclass(frozen=True)
class StatementLine:
    date: date
    description: str
    debit_pence: int
    credit_pence: int
    balance_pence: int


@dataclass(frozen=True)
class Statement:
    account: AccountSummary
    address_lines: list[str]
    lines: list[StatementLine]
    balance_pence: int


# --- queries ---------------------------------------------------------------------------

# The page's statements are built once, with the account as a parameter: building a
# statement (an alias above all) costs SQLAlchemy more than PostgreSQL takes to run it.
_ACCOUNT_ID = sa.bindparam("account_id")


def _balance_of(account_column):
    return (
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_pence), 0))
        .where(LedgerEntry.account_id == account_column)
        .correlate(DebtorAccount)
        .scalar_subquery()
    )


_ACCOUNT_COLUMNS = (
    DebtorAccount.id,
    DebtorAccount.reference,
    DebtorAccount.kind,
    DebtorAccount.title,
    DebtorAccount.forename,
    DebtorAccount.surname,
    DebtorAccount.organisation_name,
    DebtorAccount.email,
    DebtorAccount.mobile_phone,
    DebtorAccount.other_phone,
    DebtorAccount.preferred_channel,
    DebtorAccount.consent_email,
    DebtorAccount.consent_sms,
)


def _summary(row) -> AccountSummary:
    return AccountSummary(
        id=row.id,
        reference=row.reference,
        name=display_name(row.kind, row.title, row.forename, row.surname, row.organisation_name),
        balance_pence=int(row.balance),
        email=row.email,
        mobile_phone=row.mobile_phone,
        other_phone=row.other_phone,
        preferred_channel=Channel(row.preferred_channel),
        consent_email=bool(row.consent_email),
        consent_sms=bool(row.consent_sms),
    )


def _linked_to(portal_user_id):
    """Only accounts the login has linked (the join is on portal_user_accounts' unique key)."""
    return sa.exists().where(
        PortalUserAccount.portal_user_id == portal_user_id,
        PortalUserAccount.account_id == DebtorAccount.id,
        PortalUserAccount.access_ended_at.is_(None),  # ended when the debtor died
    )


def linked_accounts(portal_user_id: int) -> list[AccountChoice]:
    """The accounts a login may see, with what each owes, by reference (one query)."""
    rows = db.session.execute(
        sa.select(*_ACCOUNT_COLUMNS, _balance_of(DebtorAccount.id).label("balance"))
        .where(_linked_to(portal_user_id))
        .order_by(DebtorAccount.reference)
    ).all()
    return [AccountChoice(r.reference, _summary(r).name, int(r.balance)) for r in rows]


def account_reference(account_id: int) -> str | None:
    return db.session.scalar(
        sa.select(DebtorAccount.reference).where(DebtorAccount.id == account_id)
    )


_LINKED_ACCOUNT = sa.select(
    *_ACCOUNT_COLUMNS, _balance_of(DebtorAccount.id).label("balance")
).where(
    DebtorAccount.reference == sa.bindparam("reference"),
    _linked_to(sa.bindparam("portal_user_id")),
)


def find_account(portal_user_id: int, reference: str) -> AccountSummary | None:
    """The account with this reference if the login may see it, with its balance."""
    row = reads.rows(
        _LINKED_ACCOUNT, {"reference": reference, "portal_user_id": portal_user_id}
    ).one_or_none()
    return None if row is None else _summary(row)


# The account with its balance, newest live mandate and how many payments are older
# than the page lists, so the page's head is one statement.
_ACCOUNT_PAGE_HEAD = _LINKED_ACCOUNT.add_columns(
    *MANDATE_COLUMNS, older_payments_count().label("older_payments")
)


def account_page(portal_user_id: int, reference: str, today: date) -> AccountPage | None:
    """What the account page shows, or None if the login may not see the account.

    Four statements whatever the account holds: the head (account, balance, mandate,
    how many older payments), the invoices, the last twelve months' payments and the
    live plans with their invoices."""
    since = shown_since(today)
    head = reads.rows(
        _ACCOUNT_PAGE_HEAD,
        {"reference": reference, "portal_user_id": portal_user_id, "since": since},
    ).one_or_none()
    if head is None:
        return None
    account = _summary(head)
    live = live_plans(account.id, today)
    invoices = [
        invoice_row_of(r, today, in_active_plan=r.id in live.active_invoice_ids)
        for r in reads.rows(_DEBTOR_INVOICES, {"account_id": account.id})
    ]
    paid = sorted(
        (i for i in invoices if i.outstanding_pence <= 0),
        key=lambda i: (i.due_date, i.id),
        reverse=True,
    )
    return AccountPage(
        account=account,
        open_invoices=[i for i in invoices if i.outstanding_pence > 0],
        paid_invoices=paid[:PAID_INVOICES_SHOWN],
        older_paid_invoices=max(0, len(paid) - PAID_INVOICES_SHOWN),
        payments=recent_payments(account.id, since),
        payments_since=since,
        older_payments=int(head.older_payments),
        plans=live.plans,
        mandate=mandate_view(head),
        covered_invoice_ids=live.covered_invoice_ids,
    )


_CREDIT_WORDS = {
    EntryKind.PAYMENT: "Payment",
    EntryKind.CREDIT_NOTE: "Credit note",
    EntryKind.WRITE_OFF: "Written off",
    EntryKind.ADJUSTMENT: "Credit from another account",
}


# The account (if the login may see it) and the invoice with its department, in one
# statement: the invoice page's head.
_INVOICE_PAGE_HEAD = (
    sa.select(
        *_ACCOUNT_COLUMNS,
        _balance_of(DebtorAccount.id).label("balance"),
        Invoice.id.label("invoice_id"),
        *INVOICE_COLUMNS,
        STAGE_RECORDED.label("stage_recorded"),
        IN_ACTIVE_PLAN.label("in_active_plan"),
        Invoice.net_pence,
        Invoice.vat_pence,
        Invoice.purchase_order,
        ServiceDepartment.name.label("department"),
    )
    .join(Invoice, Invoice.account_id == DebtorAccount.id)
    .join(ServiceDepartment, ServiceDepartment.id == Invoice.department_id)
    .where(
        DebtorAccount.reference == sa.bindparam("reference"),
        _linked_to(sa.bindparam("portal_user_id")),
        Invoice.number == sa.bindparam("number"),
    )
)
_INVOICE_LINES = (
    sa.select(
        InvoiceLine.description,
        InvoiceLine.quantity,
        InvoiceLine.unit_price_pence,
        InvoiceLine.net_pence,
        InvoiceLine.vat_rate,
        InvoiceLine.vat_pence,
        InvoiceLine.vat_basis_points,
    )
    .where(InvoiceLine.invoice_id == sa.bindparam("invoice_id"))
    .order_by(InvoiceLine.line_no)
)
_INVOICE_ALLOCATIONS = (
    sa.select(
        Allocation.amount_pence,
        Allocation.created_at,
        LedgerEntry.kind,
        LedgerEntry.method,
        LedgerEntry.effective_date,
    )
    .join(LedgerEntry, LedgerEntry.id == Allocation.credit_entry_id)
    .where(Allocation.invoice_id == sa.bindparam("invoice_id"))
    .order_by(Allocation.id)
)


def _allocation_row(r) -> AllocationRow:
    kind = EntryKind(r.kind)
    words = _CREDIT_WORDS.get(kind, "Credit")
    if kind == EntryKind.PAYMENT and r.method:
        words = f"Payment: {METHOD_WORDS[PaymentMethod(r.method)]}"
    amount = int(r.amount_pence)
    if amount < 0:
        words = f"{words} taken back"
    return AllocationRow(clock.london_day(r.created_at), words, amount)


def invoice_page(
    portal_user_id: int, reference: str, number: str, today: date
) -> InvoicePage | None:
    """An invoice with its lines and what has been applied to it, if the login may see
    it: three statements (the head, the lines, the allocations)."""
    head = reads.rows(
        _INVOICE_PAGE_HEAD,
        {"reference": reference, "portal_user_id": portal_user_id, "number": number},
    ).one_or_none()
    if head is None:
        return None
    invoice = invoice_row_of(
        head, today, invoice_id=head.invoice_id, in_active_plan=bool(head.in_active_plan)
    )
    lines = [
        LineRow(
            description=line.description,
            quantity=line.quantity,
            unit_price_pence=line.unit_price_pence,
            net_pence=line.net_pence,
            vat_rate=rate_words(line.vat_rate, line.vat_basis_points),
            vat_pence=line.vat_pence,
            vat_basis_points=line.vat_basis_points,
        )
        for line in reads.rows(_INVOICE_LINES, {"invoice_id": invoice.id})
    ]
    allocations = [
        _allocation_row(r) for r in reads.rows(_INVOICE_ALLOCATIONS, {"invoice_id": invoice.id})
    ]
    return InvoicePage(
        account=_summary(head),
        invoice=invoice,
        net_pence=int(head.net_pence),
        vat_pence=int(head.vat_pence),
        department=head.department,
        lines=lines,
        allocations=allocations,
        purchase_order=head.purchase_order,
    )


def primary_address_lines(account_id: int) -> list[str]:
    address = db.session.scalar(
        sa.select(Address)
        .where(Address.account_id == account_id)
        .order_by(Address.is_primary.desc(), Address.id)
        .limit(1)
    )
    return address.lines() if address is not None else []


def _entry_words(
    kind: EntryKind, amount: int, method, number: str | None, reason: str | None = None
) -> str:
    if kind == EntryKind.INVOICE:
        # A Late Payment Act charge's reason names the debt it was charged on.
        return f"Invoice {number}: {reason}" if reason else f"Invoice {number}"
    if kind == EntryKind.PAYMENT:
        return f"Payment: {METHOD_WORDS[PaymentMethod(method)]}" if method else "Payment"
    if kind == EntryKind.CREDIT_NOTE:
        return f"Credit note on invoice {number}"
    if kind == EntryKind.WRITE_OFF:
        return f"Written off invoice {number}"
    if kind == EntryKind.REFUND:
        return "Refund paid to you"
    if kind == EntryKind.REVERSAL:
        return "Payment reversed"
    return "Credit moved to another account" if amount > 0 else "Credit from another account"


def statement(portal_user_id: int, reference: str) -> Statement | None:
    """Every ledger entry of the account in date order with a running balance."""
    account = find_account(portal_user_id, reference)
    if account is None:
        return None
    rows = db.session.execute(
        sa.select(
            LedgerEntry.effective_date,
            LedgerEntry.kind,
            LedgerEntry.amount_pence,
            LedgerEntry.method,
            Invoice.number,
            LedgerEntry.reason,
        )
        .outerjoin(Invoice, Invoice.id == LedgerEntry.invoice_id)
        .where(LedgerEntry.account_id == account.id)
        .order_by(LedgerEntry.effective_date, LedgerEntry.id)
    ).all()
    running = 0
    lines = []
    for r in rows:
        amount = int(r.amount_pence)
        running += amount
        lines.append(
            StatementLine(
                date=r.effective_date,
                description=_entry_words(EntryKind(r.kind), amount, r.method, r.number, r.reason),
                debit_pence=amount if amount > 0 else 0,
                credit_pence=-amount if amount < 0 else 0,
                balance_pence=running,
            )
        )
    return Statement(
        account=account,
        address_lines=primary_address_lines(account.id),
        lines=lines,
        balance_pence=running,
    )
