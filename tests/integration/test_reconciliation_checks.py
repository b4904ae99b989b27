"""Each ledger check, broken on purpose, is named in the same words as by the check-by-
check queries it replaced (kept below as the reference): the one-statement
reconciliation (shared/reports/reconciliation.py) gives the same sentences, for the
whole ledger and for a few accounts, and the same totals."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from shared.extensions import db
from shared.models import Allocation, LedgerEntry, PaymentMethod
from shared.reports.reconciliation import ledger_discrepancies, ledger_totals, reconcile
from shared.services import ledger
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_department

DAY = date(2026, 3, 2)

# The reference: each check as its own query over the same subqueries, as before.
_CREDIT_SQL = """
SELECT e.id, e.account_id, -e.amount_pence AS value,
       COALESCE(a.allocated, 0) AS allocated, COALESCE(d.drawn, 0) AS drawn,
       COALESCE(r.reversed, 0) AS reversed
FROM ledger_entries e
LEFT JOIN (SELECT credit_entry_id, SUM(amount_pence) AS allocated
           FROM allocations GROUP BY credit_entry_id) a ON a.credit_entry_id = e.id
LEFT JOIN (SELECT source_entry_id, SUM(amount_pence) AS drawn FROM ledger_entries
           WHERE source_entry_id IS NOT NULL GROUP BY source_entry_id) d
  ON d.source_entry_id = e.id
LEFT JOIN (SELECT reverses_entry_id, SUM(amount_pence) AS reversed FROM ledger_entries
           WHERE reverses_entry_id IS NOT NULL GROUP BY reverses_entry_id) r
  ON r.reverses_entry_id = e.id
WHERE (e.kind IN ('payment', 'credit_note', 'write_off')
       OR (e.kind = 'adjustment' AND e.amount_pence < 0)) AND {scope}
"""
_INVOICE_SQL = """
SELECT i.id, i.number, i.account_id, i.total_pence, COALESCE(a.allocated, 0) AS allocated
FROM invoices i
LEFT JOIN (SELECT invoice_id, SUM(amount_pence) AS allocated
           FROM allocations GROUP BY invoice_id) a ON a.invoice_id = i.id
