"""Does the book balance? Set-based checks of the ledger invariants.

For every account the sum of its entries must equal what its invoices still
owe minus the credit not yet applied; no invoice may be over- or negatively
allocated; no credit may be spent beyond its value; every invoice must have
exactly one invoice entry for its total.

Every check runs in ONE statement (`_statement`): each aggregate the checks share
(allocations per credit and per invoice, each credit's value, allocated, drawn and
reversed, each invoice's allocations and invoice entries, each account's entries) is
a common table expression computed once, and each check is a branch of a UNION ALL
that reads them and stops at _LIMIT rows. The same statement sums the figures of
`ledger_totals()`, so the reconciliation page reads the ledger once for both
(`reconcile()`). Before, each check rebuilt the same subqueries: 76 s on a 200,000-
debtor ledger (bench/bench_report_reconciliation.py has the figures now).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from shared.extensions import db

_LIMIT = 50  # enough to act on; the count says how many more

# Each check's rows are tagged with its number, in the order its sentences are listed.
(
    TOTALS,
    INVOICE_ALLOCATED,
    CREDIT_SPENT,
    REVERSED_ALLOCATED,
    TAKEN_BACK,
    QUEUE,
    INVOICE_ENTRIES,
    BALANCE,
    SOURCE_ACCOUNT,
    ALLOCATION_ACCOUNT,
) = range(10)


_CREDIT_KINDS = (
    "(e.kind IN ('payment', 'credit_note', 'write_off') "
    "OR (e.kind = 'adjustment' AND e.amount_pence < 0))"
)


def _scope(column: str, account_ids: list[int] | None) -> str:
    if account_ids is None:
        return "1 = 1"
    ids = ",".join(str(int(i)) for i in account_ids) or "NULL"
    return f"{column} IN ({ids})"


def _common(account_ids: list[int] | None) -> str:
    """The aggregates every check shares, each computed once.

    credits: each credit entry's value, what is allocated from it, drawn from it
    (refunds, transfers out) and taken back by its reversal, what is left
    (unallocated) and its row in the unallocated payments queue. invoices_: each
    invoice's allocations and its invoice entries. books: each account's entries
    summed beside what its invoices owe and its unallocated credit. bad_credits and
    bad_invoices: the rows some check fails (none when the books reconcile)."""
    scoped = account_ids is not None
    credit_ids = (
        f"WHERE credit_entry_id IN (SELECT id FROM ledger_entries "
        f"WHERE {_scope('account_id', account_ids)})"
        if scoped
        else ""
    )
    invoice_ids = (
        f"invoice_id IN (SELECT id FROM invoices WHERE {_scope('account_id', account_ids)})"
        if scoped
        else "1 = 1"
    )
    positive = "CASE WHEN unallocated > 0 THEN unallocated ELSE 0 END"
    return f"""
