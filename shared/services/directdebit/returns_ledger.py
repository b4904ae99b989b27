"""Reversing returned Direct Debit payments on the ledger, many at once, and writing
the timeline and audit rows of a report's items in bulk.

Why not ledger.reverse once per return: it commits (a report is one transaction) and
costs about six round trips a payment, too slow for an ARUDD of 5,000 returns. This
does exactly what ledger.reverse (shared/services/ledger/corrections.py) does,
set-based, in the import's transaction, as posting.py does for ledger.post_payment:

- a payment reversed before is not reversed again (its existing reversal is used);
- the reversal is for the credit's value less what was refunded or transferred out
  of it (nothing left: no reversal, and the caller routes the return to an officer);
- every allocation the payment made is taken back by a negative allocation per
  invoice naming the reversal, so the invoices it paid owe again;
- the timeline says "Payment of £X reversed" with the reason (or the caller's own
  entry says so), and the audit row is "entry.reversed" with the same payload;
- the unallocated payments queue is brought up to date (unallocated.requeue).

The caller has locked the accounts. tests/integration/test_bacs_returns_ledger.py
checks the result against ledger.reverse's on the same payment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from shared import clock
from shared.extensions import db
from shared.models import (
    ActorType,
    Allocation,
    AuditLog,
    ContactEvent,
    ContactKind,
    EntryKind,
    LedgerEntry,
    UnallocatedCredit,
)
from shared.money import format_gbp
from shared.services import unallocated
from shared.services.actors import Actor
from shared.services.bank_statements import bulk
from shared.services.bank_statements.lookups import chunks


def among(column, values: list):
    """`column IN values`; on PostgreSQL as `= ANY(array)`, one parameter instead of
    thousands (the driver parses every placeholder of a long IN list on each call)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    item = sa.String() if values and isinstance(values[0], str) else sa.Integer()
    return column == sa.any_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(item)))


@dataclass(frozen=True)
class Reversal:
    entry_id: int  # the payment reversed
    reversal_entry_id: int | None  # None: nothing left to reverse (refunded or moved)
    amount_pence: int
    created: bool  # False: it had been reversed before