WHERE {scope}
"""


def _scope(column, ids):
    return "1 = 1" if ids is None else f"{column} IN ({','.join(map(str, ids)) or 'NULL'})"


def reference(ids=None) -> list[str]:
    def run(sql):
        return db.session.execute(sa.text(sql)).all()

    inv = f"({_INVOICE_SQL.format(scope=_scope('i.account_id', ids))})"
    cr = f"({_CREDIT_SQL.format(scope=_scope('e.account_id', ids))})"
    avail = "c.value - c.allocated - c.drawn - c.reversed"
    out = [
        f"invoice {r.number}: allocations {r.allocated}p outside 0..{r.total_pence}p"
        for r in run(f"SELECT * FROM {inv} x WHERE allocated < 0 OR allocated > total_pence")
    ]
    out += [
        f"credit entry {r.id}: value {r.value}p but allocated {r.allocated}p, "
        f"drawn {r.drawn}p, reversed {r.reversed}p"
        for r in run(
            f"SELECT * FROM {cr} c WHERE allocated < 0 OR allocated + drawn + reversed > value"
        )
    ]
    out += [
        f"credit entry {r.id}: reversed but still allocated"
        for r in run(f"SELECT id FROM {cr} c WHERE reversed > 0 AND allocated <> 0")
    ]
    out += [
        f"credit entry {r.id}: more taken back from an invoice than was allocated"
        for r in run(
            f"SELECT c.id FROM {cr} c JOIN allocations al ON al.credit_entry_id = c.id "
            "GROUP BY c.id, al.invoice_id HAVING SUM(al.amount_pence) < 0"
        )
    ]
    out += [
        f"credit entry {r.id}: {r.available}p unallocated but {r.queued}p "
        "in the unallocated payments queue"
        for r in run(
            f"SELECT c.id, CASE WHEN {avail} > 0 THEN {avail} ELSE 0 END AS available, "
            f"COALESCE(q.unallocated_pence, 0) AS queued FROM {cr} c "
            "LEFT JOIN unallocated_credits q ON q.credit_entry_id = c.id "
            f"WHERE CASE WHEN {avail} > 0 THEN {avail} ELSE 0 END "
            "<> COALESCE(q.unallocated_pence, 0)"
        )
    ]
    out += [
        f"invoice {r.number}: {r.n} invoice entries for {r.amount}p, total {r.total_pence}p"
        for r in run(
            "SELECT i.number, i.total_pence, COUNT(e.id) AS n, "
            "COALESCE(SUM(e.amount_pence), 0) AS amount FROM invoices i "
            "LEFT JOIN ledger_entries e ON e.invoice_id = i.id AND e.kind = 'invoice' "
            f"WHERE {_scope('i.account_id', ids)} GROUP BY i.id, i.number, i.total_pence "
            "HAVING COUNT(e.id) <> 1 OR COALESCE(SUM(e.amount_pence), 0) <> i.total_pence"
        )
    ]
    out += [
        f"account {r.reference}: balance {r.balance}p but invoices owe {r.outstanding}p "
        f"less {r.available}p unallocated credit"
        for r in run(
            "SELECT acc.reference, COALESCE(le.total, 0) AS balance, "
            "COALESCE(io.o, 0) AS outstanding, COALESCE(cr.a, 0) AS available "
            "FROM debtor_accounts acc LEFT JOIN (SELECT account_id, SUM(amount_pence) AS total "
            "FROM ledger_entries GROUP BY account_id) le ON le.account_id = acc.id "
            "LEFT JOIN (SELECT account_id, SUM(total_pence - allocated) AS o "
            f"FROM {inv} x GROUP BY account_id) io ON io.account_id = acc.id "
            "LEFT JOIN (SELECT account_id, SUM(value - allocated - drawn - reversed) AS a "
            f"FROM {cr} y GROUP BY account_id) cr ON cr.account_id = acc.id "
            f"WHERE {_scope('acc.id', ids)} AND COALESCE(le.total, 0) "
            "<> COALESCE(io.o, 0) - COALESCE(cr.a, 0)"
        )
    ]
    out += [
        f"entry {r.id}: draws on credit from another account"
        for r in run(
            "SELECT e.id FROM ledger_entries e JOIN ledger_entries s ON s.id = e.source_entry_id "
            f"WHERE s.account_id <> e.account_id AND {_scope('e.account_id', ids)}"
        )
    ]
    out += [
        f"allocation {r.id}: applies one account's credit to another's invoice"
        for r in run(
            "SELECT al.id FROM allocations al JOIN ledger_entries e ON e.id = al.credit_entry_id "
            "JOIN invoices i ON i.id = al.invoice_id "
            f"WHERE e.account_id <> i.account_id AND {_scope('e.account_id', ids)}"
        )
    ]
    return out


class Books:
    """Two accounts: A owes on two invoices, part paid; B has a payment with nothing to pay."""

    def __init__(self):
        dept = make_department()
        self.a, self.b = make_account(), make_account(surname="Jones")
        self.inv1, self.inv2 = (
            ledger.raise_invoice(
                account_id=self.a.id,
                department_id=dept.id,
                number=number,
                issue_date=date(2026, 1, 1),
                due_date=date(2026, 1, 31),
                description="Service",
                lines=[ledger.LineInput("Service", 1, pence)],
                actor=SYSTEM,
            )
            for number, pence in (("CHK-1", 10_000), ("CHK-2", 5_000))
        )
        self.paid, self.spare = (
            ledger.record_payment(
                account_id=account.id,
                amount_pence=pence,
                method=PaymentMethod.BANK_TRANSFER,
                actor=SYSTEM,
            ).entry
            for account, pence in ((self.a, 12_000), (self.b, 4_000))
        )

    def entry(self, account, kind, pence, **kw) -> int:
        return db.session.execute(
            sa.insert(LedgerEntry)
            .values(account_id=account.id, kind=kind, amount_pence=pence, effective_date=DAY, **kw)
            .returning(LedgerEntry.id)
        ).scalar_one()

    def allocation(self, credit_id, invoice_id, pence) -> int:
        return db.session.execute(
            sa.insert(Allocation)
            .values(credit_entry_id=credit_id, invoice_id=invoice_id, amount_pence=pence)
            .returning(Allocation.id)
        ).scalar_one()


@pytest.fixture
def books(app):
    return Books()


def _over_allocate(b: Books):
    b.allocation(b.paid.id, b.inv2.id, 50_000)
    return "invoice CHK-2: allocations 52000p outside 0..5000p"


def _reverse_allocated(b: Books):
    b.entry(b.a, "reversal", 12_000, reverses_entry_id=b.paid.id)
    return f"credit entry {b.paid.id}: reversed but still allocated"


def _take_back(b: Books):
    b.allocation(b.spare.id, b.inv1.id, -300)
    return f"credit entry {b.spare.id}: more taken back from an invoice than was allocated"


def _second_invoice_entry(b: Books):
    b.entry(b.a, "invoice", 5_000, invoice_id=b.inv2.id)
    return "invoice CHK-2: 2 invoice entries for 10000p, total 5000p"


def _adjust(b: Books):
    b.entry(b.b, "adjustment", 700)
    return (
        f"account {b.b.reference}: balance -3300p but invoices owe 0p less 4000p unallocated credit"
    )


def _refund_other_account(b: Books):
    entry = b.entry(b.a, "refund", 1_000, source_entry_id=b.spare.id)
    return f"entry {entry}: draws on credit from another account"


def _allocate_across(b: Books):
    allocation = b.allocation(b.spare.id, b.inv2.id, 1_000)
    return f"allocation {allocation}: applies one account's credit to another's invoice"


BREAKS = [
    _over_allocate,
    _reverse_allocated,
    _take_back,
    _second_invoice_entry,
    _adjust,
    _refund_other_account,
    _allocate_across,
]


def test_good_books_have_no_discrepancies_and_balance(books):
    assert reconcile().problems == ledger_discrepancies() == reference() == []
    totals = ledger_totals()
    assert (totals.outstanding_pence, totals.unallocated_pence, totals.available_pence) == (
        3_000,
        4_000,
        4_000,
    )
    assert totals.difference_pence == totals.queue_difference_pence == 0


@pytest.mark.parametrize("break_", BREAKS, ids=lambda f: f.__name__.strip("_"))
def test_each_broken_rule_is_named_as_the_check_by_check_queries_name_it(books, break_):
    expected = break_(books)
    db.session.commit()

    found = ledger_discrepancies()
    assert expected in found
    assert sorted(found) == sorted(reference())
    for ids in ([books.a.id], [books.b.id], []):
        assert sorted(ledger_discrepancies(ids)) == sorted(reference(ids))
    both = reconcile()
    assert both.problems == found
    assert both.totals == ledger_totals()


def test_each_check_lists_at_most_fifty(books):
    for _ in range(60):
        books.allocation(books.spare.id, books.inv1.id, -1)
        books.entry(books.a, "invoice", 1, invoice_id=books.inv1.id)
    fresh = [books.entry(books.b, "refund", 1, source_entry_id=books.paid.id) for _ in range(55)]
    db.session.commit()

    found = ledger_discrepancies()

    drawn = [p for p in found if p.endswith("draws on credit from another account")]
    assert len(drawn) == 50 and set(drawn) <= {
        f"entry {e}: draws on credit from another account" for e in fresh
    }
    # One sentence for the one credit and invoice pair, however many rows it has.
    assert (
        found.count(
            f"credit entry {books.spare.id}: more taken back from an invoice than was allocated"
        )
        == 1
    )
    assert "invoice CHK-1: 61 invoice entries for 10060p, total 10000p" in found
