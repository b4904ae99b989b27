"""Does the book balance? Set-based checks of the ledger invariants.

For every account the sum of its entries must equal what its invoices still
owe minus the credit not yet applied; no invoice may be over- or negatively
allocated; no credit may be spent beyond its value; every invoice must have
exactly one invoice entry for its total. Each check is one grouped query, so
it runs over millions of rows in seconds on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from shared.extensions import db

_LIMIT = 50  # enough to act on; the count says how many more


def _scope(column: str, account_ids: Iterable[int] | None) -> str:
    if account_ids is None:
        return "1 = 1"
    ids = ",".join(str(int(i)) for i in account_ids) or "NULL"
    return f"{column} IN ({ids})"


# Each credit entry's value, what is allocated from it, drawn from it (refunds,
# transfers out) and taken back by its reversal.
_CREDIT_SQL = """
SELECT e.id, e.account_id, -e.amount_pence AS value,
       COALESCE(a.allocated, 0) AS allocated,
       COALESCE(d.drawn, 0) AS drawn,
       COALESCE(r.reversed, 0) AS reversed
FROM ledger_entries e
LEFT JOIN (SELECT credit_entry_id, SUM(amount_pence) AS allocated
           FROM allocations GROUP BY credit_entry_id) a ON a.credit_entry_id = e.id
LEFT JOIN (SELECT source_entry_id, SUM(amount_pence) AS drawn
           FROM ledger_entries WHERE source_entry_id IS NOT NULL
           GROUP BY source_entry_id) d ON d.source_entry_id = e.id
LEFT JOIN (SELECT reverses_entry_id, SUM(amount_pence) AS reversed
           FROM ledger_entries WHERE reverses_entry_id IS NOT NULL
           GROUP BY reverses_entry_id) r ON r.reverses_entry_id = e.id
WHERE (e.kind IN ('payment', 'credit_note', 'write_off')
       OR (e.kind = 'adjustment' AND e.amount_pence < 0))
  AND {scope}
"""

_INVOICE_SQL = """
SELECT i.id, i.number, i.account_id, i.total_pence,
       COALESCE(a.allocated, 0) AS allocated
FROM invoices i
LEFT JOIN (SELECT invoice_id, SUM(amount_pence) AS allocated
           FROM allocations GROUP BY invoice_id) a ON a.invoice_id = i.id
