"""The case page's ledger section: every entry on the account, newest first, a page at
a time, with the invoices each credit was allocated to.

"Newest first" is by the day an entry takes effect (a payment backdated to the day
the bank received it sits where that day is), then by the order entries were
written for entries of the same day. One account's entries are found by the
(account_id, id) index and sorted; the page is fetched with one row more than
it shows, to know whether there is a next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from shared.extensions import db
from shared.models import Allocation, EntryKind, Invoice, LedgerEntry, PaymentMethod, StaffUser
from shared.services.account_view import METHOD_WORDS
from shared.services.case_view.paging import PAGE_SIZE, Page, page_of

ENTRY_KIND_WORDS = {
    EntryKind.INVOICE: "Invoice",
    EntryKind.PAYMENT: "Payment",
    EntryKind.CREDIT_NOTE: "Credit note",
    EntryKind.REFUND: "Refund",
    EntryKind.WRITE_OFF: "Write-off",
    EntryKind.REVERSAL: "Reversal",
    EntryKind.ADJUSTMENT: "Adjustment",
}


@dataclass(frozen=True)
class AllocationLine:
    invoice_number: str
    amount_pence: int


@dataclass(frozen=True)
class LedgerLine:
    id: int
    effective_date: date
    kind: str
    description: str
    amount_pence: int
    invoice_number: str | None
    by: str
    allocations: list[AllocationLine]


@dataclass(frozen=True)
class LedgerSection:
    entries: list[LedgerLine]
    page: Page


_LEDGER = (
    sa.select(
        LedgerEntry.id,
        LedgerEntry.effective_date,
        LedgerEntry.kind,
        LedgerEntry.amount_pence,
        LedgerEntry.method,
        LedgerEntry.reason,
        LedgerEntry.external_reference,
        Invoice.number.label("invoice_number"),
        StaffUser.full_name.label("staff_name"),
    )
    .outerjoin(Invoice, Invoice.id == LedgerEntry.invoice_id)
    .outerjoin(StaffUser, StaffUser.id == LedgerEntry.created_by_staff_id)
    .where(LedgerEntry.account_id == sa.bindparam("account_id"))
    .order_by(LedgerEntry.effective_date.desc(), LedgerEntry.id.desc())
    .limit(sa.bindparam("limit"))
    .offset(sa.bindparam("offset"))
)

_ALLOCATIONS = (
    sa.select(Allocation.credit_entry_id, Allocation.amount_pence, Invoice.number)
    .join(Invoice, Invoice.id == Allocation.invoice_id)
    .where(Allocation.credit_entry_id.in_(sa.bindparam("entry_ids", expanding=True)))
    .order_by(Allocation.id)
)


def _entry_description(r) -> str:
    if r.kind == EntryKind.PAYMENT and r.method:
        text = METHOD_WORDS.get(PaymentMethod(r.method), str(r.method))
        return f"{text} {r.external_reference}" if r.external_reference else text
    if r.invoice_number and r.kind != EntryKind.INVOICE:
        return f"Invoice {r.invoice_number}" + (f": {r.reason}" if r.reason else "")
    return r.reason or (f"Invoice {r.invoice_number}" if r.invoice_number else "")


def ledger_section(account_id: int, page: int = 1) -> LedgerSection:
    """One page of the account's ledger, newest effective date first."""
    page = max(page, 1)
    rows = db.session.execute(
        _LEDGER,
        {"account_id": account_id, "limit": PAGE_SIZE + 1, "offset": (page - 1) * PAGE_SIZE},
    ).all()
    rows, where = page_of(page, rows)
    allocations: dict[int, list[AllocationLine]] = {}
    if rows:
        for a in db.session.execute(_ALLOCATIONS, {"entry_ids": [r.id for r in rows]}):
            allocations.setdefault(a.credit_entry_id, []).append(
                AllocationLine(a.number, int(a.amount_pence))
            )
    entries = [
        LedgerLine(
            id=r.id,
            effective_date=r.effective_date,
            kind=ENTRY_KIND_WORDS[EntryKind(r.kind)],
            description=_entry_description(r),
            amount_pence=int(r.amount_pence),
            invoice_number=r.invoice_number,
            by=r.staff_name or "System",
            allocations=allocations.get(r.id, []),
        )
        for r in rows
    ]
    return LedgerSection(entries, where)
