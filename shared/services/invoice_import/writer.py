"""The import's second pass: the invoices pass 1 checked and assembled, written a
chunk at a time, set-based, inside the import's one transaction.

Why not ledger.raise_invoice an invoice at a time: it is a dozen round trips an
invoice (lock the account, look up the department and the number, the VAT rate of
each line, insert the invoice, each line, the entry, a timeline entry and an audit
row), so 100,000 rows would take many minutes. This writes the same rows in bulk
(shared.services.bank_statements.bulk: COPY on PostgreSQL, a page of INSERTs at a
time elsewhere): the invoice with the finance system's number, its lines with the
VAT rate in force on the issue date as raise_invoice charges it (basis points kept on
each line), and one INVOICE ledger entry of the invoice's total dated its issue date,
created by the actor, exactly as raise_invoice posts it
(tests/integration/test_invoice_import.py holds the two in step).

Accounts are matched on the finance customer id. A customer not known is a new
account (reference from the 'account' sequence, "account.created" audit row); a
known one whose name, address or contact details differ from the file's is updated
(one "account.details_updated" audit row with what changed, before and after). Only
customers with at least one invoice being created are touched: a file imported
again, or a row already in, changes nothing, so an officer's later correction of an
address is not undone by an old file.

The timeline gets one entry per account touched, written at the end:
"Invoice INV1 imported from the finance system for £12.00", or for several
"3 invoices imported from the finance system (£36.00): INV1, INV2, INV3".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from shared import clock
from shared.domain.invoice_import import Invoice
from shared.extensions import db
from shared.models import (
    ActorType,
    Address,
    AuditLog,
    ContactEvent,
    ContactKind,
    DebtorAccount,
    DebtorKind,
    EntryKind,
    InvoiceLine,
    LedgerEntry,
    postcode_key,
)
from shared.models import Invoice as InvoiceRow
from shared.money import format_gbp
from shared.services.actors import Actor
from shared.services.bank_statements import bulk
from shared.services.invoice_import import lookups
from shared.services.invoice_import.progress import Progress
from shared.services.numbering import next_numbers

ACCOUNT_PREFIX = "A"  # as shared.services.debtor_accounts: "A00001234"
CHUNK_INVOICES = 1_000
_NUMBERS_SHOWN = 5
_FIELD_WORDS = {
    "kind": "kind",
    "title": "title",
    "forename": "forename",
    "surname": "surname",
    "organisation_name": "organisation name",
    "company_number": "company number",
    "email": "email",
    "mobile_phone": "mobile",
    "address": "address",
}


@dataclass(slots=True)
class Touched:
    """What happened to one account in this import, for its timeline entry."""

    count: int = 0
    total_pence: int = 0
    numbers: list[str] = field(default_factory=list)
    changed: tuple[str, ...] = ()
    created: bool = False


@dataclass
class Counts:
    invoices_created: int = 0
    accounts_created: int = 0
    accounts_updated: int = 0
    total_pence: int = 0


class Writer:
    def __init__(self, import_id: int, actor: Actor, skip: set[str]) -> None:
        self.import_id = import_id
        self.actor = actor
        self.skip = skip
        self.counts = Counts()
        self.account_of: dict[str, int] = {}  # finance customer id -> account id
        self.touched: dict[int, Touched] = {}
        self._audits: list[dict] = []
        self.now = clock.utcnow()

    # -- the pass --------------------------------------------------------------------

    def write(self, invoices: Iterable[Invoice], progress: Progress) -> Counts:
        """Write the checked invoices (in file order), a chunk at a time."""
        batch: list[Invoice] = []
        for invoice in invoices:
            if invoice.header.invoice_number not in self.skip:
                batch.append(invoice)
                if len(batch) >= CHUNK_INVOICES:
                    self._write(batch)
                    batch = []
            progress.advance(len(invoice.lines))
        self._write(batch)
        self._timeline()
        progress.finish_pass()
        return self.counts

    def _write(self, invoices: list[Invoice]) -> None:
        if not invoices:
            return
        # One stamp a chunk, rather than the models' default called for every row.
        self.now = clock.utcnow()
        self._accounts({i.customer.customer_id: i.customer for i in invoices})
        invoice_ids = bulk.insert(
            InvoiceRow,
            [
                dict(
                    number=i.header.invoice_number,
                    account_id=self.account_of[i.customer.customer_id],
                    department_id=i.header.department_id,
                    issue_date=i.header.issue_date,
                    due_date=i.header.due_date,
                    description=i.header.description,
                    net_pence=i.net_pence,
                    vat_pence=i.vat_pence,
                    total_pence=i.total_pence,
                    raised_by_staff_id=self.actor.staff_id,
                    income_code_id=i.header.income_code_id,
                    purchase_order=i.header.purchase_order,
                    import_id=self.import_id,
                    created_at=self.now,
                )
                for i in invoices
            ],
            returning_ids=True,
        )
        bulk.insert(
            InvoiceLine,
            [
                dict(
                    invoice_id=invoice_id,
                    line_no=n,
                    description=line.description,
                    quantity=line.quantity,
                    unit_price_pence=line.unit_price_pence,
                    net_pence=line.net_pence,
                    vat_rate=line.vat_rate,
                    vat_basis_points=line.vat_basis_points,
                    vat_pence=line.vat_pence,
                )
                for invoice_id, invoice in zip(invoice_ids, invoices, strict=True)
                for n, line in enumerate(invoice.lines, start=1)
            ],
        )
        bulk.insert(
            LedgerEntry,
            [
                dict(
                    account_id=self.account_of[i.customer.customer_id],
                    kind=EntryKind.INVOICE,
                    amount_pence=i.total_pence,
                    invoice_id=invoice_id,
                    effective_date=i.header.issue_date,
                    created_by_staff_id=self.actor.staff_id,
                    created_at=self.now,
                )
                for invoice_id, i in zip(invoice_ids, invoices, strict=True)
            ],
        )
        for i in invoices:
            touched = self.touched.setdefault(self.account_of[i.customer.customer_id], Touched())
            touched.count += 1
            touched.total_pence += i.total_pence
            if len(touched.numbers) < _NUMBERS_SHOWN:
                touched.numbers.append(i.header.invoice_number)
            self.counts.invoices_created += 1
            self.counts.total_pence += i.total_pence
        bulk.insert(AuditLog, self._audits)
        self._audits = []

    # -- accounts --------------------------------------------------------------------

    def _accounts(self, customers: dict) -> None:
        """Every customer of the chunk has an account (found, updated or created)."""
        new_ids = [c for c in customers if c not in self.account_of]
        if not new_ids:
            return
        known = lookups.accounts_by_customer_id(new_ids)
        to_create = [customers[c] for c in new_ids if c not in known]
        updates, address_updates, address_inserts = [], [], []
        for customer_id in new_ids:
            account = known.get(customer_id)
            if account is None:
                continue
            self.account_of[customer_id] = account.account_id
            customer = customers[customer_id]
            wanted = customer.account_fields()
            before = {k: account.fields[k] for k, v in wanted.items() if account.fields[k] != v}
            after = {k: wanted[k] for k in before}
            address = customer.address_fields()
            if account.address != address:
                before["address"] = _words(account.address) if account.address else None
                after["address"] = _words(address)
                row = address | {"postcode_key": postcode_key(address["postcode"])}
                if account.address_id is None:
                    address_inserts.append(
                        row | {"account_id": account.account_id, "created_at": self.now}
                    )
                else:
                    address_updates.append(row | {"b_id": account.address_id})
            if not before:
                continue
            account_changes = {k: v for k, v in after.items() if k != "address"}
            if account_changes:
                updates.append(
                    account_changes | {"b_id": account.account_id, "updated_at": clock.utcnow()}
                )
            self.touched.setdefault(account.account_id, Touched()).changed = tuple(before)
            self.counts.accounts_updated += 1
            self._audit(
                "account.details_updated",
                account.account_id,
                before=before,
                after=after | {"via": "finance system import", "import_id": self.import_id},
            )
        self._update(DebtorAccount, updates)
        self._update(Address, address_updates)
        bulk.insert(Address, address_inserts)
        self._create(to_create)

    def _update(self, model, rows: list[dict]) -> None:
        # One executemany per set of columns changed (the statement names its columns).
        by_columns: dict[tuple, list[dict]] = {}
        for row in rows:
            by_columns.setdefault(tuple(sorted(row)), []).append(row)
        table = model.__table__
        for columns, group in by_columns.items():
            statement = (
                table.update()
                .where(table.c.id == sa.bindparam("b_id"))
                .values({c: sa.bindparam(c) for c in columns if c != "b_id"})
            )
            db.session.execute(statement, [_plain(row) for row in group])

    def _create(self, customers: list) -> None:
        if not customers:
            return
        references = next_numbers(
            "account", ACCOUNT_PREFIX, DebtorAccount.reference, len(customers)
        )
        account_ids = bulk.insert(
            DebtorAccount,
            [
                c.account_fields()
                | {
                    "kind": DebtorKind(c.kind),
                    "reference": reference,
                    "finance_customer_id": c.customer_id,
                    "created_at": self.now,
                    "updated_at": self.now,
                }
                for c, reference in zip(customers, references, strict=True)
            ],
            returning_ids=True,
        )
        bulk.insert(
            Address,
            [
                c.address_fields()
                | {
                    "account_id": account_id,
                    "postcode_key": postcode_key(c.postcode),
                    "is_primary": True,
                    "created_at": self.now,
                }
                for c, account_id in zip(customers, account_ids, strict=True)
            ],
        )
        for c, account_id, reference in zip(customers, account_ids, references, strict=True):
            self.account_of[c.customer_id] = account_id
            self.touched.setdefault(account_id, Touched()).created = True
            self._audit(
                "account.created",
                account_id,
                after=c.account_fields()
                | {
                    "reference": reference,
                    "finance_customer_id": c.customer_id,
                    "address": _words(c.address_fields()),
                    "via": "finance system import",
                    "import_id": self.import_id,
                },
            )
        self.counts.accounts_created += len(customers)

    def _audit(self, action: str, account_id: int, *, before=None, after=None) -> None:
        self._audits.append(
            dict(
                actor_type=self.actor.type,
                actor_id=self.actor.id,
                action=action,
                object_type="debtor_account",
                object_id=str(account_id),
                account_id=account_id,
                before=before,
                after=after,
                source_ip=self.actor.source_ip,
                occurred_at=self.now,
            )
        )

    # -- the timeline ----------------------------------------------------------------

    def _timeline(self) -> None:
        kind = ContactKind.SYSTEM if self.actor.type == ActorType.SYSTEM else ContactKind.NOTE
        now = clock.utcnow()
        rows = []
        for account_id, touched in self.touched.items():
            if touched.count == 1:
                summary = (
                    f"Invoice {touched.numbers[0]} imported from the finance system for "
                    f"{format_gbp(touched.total_pence)}"
                )
            else:
                more = touched.count - len(touched.numbers)
                summary = (
                    f"{touched.count} invoices imported from the finance system "
                    f"({format_gbp(touched.total_pence)}): {', '.join(touched.numbers)}"
                    + (f" and {more} more" if more else "")
                )
            detail = None
            if touched.created:
                detail = "Account created from the finance system's customer record"
            elif touched.changed:
                words = ", ".join(_FIELD_WORDS[name] for name in touched.changed)
                detail = f"Details updated from the finance system: {words}"
            rows.append(
                dict(
                    account_id=account_id,
                    kind=kind,
                    summary=summary[:300],
                    detail=detail,
                    staff_id=self.actor.staff_id,
                    portal_user_id=None,
                    occurred_at=now,
                    created_at=now,
                )
            )
        for chunk in lookups.chunks(rows):
            bulk.insert(ContactEvent, chunk)


def _words(address: dict) -> str:
    return ", ".join(
        address[k] for k in ("line1", "line2", "town", "county", "postcode") if address.get(k)
    )


def _plain(row: dict) -> dict:
    return {k: (v.value if isinstance(v, DebtorKind) else v) for k, v in row.items()}
