"""Statute-barred debts (Limitation Act 1980; the rules are shared.domain.limitation),
and recording a debtor's written acknowledgement of a debt, which restarts the six years.

What restarts the period, read from the database:
- a part payment: a payment (ledger entry kind payment, not reversed) that is still
  allocated to the invoice, on its effective date;
- a written acknowledgement (DebtAcknowledgement) of the invoice, or of every debt on the
  account, on its date.

`statute_barred_invoice_ids` is set-based: the dunning run asks it about up to a million
invoices. One query finds the open invoices old enough to be barred and whether any of
them has a restart recent enough to matter; only those few (old debts with a recent
payment or acknowledgement) have their restart dates read to apply the no-revival rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased

from shared.domain import limitation as rules
from shared.extensions import db
from shared.models import (
    Allocation,
    DebtAcknowledgement,
    DebtorAccount,
    EntryKind,
    Invoice,
    LedgerEntry,
    StaffUser,
)
from shared.services.actors import Actor
from shared.services.errors import NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.legal.officers import Refused, legal_recorder
from shared.services.unit_of_work import use_case

_SQLITE_CHUNK = 500  # bind parameters per IN list on SQLite

_Reversal = aliased(LedgerEntry)
_ALLOCATED = (
    sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0))
    .where(Allocation.invoice_id == Invoice.id)
    .correlate(Invoice)
    .scalar_subquery()
)
_NOT_REVERSED = ~sa.exists().where(_Reversal.reverses_entry_id == LedgerEntry.id)


def _part_payment(since: date):
    """An unreversed payment still allocated to the invoice, dated `since` or later."""
    return (
        sa.select(Allocation.credit_entry_id)
        .join(LedgerEntry, LedgerEntry.id == Allocation.credit_entry_id)
        .where(
            Allocation.invoice_id == Invoice.id,
            LedgerEntry.kind == EntryKind.PAYMENT,
            LedgerEntry.effective_date >= since,
            _NOT_REVERSED,
        )
        .group_by(Allocation.credit_entry_id)
        .having(sa.func.sum(Allocation.amount_pence) > 0)
        .correlate(Invoice)
        .exists()
    )


def _acknowledgement(since: date):
    """A written acknowledgement of the invoice or of the whole account, `since` or later."""
    return (
        sa.exists()
        .where(
            DebtAcknowledgement.account_id == Invoice.account_id,
            sa.or_(
                DebtAcknowledgement.invoice_id.is_(None),
                DebtAcknowledgement.invoice_id == Invoice.id,
            ),
            DebtAcknowledgement.acknowledged_on >= since,
        )
        .correlate(Invoice)
    )


def _id_filters(invoice_ids: Sequence[int] | None) -> list:
    """WHERE clauses covering `invoice_ids` (None: every invoice): one array parameter on
    PostgreSQL, chunks of IN lists on SQLite (which has no arrays)."""
    if invoice_ids is None:
        return [sa.true()]
    ids = sorted({int(i) for i in invoice_ids})
    if not ids:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        array = sa.bindparam("invoice_ids", ids, type_=postgresql.ARRAY(sa.Integer))
        return [Invoice.id == sa.any_(array)]
    return [
        Invoice.id.in_(ids[start : start + _SQLITE_CHUNK])
        for start in range(0, len(ids), _SQLITE_CHUNK)
    ]


def _candidates(where, on_or_after: date, old_enough):
    """The open invoices old enough to be barred, each with whether it has a part payment
    or an acknowledgement on or after the cut-off: aggregates joined once (hash joins),
    not a subquery run per invoice."""
    allocated = (
        sa.select(Allocation.invoice_id, sa.func.sum(Allocation.amount_pence).label("paid"))
        .group_by(Allocation.invoice_id)
        .subquery()
    )
    per_payment = (
        sa.select(Allocation.invoice_id)
        .join(LedgerEntry, LedgerEntry.id == Allocation.credit_entry_id)
        .where(
            LedgerEntry.kind == EntryKind.PAYMENT,
            LedgerEntry.effective_date >= on_or_after,
            _NOT_REVERSED,
        )
        .group_by(Allocation.invoice_id, Allocation.credit_entry_id)
        .having(sa.func.sum(Allocation.amount_pence) > 0)
        .subquery()
    )
    paid_since = sa.select(per_payment.c.invoice_id).distinct().subquery()
    return (
        sa.select(
            Invoice.id,
            Invoice.due_date,
            sa.or_(paid_since.c.invoice_id.is_not(None), _acknowledgement(on_or_after)).label(
                "recent"
            ),
        )
        .outerjoin(allocated, allocated.c.invoice_id == Invoice.id)
        .outerjoin(paid_since, paid_since.c.invoice_id == Invoice.id)
        .where(where, old_enough, Invoice.total_pence > sa.func.coalesce(allocated.c.paid, 0))
    )


def statute_barred_invoice_ids(on: date, invoice_ids: Sequence[int] | None = None) -> set[int]:
    """The open invoices (of `invoice_ids`, or every one) that are statute-barred on `on`."""
    start = rules.earliest_running_start(on)
    # Accrual (the day after the due date) before `start`: due date before start - 1 day.
    old_enough = Invoice.due_date < start - rules.ONE_DAY
    barred: set[int] = set()
    undecided: dict[int, date] = {}
    for where in _id_filters(invoice_ids):
        for invoice_id, due_date, recent in db.session.execute(
            _candidates(where, start, old_enough)
        ):
            if recent:
                undecided[invoice_id] = due_date
            else:
                barred.add(invoice_id)
    if undecided:
        restarts = restart_dates(undecided)
        barred.update(
            i
            for i, due in undecided.items()
            if rules.is_statute_barred(due, restarts.get(i, ()), on)
        )
    return barred


def restart_dates(invoice_ids: Iterable[int]) -> dict[int, list[date]]:
    """Each invoice's part payments and acknowledgements, by date (two queries)."""
    ids = list(invoice_ids)
    found: dict[int, list[date]] = defaultdict(list)
    for where in _id_filters(ids):
        payments = (
            sa.select(Invoice.id, LedgerEntry.effective_date)
            .join(Allocation, Allocation.invoice_id == Invoice.id)
            .join(LedgerEntry, LedgerEntry.id == Allocation.credit_entry_id)
            .where(where, LedgerEntry.kind == EntryKind.PAYMENT, _NOT_REVERSED)
            .group_by(Invoice.id, Allocation.credit_entry_id, LedgerEntry.effective_date)
            .having(sa.func.sum(Allocation.amount_pence) > 0)
        )
        acknowledgements = sa.select(Invoice.id, DebtAcknowledgement.acknowledged_on).join(
            DebtAcknowledgement,
            sa.and_(
                DebtAcknowledgement.account_id == Invoice.account_id,
                sa.or_(
                    DebtAcknowledgement.invoice_id.is_(None),
                    DebtAcknowledgement.invoice_id == Invoice.id,
                ),
            ),
        )
        for query in (payments, acknowledgements.where(where)):
            for invoice_id, day in db.session.execute(query):
                found[invoice_id].append(day)
    return dict(found)