WITH alloc_credit AS (
    SELECT credit_entry_id, SUM(amount_pence) AS allocated
    FROM allocations {credit_ids}
    GROUP BY credit_entry_id
), credits AS (
    SELECT e.id, e.account_id, -e.amount_pence AS value,
           COALESCE(a.allocated, 0) AS allocated,
           COALESCE(d.drawn, 0) AS drawn,
           COALESCE(r.reversed, 0) AS reversed,
           -e.amount_pence - COALESCE(a.allocated, 0) - COALESCE(d.drawn, 0)
             - COALESCE(r.reversed, 0) AS unallocated,
           COALESCE(q.unallocated_pence, 0) AS queued
    FROM ledger_entries e
    LEFT JOIN alloc_credit a ON a.credit_entry_id = e.id
    LEFT JOIN (SELECT source_entry_id, SUM(amount_pence) AS drawn
               FROM ledger_entries WHERE source_entry_id IS NOT NULL
               GROUP BY source_entry_id) d ON d.source_entry_id = e.id
    LEFT JOIN (SELECT reverses_entry_id, SUM(amount_pence) AS reversed
               FROM ledger_entries WHERE reverses_entry_id IS NOT NULL
               GROUP BY reverses_entry_id) r ON r.reverses_entry_id = e.id
    LEFT JOIN unallocated_credits q ON q.credit_entry_id = e.id
    WHERE {_CREDIT_KINDS} AND {_scope("e.account_id", account_ids)}
), bad_credits AS (
    SELECT id, value, allocated, drawn, reversed, queued,
           {positive} AS available
    FROM credits
    WHERE allocated < 0 OR allocated + drawn + reversed > value
       OR (reversed > 0 AND allocated <> 0)
       OR {positive} <> queued
), alloc_invoice AS (
    SELECT invoice_id, SUM(amount_pence) AS allocated
    FROM allocations WHERE {invoice_ids}
    GROUP BY invoice_id
), invoice_entries AS (
    SELECT invoice_id, COUNT(*) AS n, SUM(amount_pence) AS amount
    FROM ledger_entries
    WHERE kind = 'invoice' AND invoice_id IS NOT NULL AND {invoice_ids}
    GROUP BY invoice_id
), invoices_ AS (
    SELECT i.id, i.number, i.account_id, i.total_pence,
           COALESCE(a.allocated, 0) AS allocated,
           COALESCE(ie.n, 0) AS n, COALESCE(ie.amount, 0) AS amount
    FROM invoices i
    LEFT JOIN alloc_invoice a ON a.invoice_id = i.id
    LEFT JOIN invoice_entries ie ON ie.invoice_id = i.id
    WHERE {_scope("i.account_id", account_ids)}
), bad_invoices AS (
    SELECT number, total_pence, allocated, n, amount FROM invoices_
    WHERE allocated < 0 OR allocated > total_pence OR n <> 1 OR amount <> total_pence
), taken_back AS (
    -- A credit's allocations to one invoice summing below nil: only a pair with a
    -- negative allocation can, and those are few.
    SELECT al.credit_entry_id
    FROM allocations al
    JOIN (SELECT DISTINCT credit_entry_id, invoice_id FROM allocations
          WHERE amount_pence < 0) n
      ON n.credit_entry_id = al.credit_entry_id AND n.invoice_id = al.invoice_id
    GROUP BY al.credit_entry_id, al.invoice_id
    HAVING SUM(al.amount_pence) < 0
), cross_allocations AS MATERIALIZED (
    -- Materialized, so it is planned for the whole table (joins that read it once),
    -- not for the first few rows a LIMIT asks for (an index probe per allocation).
    SELECT al.id
    FROM allocations al
    JOIN ledger_entries e ON e.id = al.credit_entry_id
    JOIN invoices i ON i.id = al.invoice_id
    WHERE e.account_id <> i.account_id AND {_scope("e.account_id", account_ids)}
), ledger_accounts AS (
    SELECT account_id, SUM(amount_pence) AS total
    FROM ledger_entries WHERE {_scope("account_id", account_ids)}
    GROUP BY account_id
), books AS (
    SELECT account_id, SUM(total) AS balance, SUM(outstanding) AS outstanding,
           SUM(available) AS available
    FROM (SELECT account_id, total, 0 AS outstanding, 0 AS available FROM ledger_accounts
          UNION ALL
          SELECT account_id, 0, total_pence - allocated, 0 FROM invoices_
          UNION ALL
          SELECT account_id, 0, 0, unallocated FROM credits) parts
    GROUP BY account_id
)"""


# Every branch gives (tag, ref, n1..n7); each check stops at _LIMIT rows.
_N = "CAST(NULL AS BIGINT)"  # a typed nothing: PostgreSQL types a bare NULL as text
_S = "CAST(NULL AS VARCHAR(100))"
_NULLS = f"{_N}, {_N}, {_N}"


def _checks(account_ids: list[int] | None) -> list[str]:
    lim = f"LIMIT {_LIMIT}"
    return [
        f"""SELECT {INVOICE_ALLOCATED}, number, total_pence, allocated, {_N}, {_N}, {_NULLS}
            FROM bad_invoices WHERE allocated < 0 OR allocated > total_pence {lim}""",
        f"""SELECT {CREDIT_SPENT}, {_S}, id, value, allocated, drawn, reversed, {_N}, {_N}
            FROM bad_credits WHERE allocated < 0 OR allocated + drawn + reversed > value
            {lim}""",
        f"""SELECT {REVERSED_ALLOCATED}, {_S}, id, {_N}, {_N}, {_N}, {_NULLS}
            FROM bad_credits WHERE reversed > 0 AND allocated <> 0 {lim}""",
        f"""SELECT {TAKEN_BACK}, {_S}, e.id, {_N}, {_N}, {_N}, {_NULLS}
            FROM taken_back t JOIN ledger_entries e ON e.id = t.credit_entry_id
            WHERE {_CREDIT_KINDS} AND {_scope("e.account_id", account_ids)} {lim}""",
        # The unallocated payments queue is derived from the ledger and must agree with it.
        f"""SELECT {QUEUE}, {_S}, id, available, queued, {_N}, {_NULLS}
            FROM bad_credits WHERE available <> queued {lim}""",
        f"""SELECT {INVOICE_ENTRIES}, number, n, amount, total_pence, {_N}, {_NULLS}
            FROM bad_invoices WHERE n <> 1 OR amount <> total_pence {lim}""",
        # The balance identity, per account: sum(entries) = sum(outstanding) - unallocated.
        f"""SELECT {BALANCE}, acc.reference, b.balance, b.outstanding, b.available,
                   {_N}, {_NULLS}
            FROM books b JOIN debtor_accounts acc ON acc.id = b.account_id
            WHERE b.balance <> b.outstanding - b.available {lim}""",
        # Refunds and transfers out must draw on a credit entry of the same account.
        f"""SELECT {SOURCE_ACCOUNT}, {_S}, e.id, {_N}, {_N}, {_N}, {_NULLS}
            FROM ledger_entries e JOIN ledger_entries s ON s.id = e.source_entry_id
            WHERE s.account_id <> e.account_id AND {_scope("e.account_id", account_ids)}
            {lim}""",
        f"""SELECT {ALLOCATION_ACCOUNT}, {_S}, id, {_N}, {_N}, {_N}, {_NULLS}
            FROM cross_allocations {lim}""",
    ]


_TOTALS = f"""SELECT {TOTALS}, {_S},
       (SELECT COALESCE(SUM(total), 0) FROM ledger_accounts),
       (SELECT COALESCE(SUM(total_pence - allocated), 0) FROM invoices_),
       c.unallocated, c.available, c.n, q.total, q.n
