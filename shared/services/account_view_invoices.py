"""An account's invoices as the pages show them: what is left to pay, the tag beside
each, and the recovery step it has reached.

Sums are correlated subqueries on allocations.invoice_id, never a GROUP BY over the
whole table. Officers see the stage an invoice stands at; the debtor's own pages are
told of a step only if a record says it happened (_STAGE_RECORDED).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from shared.models import (
    Allocation,
    Arrangement,
    ArrangementDebt,
    ArrangementStatus,
    DunningMove,
    EnforcementReferralInvoice,
    Invoice,
    RecoveryStage,
)
from shared.services import reads

RECOVERY_STAGE_WORDS = {
    RecoveryStage.NONE: "None",
    RecoveryStage.REMINDER: "Reminder sent",
    RecoveryStage.FINAL_DEMAND: "Final demand sent",
    RecoveryStage.PRE_ACTION: "Letter before legal action sent",
    RecoveryStage.REFERRED_LEGAL: "Passed to our legal team",
    RecoveryStage.REFERRED_ENFORCEMENT: "Passed to enforcement agents",
}

OVERDUE, DUE, PART_PAID, PAID = "Overdue", "Due", "Part paid", "Paid"
IN_PLAN = "In a payment plan"


def invoice_status(
    due_date: date,
    paid_pence: int,
    outstanding_pence: int,
    today: date,
    *,
    in_active_plan: bool = False,
) -> str:
    """The tag shown beside an invoice: overdue matters most to the debtor, so it wins,
    unless a plan being paid covers it: then it is being paid as agreed."""
    if outstanding_pence <= 0:
        return PAID
    if in_active_plan:
        return IN_PLAN
    if due_date < today:
        return OVERDUE
    if paid_pence > 0:
        return PART_PAID
    return DUE


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


def _allocated_to(invoice_column):
    return (
        sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0))
        .where(Allocation.invoice_id == invoice_column)
        .correlate(Invoice)
        .scalar_subquery()
    )


_ACCOUNT_ID = sa.bindparam("account_id")

# What an invoice row shows (with its id, as "id" or, beside an account's, "invoice_id").
INVOICE_COLUMNS = (
    Invoice.number,
    Invoice.description,
    Invoice.issue_date,
    Invoice.due_date,
    Invoice.total_pence,
    Invoice.recovery_stage,
    _allocated_to(Invoice.id).label("paid"),
)
_INVOICES = (
    sa.select(Invoice.id, *INVOICE_COLUMNS)
    .where(Invoice.account_id == _ACCOUNT_ID)
    .order_by(Invoice.due_date, Invoice.id)
)
_ONE_INVOICE = _INVOICES.where(Invoice.number == sa.bindparam("number"))


# The debtor is told of a recovery step only if it really happened: a run or an officer
# moved the invoice to that stage (dunning_moves is unique on invoice and stage), or it
# was referred (referral_invoices, indexed on the invoice). A stage with no record says
# nothing. Both are index lookups per invoice row.
STAGE_RECORDED = sa.or_(
    sa.exists().where(
        DunningMove.invoice_id == Invoice.id,
        sa.cast(DunningMove.to_stage, sa.String) == sa.cast(Invoice.recovery_stage, sa.String),
    ),
    sa.and_(
        sa.cast(Invoice.recovery_stage, sa.String).in_(
            [RecoveryStage.REFERRED_LEGAL.value, RecoveryStage.REFERRED_ENFORCEMENT.value]
        ),
        sa.exists().where(EnforcementReferralInvoice.invoice_id == Invoice.id),
    ),
)
IN_ACTIVE_PLAN = sa.exists().where(
    ArrangementDebt.invoice_id == Invoice.id,
    Arrangement.id == ArrangementDebt.arrangement_id,
    Arrangement.status == ArrangementStatus.ACTIVE,
)
# What the debtor's own pages show of an invoice (officers see the stage as it stands).
DEBTOR_INVOICES = _INVOICES.add_columns(STAGE_RECORDED.label("stage_recorded"))


def invoice_row_of(
    r, today: date, invoice_id: int | None = None, *, in_active_plan: bool = False
) -> InvoiceRow:
    paid = int(r.paid)
    outstanding = int(r.total_pence) - paid
    stage = RecoveryStage(r.recovery_stage)
    if not getattr(r, "stage_recorded", True):
        stage = RecoveryStage.NONE
    return InvoiceRow(
        id=r.id if invoice_id is None else invoice_id,
        number=r.number,
        description=r.description,
        issue_date=r.issue_date,
        due_date=r.due_date,
        total_pence=int(r.total_pence),
        paid_pence=paid,
        outstanding_pence=outstanding,
        recovery_stage=RECOVERY_STAGE_WORDS[stage],
        status=invoice_status(r.due_date, paid, outstanding, today, in_active_plan=in_active_plan),
    )


def _invoice_rows(account_id: int, today: date, number: str | None = None) -> list[InvoiceRow]:
    if number is None:
        rows = reads.rows(_INVOICES, {"account_id": account_id})
    else:
        rows = reads.rows(_ONE_INVOICE, {"account_id": account_id, "number": number})
    return [invoice_row_of(r, today) for r in rows]


def invoice_row(account_id: int, number: str, today: date) -> InvoiceRow | None:
    """One invoice of the account by its number (indexed), or None."""
    rows = _invoice_rows(account_id, today, number=number)
    return rows[0] if rows else None


def invoices_of(account_id: int, today: date) -> list[InvoiceRow]:
    """Every invoice on the account, paid or not, oldest due first."""
    return _invoice_rows(account_id, today)


def open_invoices(account_id: int, today: date) -> list[InvoiceRow]:
    return [i for i in _invoice_rows(account_id, today) if i.outstanding_pence > 0]