@dataclass(frozen=True)
class InvoiceLimitation:
    invoice_id: int
    number: str
    due_date: date
    outstanding_pence: int
    limitation_date: date  # the last day a claim may be issued
    barred_since: date | None  # None: not statute-barred


def account_limitation(account_id: int, on: date) -> list[InvoiceLimitation]:
    """The account's open invoices with the last day each may be taken to court, oldest
    first."""
    rows = db.session.execute(
        sa.select(
            Invoice.id,
            Invoice.number,
            Invoice.due_date,
            (Invoice.total_pence - _ALLOCATED).label("outstanding"),
        )
        .where(Invoice.account_id == account_id, Invoice.total_pence > _ALLOCATED)
        .order_by(Invoice.due_date, Invoice.id)
    ).all()
    restarts = restart_dates([r.id for r in rows]) if rows else {}
    result = []
    for r in rows:
        counted = [d for d in restarts.get(r.id, ()) if d <= on]
        result.append(
            InvoiceLimitation(
                invoice_id=r.id,
                number=r.number,
                due_date=r.due_date,
                outstanding_pence=int(r.outstanding),
                limitation_date=rules.limitation_date(r.due_date, counted),
                barred_since=rules.barred_since(r.due_date, counted, on),
            )
        )
    return result


def barred_since_by_invoice(account_id: int, on: date) -> dict[int, date]:
    """The account's statute-barred open invoices, each with the day it became barred."""
    return {
        i.invoice_id: i.barred_since
        for i in account_limitation(account_id, on)
        if i.barred_since is not None
    }