FROM (SELECT COALESCE(SUM(unallocated), 0) AS unallocated,
             COALESCE(SUM(CASE WHEN unallocated > 0 THEN unallocated ELSE 0 END), 0)
               AS available,
             COUNT(CASE WHEN unallocated > 0 THEN 1 END) AS n
      FROM credits) c,
     (SELECT COALESCE(SUM(unallocated_pence), 0) AS total, COUNT(*) AS n
      FROM unallocated_credits) q"""


def _statement(account_ids: list[int] | None, totals: bool, checks: bool) -> str:
    """One statement: the shared aggregates, then the totals row and each check."""
    branches = [_TOTALS] if totals else []
    if checks:
        branches += _checks(account_ids)
    union = "\nUNION ALL\n".join(f"SELECT * FROM ({b}) x{n}" for n, b in enumerate(branches))
    return f"{_common(account_ids)}\n{union}"


def _sentences(tag: int, rows: list[sa.Row]) -> list[str]:
    def n(value) -> int | None:
        return None if value is None else int(value)

    out: list[str] = []
    for row in rows:
        ref = row[1]
        a, b, c, d, e = (n(v) for v in row[2:7])
        if tag == INVOICE_ALLOCATED:
            out.append(f"invoice {ref}: allocations {b}p outside 0..{a}p")
        elif tag == CREDIT_SPENT:
            out.append(
                f"credit entry {a}: value {b}p but allocated {c}p, drawn {d}p, reversed {e}p"
            )
        elif tag == REVERSED_ALLOCATED:
            out.append(f"credit entry {a}: reversed but still allocated")
        elif tag == TAKEN_BACK:  # one per invoice it took back too much from
            out.append(f"credit entry {a}: more taken back from an invoice than was allocated")
        elif tag == QUEUE:
            out.append(
                f"credit entry {a}: {b}p unallocated but {c}p in the unallocated payments queue"
            )
        elif tag == INVOICE_ENTRIES:
            out.append(f"invoice {ref}: {a} invoice entries for {b}p, total {c}p")
        elif tag == BALANCE:
            out.append(
                f"account {ref}: balance {a}p but invoices owe {b}p less {c}p unallocated credit"
            )
        elif tag == SOURCE_ACCOUNT:
            out.append(f"entry {a}: draws on credit from another account")
        elif tag == ALLOCATION_ACCOUNT:
            out.append(f"allocation {a}: applies one account's credit to another's invoice")
    return out[:_LIMIT]


@dataclass(frozen=True)
class LedgerTotals:
    """The whole ledger's figures behind the balance identity and the queue check."""

    ledger_pence: int  # every entry summed: what debtors owe, net
    outstanding_pence: int  # what invoices still owe (total less allocations)
    unallocated_pence: int  # credit not yet applied: value less allocated, drawn, reversed
    available_pence: int  # the positive part of each credit's unallocated value, summed
    available_count: int  # credits with some available
    queue_pence: int  # the unallocated payments queue (unallocated_credits)
    queue_count: int

    @property
    def difference_pence(self) -> int:
        """Ledger total less (outstanding less unallocated credit): nil when it balances."""
        return self.ledger_pence - (self.outstanding_pence - self.unallocated_pence)

    @property
    def queue_difference_pence(self) -> int:
        """The queue less the ledger's available credit: nil when they agree."""
        return self.queue_pence - self.available_pence


