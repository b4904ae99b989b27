"""Unallocated payments: the back office's queue of money that paid no invoice.

Why a work-queue table (unallocated_credits) and not a query over the ledger:
a credit's unallocated amount is its value less the sum of its allocations,
refunds, transfers out and reversal, so finding the few credits with money
left means aggregating every payment ever taken. At 3M ledger rows about 1%
of payments are overpaid: a page of 50 would scan the whole book, and a
partial index cannot help because the figure is not a column of any one row.
So the set is kept as rows (credit_entry_id, account_id, unallocated_pence,
since), read oldest first through an index on (since, credit_entry_id) and
paged by keyset, which costs the same on page 1 and page 200 (measure it with
bench/bench_unallocated_queue.py).

The ledger stays the truth; the queue is derived from it and is not a
financial record, so its rows are updated and deleted. It is kept in step in
one place: every commit of the ORM session that added ledger entries or
allocations re-reads the unallocated amount of each credit they touched (a
new credit, the credit an allocation draws on, the credit a refund, transfer
or reversal names) and inserts, updates or deletes its row in the same
transaction. The ledger service locks the account before any of those
changes, so two requests cannot race on one credit's row. Rows written in
bulk outside the ORM (the demo seed, the migration) are caught up by
`backfill`, and the reconciliation report compares the queue with the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from shared.domain.names import display_name
from shared.extensions import db
from shared.models import (
    CREDIT_KINDS,
    Allocation,
    DebtorAccount,
    EntryKind,
    LedgerEntry,
    PaymentMethod,
    UnallocatedCredit,
)
from shared.models.base import utcnow
from shared.services import balances, keyset
from shared.services.account_view import METHOD_WORDS

PAGE_SIZE = 50

_TOUCHED = "unallocated_credits_touched"


# --- keeping the queue in step with the ledger ------------------------------------------


def _is_credit(kind, amount_pence: int) -> bool:
    kind = EntryKind(kind)
    return kind in CREDIT_KINDS or (kind == EntryKind.ADJUSTMENT and amount_pence < 0)


def _credits_touched_by(obj) -> Iterable[int]:
    if isinstance(obj, Allocation):
        yield obj.credit_entry_id
    elif isinstance(obj, LedgerEntry):
        if _is_credit(obj.kind, obj.amount_pence):
            yield obj.id
        # A refund or transfer out draws on its source; a reversal empties what it undoes.
        if obj.source_entry_id is not None:
            yield obj.source_entry_id
        if obj.reverses_entry_id is not None:
            yield obj.reverses_entry_id


def _note_touched_credits(session, flush_context) -> None:
    # After the flush new rows have their ids; session.new still lists them.
    touched = {i for obj in session.new for i in _credits_touched_by(obj)}
    if touched:
        session.info.setdefault(_TOUCHED, set()).update(touched)


def _requeue_before_commit(session) -> None:
    # SQLAlchemy calls this hook before commit's own last flush: flush now, so credits
    # that flush touches are noted and requeued in this commit, not left in
    # session.info for a later commit (or lost with the session).
    session.flush()
    touched = session.info.pop(_TOUCHED, None)
    if touched:
        requeue(touched)


def _forget_touched_credits(session) -> None:
    session.info.pop(_TOUCHED, None)


_HOOKS = (
    ("after_flush", _note_touched_credits),
    ("before_commit", _requeue_before_commit),
    ("after_rollback", _forget_touched_credits),
)


def keep_in_step() -> None:
    """Bring the queue up to date in every commit of db.session that wrote ledger rows.

    The ledger service calls this when it is imported; calling it again changes nothing."""
    for name, hook in _HOOKS:
        if not sa.event.contains(db.session, name, hook):
            sa.event.listen(db.session, name, hook)


def requeue(entry_ids: Iterable[int]) -> None:
    """Make the queue rows of these credit entries match the ledger (no commit).

    Called by the commit hook above; call it directly only after writing
    ledger rows some other way."""
    ids = sorted(set(entry_ids))
    available = {v.entry_id: v.available_pence for v in balances.credit_values(entry_ids=ids)}
    rows = {
        row.credit_entry_id: row
        for row in db.session.scalars(
            sa.select(UnallocatedCredit).where(UnallocatedCredit.credit_entry_id.in_(ids))
        )
    }
    new = [i for i in ids if available.get(i, 0) > 0 and i not in rows]
    facts = {
        r.id: r
        for r in db.session.execute(
            sa.select(LedgerEntry.id, LedgerEntry.account_id, LedgerEntry.effective_date).where(
                LedgerEntry.id.in_(new)
            )
        )
    }
    for entry_id in ids:
        pence, row = available.get(entry_id, 0), rows.get(entry_id)
        if pence > 0 and row is None:
            entry = facts[entry_id]
            db.session.add(
                UnallocatedCredit(
                    credit_entry_id=entry_id,
                    account_id=entry.account_id,
                    unallocated_pence=pence,
                    since=entry.effective_date,
                )
            )
        elif pence > 0 and row.unallocated_pence != pence:
            row.unallocated_pence = pence
        elif pence <= 0 and row is not None:
            db.session.delete(row)
    db.session.flush()


def _sum_by(column, where):
    return (
        sa.select(column.label("entry_id"), sa.func.sum(column.table.c.amount_pence).label("s"))
        .where(where)
        .group_by(column)
        .subquery()
    )


def backfill(from_entry_id: int = 0) -> int:
    """Queue every credit from `from_entry_id` on that has unallocated money and no row
    yet, in one set-based statement (no commit); returns how many were added.

    For ledger rows written in bulk, not through the ORM (the demo seed)."""
    entry = LedgerEntry.__table__.c
    alloc_t = Allocation.__table__.c
    drawn_t = LedgerEntry.__table__.alias("drawn").c
    reversal_t = LedgerEntry.__table__.alias("reversal").c
    allocated = _sum_by(alloc_t.credit_entry_id, alloc_t.credit_entry_id >= from_entry_id)
    drawn = _sum_by(drawn_t.source_entry_id, drawn_t.source_entry_id >= from_entry_id)
    reversed_ = _sum_by(reversal_t.reverses_entry_id, reversal_t.reverses_entry_id >= from_entry_id)
    available = (
        -entry.amount_pence
        - sa.func.coalesce(allocated.c.s, 0)
        - sa.func.coalesce(drawn.c.s, 0)
        - sa.func.coalesce(reversed_.c.s, 0)
    )
    queued = UnallocatedCredit.__table__.c
    credits = (
        sa.select(
            entry.id.label("credit_entry_id"),
            entry.account_id,
            available.label("unallocated_pence"),
            entry.effective_date.label("since"),
            sa.literal(utcnow(), sa.DateTime()).label("updated_at"),
        )
        .select_from(LedgerEntry.__table__)
        .outerjoin(allocated, allocated.c.entry_id == entry.id)
        .outerjoin(drawn, drawn.c.entry_id == entry.id)
        .outerjoin(reversed_, reversed_.c.entry_id == entry.id)
        .where(
            entry.id >= from_entry_id,
            sa.or_(
                entry.kind.in_([k.value for k in CREDIT_KINDS]),
                sa.and_(entry.kind == EntryKind.ADJUSTMENT.value, entry.amount_pence < 0),
            ),
            available > 0,
            ~sa.exists().where(queued.credit_entry_id == entry.id),
        )
    )
    queue_size = sa.select(sa.func.count()).select_from(UnallocatedCredit)
    before = db.session.scalar(queue_size)
    db.session.execute(
        sa.insert(UnallocatedCredit.__table__).from_select(
            ["credit_entry_id", "account_id", "unallocated_pence", "since", "updated_at"], credits
        )
    )
    # Counted, not the statement's rowcount: some drivers report -1 for INSERT ... SELECT.
    return db.session.scalar(queue_size) - before


# --- reading the queue ------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    credit_entry_id: int
    since: date
    age_days: int
    account_reference: str
    account_name: str
    what: str  # "Cheque", "Credit note", "Credit from another account"
    external_reference: str | None
    received_pence: int
    unallocated_pence: int


@dataclass(frozen=True)
class QueuePage(keyset.Page[QueueItem]):
    total_pence: int  # unallocated money in the whole queue


_ITEM_COLUMNS = (
    UnallocatedCredit.credit_entry_id,
    UnallocatedCredit.since,
    UnallocatedCredit.unallocated_pence,
    LedgerEntry.kind,
    LedgerEntry.method,
    LedgerEntry.external_reference,
    LedgerEntry.amount_pence,
    DebtorAccount.reference,
    DebtorAccount.kind.label("account_kind"),
    DebtorAccount.title,
    DebtorAccount.forename,
    DebtorAccount.surname,
    DebtorAccount.organisation_name,
)


_FIRST_PAGE, _LATER_PAGE = keyset.statements(
    sa.select(*_ITEM_COLUMNS)
    .join(LedgerEntry, LedgerEntry.id == UnallocatedCredit.credit_entry_id)
    .join(DebtorAccount, DebtorAccount.id == UnallocatedCredit.account_id),
    UnallocatedCredit.since,
    UnallocatedCredit.credit_entry_id,
)
_TOTALS = sa.select(
    sa.func.count(), sa.func.coalesce(sa.func.sum(UnallocatedCredit.unallocated_pence), 0)
)


def parse_cursor(text: str | None) -> tuple[date, int] | None:
    """The (since, credit entry id) a page starts after; None (the first page) for
    anything that is not a cursor this module made."""
    return keyset.parse_cursor(text, date)


def _what(kind, method, amount_pence: int) -> str:
    kind = EntryKind(kind)
    if kind == EntryKind.PAYMENT:
        return METHOD_WORDS.get(PaymentMethod(method), str(method)) if method else "Payment"
    if kind == EntryKind.CREDIT_NOTE:
        return "Credit note"
    if kind == EntryKind.WRITE_OFF:
        return "Write-off"
    return "Credit from another account" if amount_pence < 0 else "Credit adjustment"


def queue_page(today: date, *, after: tuple[date, int] | None = None) -> QueuePage:
    """A page of credits with unallocated money, oldest first, and the queue's totals."""
    rows, more = keyset.fetch(_FIRST_PAGE, _LATER_PAGE, after, PAGE_SIZE)
    count, total = db.session.execute(_TOTALS).one()
    items = [
        QueueItem(
            credit_entry_id=r.credit_entry_id,
            since=r.since,
            age_days=(today - r.since).days,
            account_reference=r.reference,
            account_name=display_name(
                r.account_kind, r.title, r.forename, r.surname, r.organisation_name
            ),
            what=_what(r.kind, r.method, r.amount_pence),
            external_reference=r.external_reference,
            received_pence=-int(r.amount_pence),
            unallocated_pence=int(r.unallocated_pence),
        )
        for r in rows
    ]
    last = items[-1] if items else None
    return QueuePage(
        items=items,
        count=int(count),
        total_pence=int(total),
        next_after=keyset.cursor(last.since, last.credit_entry_id) if more and last else None,
        is_first=after is None,
    )


def account_total(account_id: int) -> int:
    """The account's unallocated money, from the queue (one indexed read)."""
    return int(
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(UnallocatedCredit.unallocated_pence), 0)).where(
                UnallocatedCredit.account_id == account_id
            )
        )
    )
