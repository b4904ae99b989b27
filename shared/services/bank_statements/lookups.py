"""What matching needs from the database, read in bulk for a whole statement.

Set-based on purpose: a statement of 20,000 lines is matched with a handful of
queries (every invoice number and account reference once, the open invoices of the
statement's amounts once, the accounts concerned once), never a query per line.
Lists of keys go to the database in chunks, which both SQLite (at most 32,766 bound
values a statement) and PostgreSQL take comfortably.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import sqlalchemy as sa

from shared.domain.bank_statements.matching import AccountFacts, PayeeName
from shared.domain.bank_statements.references import ReferenceIndex
from shared.extensions import db
from shared.models import Allocation, BankStatementLine, DebtorAccount, Invoice

CHUNK = 5_000


def chunks(values: Iterable, size: int = CHUNK) -> Iterator[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def known_line_references(bank_account: str, references: Sequence[str]) -> set[str]:
    """Which of these bank line references are already stored for this bank account."""
    known: set[str] = set()
    for chunk in chunks(references):
        known.update(
            db.session.scalars(
                sa.select(BankStatementLine.line_reference).where(
                    BankStatementLine.bank_account == bank_account,
                    BankStatementLine.line_reference.in_(chunk),
                )
            )
        )
    return known


def reference_index() -> ReferenceIndex:
    """Every invoice number and account reference: two narrow reads of whole tables."""
    # Through the driver's own cursor: a million rows as plain tuples, read in a third
    # of the time SQLAlchemy's rows take (bench/bench_bank_statement_import.py).
    cursor = db.session.connection().connection.dbapi_connection.cursor()
    try:
        cursor.execute("SELECT number, id, account_id FROM invoices")
        invoices = cursor.fetchall()
        cursor.execute("SELECT reference, id FROM debtor_accounts")
        accounts = cursor.fetchall()
    finally:
        cursor.close()
    return ReferenceIndex(invoices, accounts)


def outstanding_query():
    """(invoice id, account id, owed) for invoices, and the `owed` column to filter on.

    What an invoice owes is read per invoice through the allocations' invoice_id index
    (a correlated sum, as balances.open_items does), so a query narrowed to some
    accounts or invoices reads only their allocations."""
    allocated = (
        sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0))
        .where(Allocation.invoice_id == Invoice.id)
        .correlate(Invoice)
        .scalar_subquery()
    )
    owed = (Invoice.total_pence - allocated).label("owed")
    return sa.select(Invoice.id, Invoice.account_id, owed), owed


def invoices_owing_exactly(amounts: Iterable[int]) -> dict[int, list[tuple[int, int]]]:
    """amount -> [(invoice id, account id)] for each open invoice owing exactly it,
    oldest due first.

    Every invoice's balance is needed here, so the allocations are summed once for
    all of them (a hash aggregate), not per invoice as outstanding_query does."""
    allocated = (
        sa.select(Allocation.invoice_id, sa.func.sum(Allocation.amount_pence).label("s"))
        .group_by(Allocation.invoice_id)
        .subquery()
    )
    owed = (Invoice.total_pence - sa.func.coalesce(allocated.c.s, 0)).label("owed")
    query = sa.select(Invoice.id, Invoice.account_id, owed).outerjoin(
        allocated, allocated.c.invoice_id == Invoice.id
    )
    found: dict[int, list[tuple[int, int]]] = {}
    for chunk in chunks(sorted(set(amounts))):
        rows = db.session.execute(
            query.where(owed.in_(chunk)).order_by(Invoice.due_date, Invoice.id)
        )
        for invoice_id, account_id, pence in rows:
            found.setdefault(int(pence), []).append((invoice_id, account_id))
    return found


def account_names(account_ids: Iterable[int]) -> dict[int, AccountFacts]:
    """Each account's name alone (no open invoices): all the amount rule needs."""
    found: dict[int, AccountFacts] = {}
    for chunk in chunks(sorted(set(account_ids))):
        rows = db.session.execute(
            sa.select(
                DebtorAccount.id,
                DebtorAccount.forename,
                DebtorAccount.surname,
                DebtorAccount.organisation_name,
            ).where(DebtorAccount.id.in_(chunk))
        ).tuples()
        for account_id, forename, surname, organisation in rows:
            name = PayeeName(forename or "", surname or "", organisation or "")
            found[account_id] = AccountFacts(account_id=account_id, name=name)
    return found


def account_facts(account_ids: Iterable[int]) -> dict[int, AccountFacts]:
    """Each account's name and what each of its open invoices owes."""
    ids = sorted(set(account_ids))
    owing: dict[int, dict[int, int]] = {i: {} for i in ids}
    names: dict[int, PayeeName] = {}
    query, owed = outstanding_query()
    for chunk in chunks(ids):
        for invoice_id, account_id, pence in db.session.execute(
            query.where(Invoice.account_id.in_(chunk), owed > 0).order_by(
                Invoice.due_date, Invoice.id
            )
        ):
            owing[account_id][invoice_id] = int(pence)
        for account_id, forename, surname, organisation in db.session.execute(
            sa.select(
                DebtorAccount.id,
                DebtorAccount.forename,
                DebtorAccount.surname,
                DebtorAccount.organisation_name,
            ).where(DebtorAccount.id.in_(chunk))
        ):
            names[account_id] = PayeeName(forename or "", surname or "", organisation or "")
    return {
        i: AccountFacts(account_id=i, name=names[i], open_invoices=owing[i])
        for i in ids
        if i in names
    }


def owed_by_invoice(invoice_ids: Iterable[int]) -> dict[int, int]:
    """What each of these invoices still owes (0 or less: paid)."""
    query, _owed = outstanding_query()
    found: dict[int, int] = {}
    for chunk in chunks(sorted(set(invoice_ids))):
        rows = db.session.execute(query.where(Invoice.id.in_(chunk)))
        found.update((invoice_id, int(pence)) for invoice_id, _account, pence in rows)
    return found