@dataclass(frozen=True)
class Reconciliation:
    totals: LedgerTotals
    problems: list[str]


def _run(
    account_ids: Iterable[int] | None, totals: bool, checks: bool
) -> tuple[LedgerTotals | None, list[str]]:
    ids = None if account_ids is None else list(account_ids)
    statement = sa.text(_statement(ids, totals, checks))
    if db.session.get_bind().dialect.name == "postgresql":
        # Compiling this one large statement to machine code (JIT) costs more than it
        # saves: seconds of a 200,000-debtor reconciliation. Off for it alone.
        jit = db.session.execute(
            sa.text("SELECT current_setting('jit'), set_config('jit', 'off', true)")
        ).scalar()
        rows = db.session.execute(statement).all()
        db.session.execute(sa.text("SELECT set_config('jit', :jit, true)"), {"jit": jit})
    else:
        rows = db.session.execute(statement).all()
    by_tag: dict[int, list[sa.Row]] = {}
    for row in rows:
        by_tag.setdefault(int(row[0]), []).append(row)
    found = None
    if totals:
        [t] = by_tag.pop(TOTALS)
        found = LedgerTotals(*(int(v) for v in t[2:9]))
    problems: list[str] = []
    for tag in sorted(by_tag):
        problems += _sentences(tag, by_tag[tag])
    return found, problems


def ledger_discrepancies(account_ids: Iterable[int] | None = None) -> list[str]:
    """Every broken invariant, as a sentence; an empty list means the books reconcile.
    Each check lists at most _LIMIT."""
    return _run(account_ids, totals=False, checks=True)[1]


def ledger_totals() -> LedgerTotals:
    """The figures ledger_discrepancies() checks, summed over the whole ledger (reads only)."""
    found, _ = _run(None, totals=True, checks=False)
    assert found is not None
    return found


def reconcile() -> Reconciliation:
    """ledger_totals() and ledger_discrepancies() of the whole ledger from one statement:
    each shared aggregate is computed once for both (the reconciliation page)."""
    found, problems = _run(None, totals=True, checks=True)
    assert found is not None
    return Reconciliation(totals=found, problems=problems)
