"""Finding a bill to pay without an account: by invoice number or account reference plus postcode.

Read-only. An unknown reference and a wrong postcode both come back as None,
so nobody can learn which references exist by trying them. A bill found that
is already paid is told with what paid it (a receipt), but never the debtor's
name or address: the look-up proved a reference and a postcode, nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from shared.extensions import db
from shared.models import (
    Allocation,
    CardCheckout,
    DebtorAccount,
    EntryKind,
    Invoice,
    LedgerEntry,
    PaymentMethod,
    postcode_key,
)
from shared.services import balances

_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class BillFound:
    account_id: int
    invoice_ids: list[int]
    # Found by the account's reference (not one invoice's number): the account's
    # paid bills may be shown too.
    whole_account: bool = False


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
        open_ids = [item.invoice_id for item in balances.open_items(account.id)]
        return BillFound(account.id, open_ids, whole_account=True)
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


# --- bills with nothing left to pay, and their receipts ------------------------------------

PAID, CREDITED, CLOSED = "paid", "credited", "closed"
# What the payer reads for each way a bill was paid (account_view words the same).
_HOW_PAID = {
    PaymentMethod.CARD: "Card (online)",
    PaymentMethod.TELEPHONE_CARD: "Card (by phone)",
    PaymentMethod.DIRECT_DEBIT: "Direct Debit",
    PaymentMethod.BANK_TRANSFER: "Bank transfer",
    PaymentMethod.CHEQUE: "Cheque",
    PaymentMethod.CASH: "Cash",
}
# Money the debtor paid (credit moved from another of their accounts is theirs too).
_MONEY = (EntryKind.PAYMENT, EntryKind.ADJUSTMENT)
# An account look-up shows the bills settled this recently, at most this many.
RECENT_DAYS = 365
RECENT_LIMIT = 10


@dataclass(frozen=True)
class ReceiptLine:
    """What went towards a bill: one payment or credit, as much of it as the bill took."""

    date: date
    how: str
    # Our card payment reference (CP-...), the one on the card receipt email; other
    # payments' references come from banks and payers, and are not shown here.
    reference: str | None
    amount_pence: int
    money: bool  # paid by the debtor, not a credit note or write-off


@dataclass(frozen=True)
class SettledBill:
    """A bill with nothing left to pay, and what settled it."""

    invoice_id: int
    number: str
    description: str
    total_pence: int
    # PAID: money paid it (perhaps with a credit note); CREDITED: credit notes only;
    # CLOSED: anything else (written off), told as "nothing to pay" and no more.
    status: str
    settled_on: date | None  # the day the last of it was paid or credited
    lines: list[ReceiptLine]

    @property
    def paid_pence(self) -> int:
        return sum(line.amount_pence for line in self.lines if line.money)

    @property
    def has_receipt(self) -> bool:
        return self.status == PAID


_SETTLING = (
    sa.select(
        Allocation.invoice_id,
        Allocation.credit_entry_id,
        sa.func.sum(Allocation.amount_pence).label("amount"),
    )
    .where(Allocation.invoice_id.in_(sa.bindparam("invoice_ids", expanding=True)))
    .group_by(Allocation.invoice_id, Allocation.credit_entry_id)
    .subquery()
)
_SETTLED_LINES = (
    sa.select(
        _SETTLING.c.invoice_id,
        _SETTLING.c.amount,
        LedgerEntry.id,
        LedgerEntry.kind,
        LedgerEntry.method,
        LedgerEntry.effective_date,
        CardCheckout.reference.label("checkout_reference"),
    )
    .join(LedgerEntry, LedgerEntry.id == _SETTLING.c.credit_entry_id)
    # On the indexed account id, narrowed to the entry's own checkout.
    .outerjoin(
        CardCheckout,
        sa.and_(
            CardCheckout.account_id == LedgerEntry.account_id,
            CardCheckout.payment_entry_id == LedgerEntry.id,
        ),
    )
    # Net of any taken back: a reversed payment no longer paid anything.
    .where(_SETTLING.c.amount > 0)
    .order_by(LedgerEntry.effective_date, LedgerEntry.id)
)


def _line(row) -> ReceiptLine:
    kind = EntryKind(row.kind)
    if kind == EntryKind.PAYMENT:
        how = _HOW_PAID.get(PaymentMethod(row.method), "Payment") if row.method else "Payment"
    elif kind == EntryKind.CREDIT_NOTE:
        how = "Credit note"
    elif kind == EntryKind.ADJUSTMENT:
        how = "Credit from another account"
    else:
        how = "Written off"
    return ReceiptLine(
        row.effective_date, how, row.checkout_reference, int(row.amount), kind in _MONEY
    )


def _status(kinds: set[EntryKind]) -> str:
    if EntryKind.WRITE_OFF in kinds or not kinds:
        return CLOSED
    if kinds & set(_MONEY):
        return PAID
    return CREDITED


def settled_bills(
    account_id: int, invoice_ids: Sequence[int] | None, today: date
) -> list[SettledBill]:
    """The bills among `invoice_ids` of the account with nothing left to pay, with what
    settled each; None: the account's bills settled in the last RECENT_DAYS (newest
    first, at most RECENT_LIMIT). Two statements."""
    query = sa.select(Invoice.id, Invoice.number, Invoice.description, Invoice.total_pence).where(
        Invoice.account_id == account_id
    )
    if invoice_ids is not None:
        query = query.where(Invoice.id.in_([int(i) for i in invoice_ids]))
    invoices = db.session.execute(query.order_by(Invoice.due_date, Invoice.id)).all()
    if not invoices:
        return []
    lines: dict[int, list[tuple[EntryKind, ReceiptLine]]] = {inv.id: [] for inv in invoices}
    for row in db.session.execute(_SETTLED_LINES, {"invoice_ids": list(lines)}):
        lines[row.invoice_id].append((EntryKind(row.kind), _line(row)))
    bills = []
    for inv in invoices:
        applied = lines[inv.id]
        if int(inv.total_pence) - sum(line.amount_pence for _, line in applied) > 0:
            continue  # still something to pay
        bills.append(
            SettledBill(
                invoice_id=inv.id,
                number=inv.number,
                description=inv.description,
                total_pence=int(inv.total_pence),
                status=_status({kind for kind, _ in applied}),
                settled_on=max((line.date for _, line in applied), default=None),
                lines=[line for _, line in applied],
            )
        )
    if invoice_ids is None:
        since = today - timedelta(days=RECENT_DAYS)
        recent = [b for b in bills if b.settled_on is not None and b.settled_on >= since]
        recent.sort(key=lambda b: (b.settled_on, b.invoice_id), reverse=True)
        return recent[:RECENT_LIMIT]
    return bills


def invoice_id_of(account_id: int, number: str) -> int | None:
    """The id of the account's invoice with this number, or None."""
    return db.session.scalar(
        sa.select(Invoice.id).where(
            Invoice.account_id == account_id, Invoice.number == normalise_reference(number)
        )
    )
