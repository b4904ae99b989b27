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
    Arrangement,
    ArrangementDebt,
    ArrangementStatus,
    CardCheckout,
    Channel,
    DebtorAccount,
    EntryKind,
    Instalment,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Mandate,
    MandateStatus,
    PaymentMethod,
    PortalUserAccount,
    RecoveryStage,
    ServiceDepartment,
)
from shared.models.plans import LIVE_ARRANGEMENT_STATUSES
from shared.services import reads

# --- words for people ----------------------------------------------------------------

RECOVERY_STAGE_WORDS = {
    RecoveryStage.NONE: "None",
    RecoveryStage.REMINDER: "Reminder sent",
    RecoveryStage.FINAL_DEMAND: "Final demand sent",
    RecoveryStage.PRE_ACTION: "Letter before legal action sent",
    RecoveryStage.REFERRED_LEGAL: "Passed to our legal team",
    RecoveryStage.REFERRED_ENFORCEMENT: "Passed to enforcement agents",
}

METHOD_WORDS = {
    PaymentMethod.CARD: "Card (online)",
    PaymentMethod.TELEPHONE_CARD: "Card (by phone)",
    PaymentMethod.DIRECT_DEBIT: "Direct Debit",
    PaymentMethod.BANK_TRANSFER: "Bank transfer",
    PaymentMethod.CHEQUE: "Cheque",
    PaymentMethod.CASH: "Cash",
}

VAT_WORDS = {
    VatRate.STANDARD: "20%",
    VatRate.REDUCED: "5%",
    VatRate.ZERO: "0%",
    VatRate.EXEMPT: "Exempt",
    VatRate.OUTSIDE_SCOPE: "No VAT",
}

FREQUENCY_WORDS = {
    "weekly": "Every week",
    "fortnightly": "Every 2 weeks",
    "four_weekly": "Every 4 weeks",
    "monthly": "Every month",
}

MANDATE_STATUS_WORDS = {
    MandateStatus.PENDING_SUBMISSION: "Being set up",
    MandateStatus.SUBMITTED: "Being set up",
    MandateStatus.ACTIVE: "Active",
}

OVERDUE, DUE, PART_PAID, PAID = "Overdue", "Due", "Part paid", "Paid"


def invoice_status(due_date: date, paid_pence: int, outstanding_pence: int, today: date) -> str:
    """The tag shown beside an invoice: overdue matters most to the debtor, so it wins."""
    if outstanding_pence <= 0:
        return PAID
    if due_date < today:
        return OVERDUE
    if paid_pence > 0:
        return PART_PAID
    return DUE


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
class InvoiceRow:
    id: int
    number: str
    description: str
    issue_date: date
    due_date: date
    total_pence: int
    paid_pence: int  # net allocations: payments, credit notes and write-offs
    outstanding_pence: int
    recovery_stage: str
    status: str


@dataclass(frozen=True)
class PaymentRow:
    entry_id: int
    date: date
    method: str
    amount_pence: int
    reference: str
    reversed: bool


@dataclass(frozen=True)
class PlanView:
    status: str
    frequency: str
    total_pence: int
    start_date: date
    by_direct_debit: bool
    next_due_date: date | None
    next_amount_pence: int | None
    id: int | None = None  # for "set up a Direct Debit for this plan"


@dataclass(frozen=True)
class MandateView:
    reference: str
    status: str
    account_ending: str
    id: int | None = None  # for the change and cancel links


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
    paid_invoices: list[InvoiceRow]
    payments: list[PaymentRow]
    plan: PlanView | None
    mandate: MandateView | None
    pending_plan: PendingPlan | None
    # Invoices already in a live plan (proposed, counter-offered or active).
    covered_invoice_ids: frozenset[int]

    @property
    def can_plan(self) -> bool:
        """Whether any open invoice is free to go in a new plan."""
        return any(i.id not in self.covered_invoice_ids for i in self.open_invoices)


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
_REVERSAL = sa.orm.aliased(LedgerEntry, name="reversal")


def _balance_of(account_column):
    return (
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_pence), 0))
        .where(LedgerEntry.account_id == account_column)
        .correlate(DebtorAccount)
        .scalar_subquery()
    )


def _allocated_to(invoice_column):
    return (
        sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0))
        .where(Allocation.invoice_id == invoice_column)
        .correlate(Invoice)
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


