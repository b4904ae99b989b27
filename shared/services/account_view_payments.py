"""The payments a signed-in debtor's account page lists: the last twelve months, newest
first, and how many older ones only the full statement has.

An account paying weekly for years has hundreds of payments; the page shows the
year a person checks ("did last month's go in?") and says how many more there are,
so its cost does not grow with the account's age.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from shared.models import (
    CardCheckout,
    DebtorAccount,
    EntryKind,
    LedgerEntry,
    PaymentMethod,
)
from shared.services import reads

METHOD_WORDS = {
    PaymentMethod.CARD: "Card (online)",
    PaymentMethod.TELEPHONE_CARD: "Card (by phone)",
    PaymentMethod.DIRECT_DEBIT: "Direct Debit",
    PaymentMethod.BANK_TRANSFER: "Bank transfer",
    PaymentMethod.CHEQUE: "Cheque",
    PaymentMethod.CASH: "Cash",
}


@dataclass(frozen=True)
class PaymentRow:
    entry_id: int
    date: date
    method: str
    amount_pence: int
    reference: str
    reversed: bool


def shown_since(today: date) -> date:
    """The first day the page lists payments from: twelve months back, today excluded
    a year ago (29 February falls back to the 28th)."""
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:
        year_ago = today.replace(year=today.year - 1, day=28)
    return date.fromordinal(year_ago.toordinal() + 1)


_ACCOUNT_ID = sa.bindparam("account_id")
_SINCE = sa.bindparam("since")
_REVERSAL = sa.orm.aliased(LedgerEntry, name="reversal")

_PAYMENTS = (
    sa.select(
        LedgerEntry.id,
        LedgerEntry.effective_date,
        LedgerEntry.method,
        LedgerEntry.amount_pence,
        LedgerEntry.external_reference,
        CardCheckout.reference.label("checkout_reference"),
        _REVERSAL.id.label("reversal_id"),
    )
    # Both joins are on indexed columns (card_checkouts.account_id and the
    # unique reverses_entry_id), narrowed to this account's entries.
    .outerjoin(
        CardCheckout,
        sa.and_(
            CardCheckout.account_id == _ACCOUNT_ID,
            CardCheckout.payment_entry_id == LedgerEntry.id,
        ),
    )
    .outerjoin(_REVERSAL, _REVERSAL.reverses_entry_id == LedgerEntry.id)
    .where(
        LedgerEntry.account_id == _ACCOUNT_ID,
        LedgerEntry.kind == EntryKind.PAYMENT,
        LedgerEntry.effective_date >= _SINCE,
    )
    .order_by(LedgerEntry.effective_date.desc(), LedgerEntry.id.desc())
)


def older_payments_count():
    """How many of the account's payments are older than the page shows: a column for
    the page's head statement (correlated to the account, `since` bound)."""
    older = sa.orm.aliased(LedgerEntry, name="older_payment")
    return (
        sa.select(sa.func.count())
        .where(
            older.account_id == DebtorAccount.id,
            older.kind == EntryKind.PAYMENT,
            older.effective_date < _SINCE,
        )
        .correlate(DebtorAccount)
        .scalar_subquery()
    )


def method_words(method) -> str:
    return METHOD_WORDS.get(PaymentMethod(method), str(method)) if method else ""


def recent_payments(account_id: int, since: date) -> list[PaymentRow]:
    """The account's payments on or after `since`, newest first (one statement)."""
    rows = reads.rows(_PAYMENTS, {"account_id": account_id, "since": since}).all()
    return [
        PaymentRow(
            entry_id=r.id,
            date=r.effective_date,
            method=method_words(r.method),
            amount_pence=-int(r.amount_pence),
            # Our card reference (CP-...) is the one on the payer's receipt.
            reference=r.checkout_reference or r.external_reference or f"P{r.id}",
            reversed=r.reversal_id is not None,
        )
        for r in rows
    ]