def reverse_payments(
    reasons: dict[int, str], actor: Actor, *, timeline: bool = True, requeue: bool = True
) -> dict[int, Reversal]:
    """Reverse each payment entry (id -> reason); what happened to each, by entry id.

    timeline=False leaves the account's timeline to the caller, whose own entry says
    the payment was reversed (the audit row is written either way); requeue=False
    leaves unallocated.requeue(ids) to the caller (it flushes the session)."""
    if not reasons:
        return {}
    ids = sorted(reasons)
    done: dict[int, Reversal] = {}
    originals: dict[int, tuple[int, int | None, int]] = {}
    drawn: dict[int, int] = {}
    source = sa.orm.aliased(LedgerEntry)
    for chunk in chunks(ids):
        for reversed_id, reversal_id, amount in db.session.execute(
            sa.select(
                LedgerEntry.reverses_entry_id, LedgerEntry.id, LedgerEntry.amount_pence
            ).where(among(LedgerEntry.reverses_entry_id, chunk))
        ):
            done[reversed_id] = Reversal(reversed_id, reversal_id, int(amount), created=False)
        for entry_id, account_id, invoice_id, amount, kind in db.session.execute(
            sa.select(
                LedgerEntry.id,
                LedgerEntry.account_id,
                LedgerEntry.invoice_id,
                LedgerEntry.amount_pence,
                LedgerEntry.kind,
            ).where(among(LedgerEntry.id, chunk))
        ):
            if kind == EntryKind.PAYMENT and amount < 0:
                originals[entry_id] = (account_id, invoice_id, int(amount))
        # What was refunded or transferred out of each (balances.CreditValue.drawn_pence).
        drawn.update(
            (entry_id, int(total))
            for entry_id, total in db.session.execute(
                sa.select(source.source_entry_id, sa.func.sum(source.amount_pence))
                .where(among(source.source_entry_id, chunk))
                .group_by(source.source_entry_id)
            )
        )
    to_make = []
    for entry_id in ids:
        if entry_id in done:
            continue
        # ledger.reverse's amount: the credit's value less what was drawn from it.
        amount = -originals[entry_id][2] - drawn.get(entry_id, 0) if entry_id in originals else 0
        if amount <= 0:
            done[entry_id] = Reversal(entry_id, None, 0, created=False)
            continue
        to_make.append((entry_id, amount))
    if not to_make:
        return done
    today = clock.today()
    new_ids = bulk.insert(
        LedgerEntry,
        [
            dict(
                account_id=originals[entry_id][0],
                kind=EntryKind.REVERSAL,
                amount_pence=amount,
                reverses_entry_id=entry_id,
                invoice_id=originals[entry_id][1],
                reason=reasons[entry_id][:300],
                effective_date=today,
                created_by_staff_id=actor.staff_id,
            )
            for entry_id, amount in to_make
        ],
        returning_ids=True,
    )
    reversal_of = {}
    for (entry_id, amount), new_id in zip(to_make, new_ids, strict=True):
        done[entry_id] = Reversal(entry_id, new_id, amount, created=True)
        reversal_of[entry_id] = new_id
    allocations = []
    for chunk in chunks(sorted(reversal_of)):
        for credit_id, invoice_id, total in db.session.execute(
            sa.select(
                Allocation.credit_entry_id,
                Allocation.invoice_id,
                sa.func.sum(Allocation.amount_pence),
            )
            .where(among(Allocation.credit_entry_id, chunk))
            .group_by(Allocation.credit_entry_id, Allocation.invoice_id)
        ):
            if total:
                allocations.append(
                    dict(
                        credit_entry_id=credit_id,
                        invoice_id=invoice_id,
                        amount_pence=-int(total),
                        reversal_entry_id=reversal_of[credit_id],
                        created_by_staff_id=actor.staff_id,
                    )
                )
    bulk.insert(Allocation, allocations)
    history = [
        (
            originals[entry_id][0],
            f"Payment of {format_gbp(-originals[entry_id][2])} reversed" if timeline else None,
            reasons[entry_id],
            AuditRow(
                "entry.reversed",
                "ledger_entry",
                entry_id,
                {"reversal_entry_id": new_id, "amount_pence": amount, "reason": reasons[entry_id]},
            ),
        )
        for (entry_id, amount), new_id in zip(to_make, new_ids, strict=True)
    ]
    write_history(history, actor)
    if requeue:
        requeue_reversed(list(reversal_of))
    return done


def requeue_reversed(entry_ids: list[int]) -> None:
    """unallocated.requeue for reversed credits, read only where it can change anything:
    a reversed credit has nothing left unallocated, so only credits that had a row on
    the unallocated payments queue (an overpayment) lose it; the others have none."""
    queued = [
        entry_id
        for chunk in chunks(entry_ids)
        for entry_id in db.session.scalars(
            sa.select(UnallocatedCredit.credit_entry_id).where(
                among(UnallocatedCredit.credit_entry_id, chunk)
            )
        )
    ]
    db.session.flush()
    if queued:
        unallocated.requeue(queued)


@dataclass(frozen=True)
class AuditRow:
    action: str
    object_type: str
    object_id: int | str | None
    after: dict


def write_history(
    rows: Iterable[tuple[int | None, str | None, str | None, AuditRow]], actor: Actor
) -> None:
    """For each (account id, timeline summary, timeline detail, audit row): the timeline
    entry (when there is an account and a summary) and the audit row, in bulk, as
    history.record_timeline and record_audit would write them."""
    kind = {
        ActorType.PORTAL_USER: ContactKind.PORTAL,
        ActorType.SYSTEM: ContactKind.SYSTEM,
    }.get(actor.type, ContactKind.NOTE)
    events, audits = [], []
    for account_id, summary, detail, audit in rows:
        if account_id is not None and summary:
            events.append(
                dict(
                    account_id=account_id,
                    kind=kind,
                    summary=summary[:300],
                    detail=detail,
                    staff_id=actor.staff_id,
                    portal_user_id=actor.portal_user_id,
                )
            )
        audits.append(
            dict(
                actor_type=actor.type,
                actor_id=actor.id,
                action=audit.action,
                object_type=audit.object_type,
                object_id=None if audit.object_id is None else str(audit.object_id),
                account_id=account_id,
                after=audit.after,
                source_ip=actor.source_ip,
            )
        )
    bulk.insert(ContactEvent, events)
    bulk.insert(AuditLog, audits)