# What an invoice row shows (with its id, as "id" or, beside an account's, "invoice_id").
_INVOICE_COLUMNS = (
    Invoice.number,
    Invoice.description,
    Invoice.issue_date,
    Invoice.due_date,
    Invoice.total_pence,
    Invoice.recovery_stage,
    _allocated_to(Invoice.id).label("paid"),
)
_INVOICES = (
    sa.select(Invoice.id, *_INVOICE_COLUMNS)
    .where(Invoice.account_id == _ACCOUNT_ID)
    .order_by(Invoice.due_date, Invoice.id)
)
_ONE_INVOICE = _INVOICES.where(Invoice.number == sa.bindparam("number"))


def _invoice_row(r, today: date, invoice_id: int | None = None) -> InvoiceRow:
    paid = int(r.paid)
    outstanding = int(r.total_pence) - paid
    return InvoiceRow(
        id=r.id if invoice_id is None else invoice_id,
        number=r.number,
        description=r.description,
        issue_date=r.issue_date,
        due_date=r.due_date,
        total_pence=int(r.total_pence),
        paid_pence=paid,
        outstanding_pence=outstanding,
        recovery_stage=RECOVERY_STAGE_WORDS[RecoveryStage(r.recovery_stage)],
        status=invoice_status(r.due_date, paid, outstanding, today),
    )


def _invoice_rows(account_id: int, today: date, number: str | None = None) -> list[InvoiceRow]:
    if number is None:
        rows = reads.rows(_INVOICES, {"account_id": account_id})
    else:
        rows = reads.rows(_ONE_INVOICE, {"account_id": account_id, "number": number})
    return [_invoice_row(r, today) for r in rows]


_PAYMENTS = (
    sa.select(
        LedgerEntry.id,
        LedgerEntry.effective_date,
        LedgerEntry.method,
        LedgerEntry.amount_pence,
        LedgerEntry.external_reference,
        CardCheckout.reference.label("checkout_reference"),
        _REVERSAL.id.label("reversal_id"),
    )
    # Both joins are on indexed columns (card_checkouts.account_id and the
    # unique reverses_entry_id), narrowed to this account's entries.
    .outerjoin(
        CardCheckout,
        sa.and_(
            CardCheckout.account_id == _ACCOUNT_ID,
            CardCheckout.payment_entry_id == LedgerEntry.id,
        ),
    )
    .outerjoin(_REVERSAL, _REVERSAL.reverses_entry_id == LedgerEntry.id)
    .where(LedgerEntry.account_id == _ACCOUNT_ID, LedgerEntry.kind == EntryKind.PAYMENT)
    .order_by(LedgerEntry.effective_date.desc(), LedgerEntry.id.desc())
)


def _payments(account_id: int) -> list[PaymentRow]:
    rows = reads.rows(_PAYMENTS, {"account_id": account_id}).all()
    return [
        PaymentRow(
            entry_id=r.id,
            date=r.effective_date,
            method=METHOD_WORDS.get(PaymentMethod(r.method), str(r.method)) if r.method else "",
            amount_pence=-int(r.amount_pence),
            # Our card reference (CP-...) is the one on the payer's receipt.
            reference=r.checkout_reference or r.external_reference or f"P{r.id}",
            reversed=r.reversal_id is not None,
        )
        for r in rows
    ]


_NEXT_DUE = (
    sa.select(Instalment.due_date, Instalment.amount_pence)
    .where(
        Instalment.arrangement_id == Arrangement.id,
        Instalment.due_date >= sa.bindparam("today"),
    )
    .order_by(Instalment.due_date, Instalment.sequence)
    .limit(1)
    .correlate(Arrangement)
)
# Every live plan on the account, newest first, one row per invoice it covers: the
# active plan the page shows, the newest plan waiting on someone, and the invoices a
# new plan could not take, all in one statement.
_LIVE_PLANS = (
    sa.select(
        Arrangement.id,
        Arrangement.status,
        Arrangement.frequency,
        Arrangement.total_pence,
        Arrangement.start_date,
        Arrangement.payment_route,
        ArrangementDebt.invoice_id,
        _NEXT_DUE.with_only_columns(Instalment.due_date).scalar_subquery().label("next_due"),
        _NEXT_DUE.with_only_columns(Instalment.amount_pence).scalar_subquery().label("next_amount"),
    )
    .outerjoin(ArrangementDebt, ArrangementDebt.arrangement_id == Arrangement.id)
    .where(Arrangement.account_id == _ACCOUNT_ID, Arrangement.status.in_(LIVE_ARRANGEMENT_STATUSES))
    .order_by(Arrangement.id.desc())
)
_WAITING = (ArrangementStatus.PROPOSED, ArrangementStatus.COUNTER_OFFERED)


