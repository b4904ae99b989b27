"""Finding a bill to pay without an account: by invoice number or account reference plus postcode.

Read-only. An unknown reference and a wrong postcode both come back as None,
so nobody can learn which references exist by trying them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from shared.extensions import db
from shared.models import CardCheckout, DebtorAccount, Invoice, postcode_key
from shared.services import balances

_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class BillFound:
    account_id: int
    invoice_ids: list[int]


@dataclass(frozen=True)
class BillItem:
    """One invoice as the payer sees it: nothing about the debtor themselves."""

    invoice_id: int
    number: str
    description: str
    due_date: date
    outstanding_pence: int


def normalise_reference(text: str) -> str:
    """The form references are compared in: upper case, no spaces ("inv 123" -> "INV123")."""
    return _WHITESPACE.sub("", text or "").upper()


def find_bill(reference: str, postcode: str) -> BillFound | None:
    """The invoice (or an account's open invoices) for a reference, if the postcode matches."""
    key = normalise_reference(reference)
    if not key:
        return None
    # Exact matches, so the unique indexes answer at 1M invoices: numbers and
    # references are stored normalised (raise_invoice and the generators do so).
    invoice = db.session.scalar(sa.select(Invoice).where(Invoice.number == key))
    if invoice is not None:
        account = db.session.get(DebtorAccount, invoice.account_id)
        invoice_ids = [invoice.id]
    else:
        account = db.session.scalar(sa.select(DebtorAccount).where(DebtorAccount.reference == key))
        invoice_ids = None
    if account is None or not _postcode_matches(account, postcode):
        return None
    if invoice_ids is None:
        invoice_ids = [item.invoice_id for item in balances.open_items(account.id)]
    return BillFound(account.id, invoice_ids)


def _postcode_matches(account: DebtorAccount, postcode: str) -> bool:
    address = account.primary_address
    wanted = postcode_key(postcode)
    return address is not None and bool(wanted) and address.postcode_key == wanted


def bill_items(account_id: int, invoice_ids: Sequence[int]) -> list[BillItem]:
    """What is still outstanding on these invoices of the account, oldest due first."""
    wanted = set(invoice_ids)
    open_items = [i for i in balances.open_items(account_id) if i.invoice_id in wanted]
    if not open_items:
        return []
    invoices = {
        inv.id: inv
        for inv in db.session.scalars(
            sa.select(Invoice).where(Invoice.id.in_([i.invoice_id for i in open_items]))
        )
    }
    return [
        BillItem(
            invoice_id=item.invoice_id,
            number=invoices[item.invoice_id].number,
            description=invoices[item.invoice_id].description,
            due_date=invoices[item.invoice_id].due_date,
            outstanding_pence=item.outstanding_pence,
        )
        for item in open_items
    ]


def checkout_by_reference(reference: str) -> CardCheckout | None:
    """The card checkout with this reference (CP-...), for its return page."""
    return db.session.scalar(sa.select(CardCheckout).where(CardCheckout.reference == reference))