WHERE {scope}
"""


def ledger_discrepancies(account_ids: Iterable[int] | None = None) -> list[str]:
    """Every broken invariant, as a sentence; an empty list means the books reconcile."""
    if account_ids is not None:
        account_ids = list(account_ids)
    problems: list[str] = []

    def run(sql: str, **params) -> list[sa.Row]:
        return db.session.execute(sa.text(sql), params).all()

    invoices = f"({_INVOICE_SQL.format(scope=_scope('i.account_id', account_ids))})"
    credits = f"({_CREDIT_SQL.format(scope=_scope('e.account_id', account_ids))})"

    for row in run(
        f"SELECT number, total_pence, allocated FROM {invoices} inv "
        f"WHERE allocated < 0 OR allocated > total_pence LIMIT {_LIMIT}"
    ):
        problems.append(
            f"invoice {row.number}: allocations {row.allocated}p outside 0..{row.total_pence}p"
        )

    for row in run(
        f"SELECT id, value, allocated, drawn, reversed FROM {credits} c "
        f"WHERE allocated < 0 OR allocated + drawn + reversed > value LIMIT {_LIMIT}"
    ):
        problems.append(
            f"credit entry {row.id}: value {row.value}p but allocated {row.allocated}p, "
            f"drawn {row.drawn}p, reversed {row.reversed}p"
        )

    for row in run(
        f"SELECT id FROM {credits} c WHERE reversed > 0 AND allocated <> 0 LIMIT {_LIMIT}"
    ):
        problems.append(f"credit entry {row.id}: reversed but still allocated")

    for row in run(
        f"""SELECT c.id FROM {credits} c JOIN allocations al ON al.credit_entry_id = c.id
            GROUP BY c.id, al.invoice_id HAVING SUM(al.amount_pence) < 0 LIMIT {_LIMIT}"""
    ):
        problems.append(
            f"credit entry {row.id}: more taken back from an invoice than was allocated"
        )

    # The unallocated payments queue is derived from the ledger and must agree with it.
    for row in run(
        f"""SELECT c.id, CASE WHEN c.value - c.allocated - c.drawn - c.reversed > 0
                              THEN c.value - c.allocated - c.drawn - c.reversed ELSE 0 END
                         AS available,
                   COALESCE(q.unallocated_pence, 0) AS queued
            FROM {credits} c LEFT JOIN unallocated_credits q ON q.credit_entry_id = c.id
            WHERE CASE WHEN c.value - c.allocated - c.drawn - c.reversed > 0
                       THEN c.value - c.allocated - c.drawn - c.reversed ELSE 0 END
                  <> COALESCE(q.unallocated_pence, 0)
            LIMIT {_LIMIT}"""
    ):
        problems.append(
            f"credit entry {row.id}: {row.available}p unallocated but {row.queued}p "
            "in the unallocated payments queue"
        )

    scope_i = _scope("i.account_id", account_ids)
    for row in run(
        f"""SELECT i.number, i.total_pence, COUNT(e.id) AS n,
                   COALESCE(SUM(e.amount_pence), 0) AS amount
            FROM invoices i LEFT JOIN ledger_entries e
              ON e.invoice_id = i.id AND e.kind = 'invoice'
            WHERE {scope_i}
            GROUP BY i.id, i.number, i.total_pence
            HAVING COUNT(e.id) <> 1 OR COALESCE(SUM(e.amount_pence), 0) <> i.total_pence
            LIMIT {_LIMIT}"""
    ):
        problems.append(
            f"invoice {row.number}: {row.n} invoice entries for {row.amount}p, "
            f"total {row.total_pence}p"
        )

    # The balance identity, per account: sum(entries) = sum(outstanding) - unallocated credit.
    scope_a = _scope("acc.id", account_ids)
    for row in run(
        f"""SELECT acc.reference,
                   COALESCE(le.total, 0) AS balance,
                   COALESCE(io.outstanding, 0) AS outstanding,
                   COALESCE(cr.available, 0) AS available
            FROM debtor_accounts acc
            LEFT JOIN (SELECT account_id, SUM(amount_pence) AS total
                       FROM ledger_entries GROUP BY account_id) le ON le.account_id = acc.id
            LEFT JOIN (SELECT account_id, SUM(total_pence - allocated) AS outstanding
                       FROM {invoices} x GROUP BY account_id) io ON io.account_id = acc.id
            LEFT JOIN (SELECT account_id, SUM(value - allocated - drawn - reversed) AS available
                       FROM {credits} y GROUP BY account_id) cr ON cr.account_id = acc.id
            WHERE {scope_a}
              AND COALESCE(le.total, 0) <> COALESCE(io.outstanding, 0) - COALESCE(cr.available, 0)
            LIMIT {_LIMIT}"""
    ):
        problems.append(
            f"account {row.reference}: balance {row.balance}p but invoices owe {row.outstanding}p "
            f"less {row.available}p unallocated credit"
        )

    # Refunds and transfers out must draw on a credit entry of the same account.
    for row in run(
        f"""SELECT e.id FROM ledger_entries e JOIN ledger_entries s ON s.id = e.source_entry_id
            WHERE s.account_id <> e.account_id AND {_scope("e.account_id", account_ids)}
            LIMIT {_LIMIT}"""
    ):
        problems.append(f"entry {row.id}: draws on credit from another account")

    for row in run(
        f"""SELECT al.id FROM allocations al
            JOIN ledger_entries e ON e.id = al.credit_entry_id
            JOIN invoices i ON i.id = al.invoice_id
            WHERE e.account_id <> i.account_id AND {_scope("e.account_id", account_ids)}
            LIMIT {_LIMIT}"""
    ):
        problems.append(f"allocation {row.id}: applies one account's credit to another's invoice")
    return problems