def _plan_view(row) -> PlanView:
    return PlanView(
        status="Active",
        frequency=FREQUENCY_WORDS.get(str(row.frequency), str(row.frequency)),
        total_pence=int(row.total_pence),
        start_date=row.start_date,
        by_direct_debit=str(row.payment_route) == "direct_debit",
        next_due_date=row.next_due,
        next_amount_pence=None if row.next_amount is None else int(row.next_amount),
        id=row.id,
    )


def _live_plans(account_id: int, today: date):
    """(the active plan, the newest plan waiting on someone, the invoices live plans cover)"""
    active = pending = None
    covered = set()
    for row in reads.rows(_LIVE_PLANS, {"account_id": account_id, "today": today}):
        status = ArrangementStatus(row.status)
        if status == ArrangementStatus.ACTIVE and active is None:
            active = _plan_view(row)
        elif status in _WAITING and pending is None:
            pending = PendingPlan(
                row.id,
                status,
                int(row.total_pence),
                by_direct_debit=str(row.payment_route) == "direct_debit",
            )
        if row.invoice_id is not None:
            covered.add(row.invoice_id)
    return active, pending, frozenset(covered)


def _newest_mandate(column):
    return (
        sa.select(column)
        .where(
            Mandate.account_id == DebtorAccount.id,
            Mandate.status.in_(list(MANDATE_STATUS_WORDS)),
        )
        .order_by(Mandate.id.desc())
        .limit(1)
        .correlate(DebtorAccount)
        .scalar_subquery()
    )


# The account with its newest live mandate (four lookups on mandates' account_id
# index), so the page's head is one statement.
_ACCOUNT_PAGE_HEAD = _LINKED_ACCOUNT.add_columns(
    _newest_mandate(Mandate.reference).label("mandate_reference"),
    _newest_mandate(Mandate.status).label("mandate_status"),
    _newest_mandate(Mandate.account_ending).label("mandate_account_ending"),
    _newest_mandate(Mandate.id).label("mandate_id"),
)


def _mandate_view(row) -> MandateView | None:
    if row.mandate_reference is None:
        return None
    return MandateView(
        reference=row.mandate_reference,
        status=MANDATE_STATUS_WORDS[MandateStatus(row.mandate_status)],
        account_ending=row.mandate_account_ending,
        id=row.mandate_id,
    )


def account_page(portal_user_id: int, reference: str, today: date) -> AccountPage | None:
    """Everything the account page shows, or None if the login may not see the account.

    Four statements whatever the account holds: the head (account, balance and
    mandate), the invoices, the payments and the live plans."""
    head = reads.rows(
        _ACCOUNT_PAGE_HEAD, {"reference": reference, "portal_user_id": portal_user_id}
    ).one_or_none()
    if head is None:
        return None
    account = _summary(head)
    invoices = _invoice_rows(account.id, today)
    payments = _payments(account.id)
    plan, pending, covered = _live_plans(account.id, today)
    return AccountPage(
        account=account,
        open_invoices=[i for i in invoices if i.outstanding_pence > 0],
        paid_invoices=[i for i in invoices if i.outstanding_pence <= 0],
        payments=payments,
        plan=plan,
        mandate=_mandate_view(head),
        pending_plan=pending,
        covered_invoice_ids=covered,
    )


def invoice_row(account_id: int, number: str, today: date) -> InvoiceRow | None:
    """One invoice of the account by its number (indexed), or None."""
    rows = _invoice_rows(account_id, today, number=number)
    return rows[0] if rows else None


def invoices_of(account_id: int, today: date) -> list[InvoiceRow]:
    """Every invoice on the account, paid or not, oldest due first."""
    return _invoice_rows(account_id, today)


def open_invoices(account_id: int, today: date) -> list[InvoiceRow]:
    return [i for i in _invoice_rows(account_id, today) if i.outstanding_pence > 0]


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
        *_INVOICE_COLUMNS,
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
    invoice = _invoice_row(head, today, invoice_id=head.invoice_id)
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