@dataclass(frozen=True)
class AcknowledgementView:
    id: int
    acknowledged_on: date
    covers: str  # "All debts" or "Invoice INV..."
    note: str
    recorded_by: str


@use_case
def record_acknowledgement(
    actor: Actor,
    account_id: int,
    invoice_id: int | None,
    acknowledged_on: date | None,
    note: str,
    *,
    today: date,
) -> DebtAcknowledgement:
    """Record a written acknowledgement of one invoice (or, with None, of every debt on the
    account): the six years run again from its date (one commit; the same form sent
    twice is recorded once)."""
    officer = legal_recorder(actor)
    account = db.session.get(DebtorAccount, account_id)
    if account is None:
        raise NotFound(f"No debtor account {account_id}")
    problems = rules.acknowledgement_problems(acknowledged_on, note or "", today)
    number = None
    if invoice_id is not None:
        number = db.session.scalar(
            sa.select(Invoice.number).where(
                Invoice.id == invoice_id, Invoice.account_id == account_id
            )
        )
        if number is None:
            problems["invoice"] = "Select an invoice on this account"
    if problems:
        raise Refused(problems)
    text = note.strip()
    same = db.session.scalar(
        sa.select(DebtAcknowledgement).where(
            DebtAcknowledgement.account_id == account_id,
            DebtAcknowledgement.invoice_id.is_(None)
            if invoice_id is None
            else DebtAcknowledgement.invoice_id == invoice_id,
            DebtAcknowledgement.acknowledged_on == acknowledged_on,
            DebtAcknowledgement.note == text,
        )
    )
    if same is not None:
        return same  # a second copy of the same form
    row = DebtAcknowledgement(
        account_id=account_id,
        invoice_id=invoice_id,
        acknowledged_on=acknowledged_on,
        note=text,
        recorded_by_staff_id=officer.id,
    )
    db.session.add(row)
    db.session.flush()
    covers = f"invoice {number}" if number else "all debts"
    record_timeline(
        account_id,
        actor,
        f"Written acknowledgement of {covers} recorded, dated {acknowledged_on:%d/%m/%Y}: "
        "the six-year limitation period runs again from that date",
        detail=text,
    )
    record_audit(
        actor,
        "legal.acknowledgement_recorded",
        "debt_acknowledgement",
        row.id,
        account_id=account_id,
        after={
            "invoice_id": invoice_id,
            "acknowledged_on": acknowledged_on.isoformat(),
            "note": text,
        },
    )
    db.session.commit()
    return row


def acknowledgements_for(account_id: int) -> list[AcknowledgementView]:
    """The account's recorded acknowledgements, newest first."""
    rows = db.session.execute(
        sa.select(DebtAcknowledgement, Invoice.number, StaffUser.full_name)
        .outerjoin(Invoice, Invoice.id == DebtAcknowledgement.invoice_id)
        .join(StaffUser, StaffUser.id == DebtAcknowledgement.recorded_by_staff_id)
        .where(DebtAcknowledgement.account_id == account_id)
        .order_by(DebtAcknowledgement.acknowledged_on.desc(), DebtAcknowledgement.id.desc())
    ).all()
    return [
        AcknowledgementView(
            id=ack.id,
            acknowledged_on=ack.acknowledged_on,
            covers=f"Invoice {number}" if number else "All debts",
            note=ack.note,
            recorded_by=name,
        )
        for ack, number, name in rows
    ]
