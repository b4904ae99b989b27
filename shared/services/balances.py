"""Read-side ledger queries: balances, what an invoice still owes, unallocated credit.

Nothing is stored that can be derived: every figure is computed from the
append-only entries and allocations, with indexes keeping it quick.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from shared.domain.allocation import OpenItem
from shared.extensions import db
from shared.models import CREDIT_KINDS, Allocation, EntryKind, Invoice, LedgerEntry


def account_balance(account_id: int) -> int:
    """What the debtor owes (negative: the council owes them): the sum of their entries."""
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_pence), 0)).where(
            LedgerEntry.account_id == account_id
        )
    )
    return int(total)


def invoice_outstanding(invoice_id: int) -> int:
    allocated = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0)).where(
            Allocation.invoice_id == invoice_id
        )
    )
    total = db.session.scalar(sa.select(Invoice.total_pence).where(Invoice.id == invoice_id))
    if total is None:
        raise LookupError(f"no invoice {invoice_id}")
    return int(total) - int(allocated)


def open_items(account_id: int) -> list[OpenItem]:
    """The account's invoices that still owe something, oldest due first."""
    allocated = (
        sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0))
        .where(Allocation.invoice_id == Invoice.id)
        .correlate(Invoice)
        .scalar_subquery()
    )
    outstanding = (Invoice.total_pence - allocated).label("outstanding")
    rows = db.session.execute(
        sa.select(Invoice.id, Invoice.due_date, outstanding)
        .where(Invoice.account_id == account_id)
        .order_by(Invoice.due_date, Invoice.id)
    ).all()
    return [OpenItem(r.id, r.due_date, int(r.outstanding)) for r in rows if r.outstanding > 0]


@dataclass(frozen=True)
class CreditValue:
    entry_id: int
    kind: EntryKind
    value_pence: int  # the credit's absolute amount
    allocated_pence: int  # net allocations drawn from it
    drawn_pence: int  # refunded or transferred out of it
    reversed_pence: int  # taken back by a reversal

    @property
    def available_pence(self) -> int:
        return self.value_pence - self.allocated_pence - self.drawn_pence - self.reversed_pence


def _is_credit():
    return sa.or_(
        LedgerEntry.kind.in_([k.value for k in CREDIT_KINDS]),
        sa.and_(LedgerEntry.kind == EntryKind.ADJUSTMENT, LedgerEntry.amount_pence < 0),
    )


def credit_values(
    account_id: int | None = None, entry_ids: list[int] | None = None
) -> list[CreditValue]:
    """Each credit entry with what has been allocated, drawn and reversed from it."""
    alloc = (
        sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0))
        .where(Allocation.credit_entry_id == LedgerEntry.id)
        .correlate(LedgerEntry)
        .scalar_subquery()
    )
    drawn_entry = sa.orm.aliased(LedgerEntry)
    drawn = (
        sa.select(sa.func.coalesce(sa.func.sum(drawn_entry.amount_pence), 0))
        .where(drawn_entry.source_entry_id == LedgerEntry.id)
        .correlate(LedgerEntry)
        .scalar_subquery()
    )
    reversal = sa.orm.aliased(LedgerEntry)
    reversed_ = (
        sa.select(sa.func.coalesce(sa.func.sum(reversal.amount_pence), 0))
        .where(reversal.reverses_entry_id == LedgerEntry.id)
        .correlate(LedgerEntry)
        .scalar_subquery()
    )
    query = sa.select(
        LedgerEntry.id, LedgerEntry.kind, LedgerEntry.amount_pence, alloc, drawn, reversed_
    ).where(_is_credit())
    if account_id is not None:
        query = query.where(LedgerEntry.account_id == account_id)
    if entry_ids is not None:
        query = query.where(LedgerEntry.id.in_(entry_ids))
    rows = db.session.execute(query.order_by(LedgerEntry.id)).all()
    return [
        CreditValue(r[0], EntryKind(r[1]), -int(r[2]), int(r[3]), int(r[4]), int(r[5]))
        for r in rows
    ]


def unallocated_credit(account_id: int) -> int:
    """Money on the account not yet applied to any invoice (overpayments, spare credit)."""
    return sum(c.available_pence for c in credit_values(account_id))
