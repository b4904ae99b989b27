"""The account ledger: append-only entries and the allocations that settle invoices.

Sign convention: a positive amount increases what the debtor owes (invoice,
refund paid out, reversal of a payment); a negative amount reduces it
(payment, credit note, write-off). An account's balance is the sum of its
entries. Nothing here is ever updated or deleted: on PostgreSQL and SQLite
triggers (see the initial migration) refuse it, and mistakes are put right
with reversing entries.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.extensions import db
from shared.models.base import created_at_column, enum_type


class EntryKind(enum.StrEnum):
    INVOICE = "invoice"  # debit: an invoice raised
    PAYMENT = "payment"  # credit: money received
    CREDIT_NOTE = "credit_note"  # credit: an invoice reduced or cancelled
    REFUND = "refund"  # debit: unallocated credit paid back to the payer
    WRITE_OFF = "write_off"  # credit: debt no longer pursued
    REVERSAL = "reversal"  # debit: a credit undone (returned debit, chargeback)
    ADJUSTMENT = "adjustment"  # either: credit moved in or out of the account


# Entries whose value can settle invoices (allocations are drawn from them).
CREDIT_KINDS = frozenset({EntryKind.PAYMENT, EntryKind.CREDIT_NOTE, EntryKind.WRITE_OFF})


class PaymentMethod(enum.StrEnum):
    CARD = "card"  # online, via Stripe Checkout
    TELEPHONE_CARD = "telephone_card"  # taken by an officer on the council terminal
    DIRECT_DEBIT = "direct_debit"
    BANK_TRANSFER = "bank_transfer"
    CHEQUE = "cheque"
    CASH = "cash"


# The kinds of the write-off schedule, as its partial index's predicate (the query
# must name them the same way for the index to be used).
WRITE_OFF_KINDS_SQL = "kind IN ('write_off', 'credit_note', 'refund')"


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"))
    kind: Mapped[EntryKind] = mapped_column(enum_type(EntryKind, "entry_kind"))
    amount_pence: Mapped[int]
    # The invoice an invoice / credit note / write-off entry belongs to.
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"), index=True)
    # A refund or outgoing adjustment draws on this credit entry's unallocated value.
    source_entry_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ledger_entries.id"), index=True
    )
    # A reversal undoes exactly one entry, once.
    reverses_entry_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ledger_entries.id"), unique=True
    )
    method: Mapped[PaymentMethod | None] = mapped_column(enum_type(PaymentMethod, "payment_method"))
    # Provider or bank reference: the same payment reported twice is one payment.
    external_reference: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    reason: Mapped[str | None] = mapped_column(sa.String(300))
    effective_date: Mapped[date] = mapped_column(sa.Date)
    created_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = created_at_column()

    allocations: Mapped[list[Allocation]] = relationship(
        back_populates="credit_entry", foreign_keys="Allocation.credit_entry_id"
    )

    __table_args__ = (
        sa.CheckConstraint(
            "(kind IN ('invoice', 'refund', 'reversal') AND amount_pence > 0) OR "
            "(kind IN ('payment', 'credit_note', 'write_off') AND amount_pence < 0) OR "
            "(kind = 'adjustment' AND amount_pence <> 0)",
            name="amount_sign_matches_kind",
        ),
        sa.CheckConstraint(
            "kind NOT IN ('invoice', 'credit_note', 'write_off') OR invoice_id IS NOT NULL",
            name="invoice_entries_name_invoice",
        ),
        sa.CheckConstraint("kind <> 'payment' OR method IS NOT NULL", name="payment_has_method"),
        sa.CheckConstraint(
            "kind <> 'reversal' OR reverses_entry_id IS NOT NULL", name="reversal_names_entry"
        ),
        # Balance and statement queries read an account's entries in order.
        sa.Index("ix_ledger_entries_account_id_id", "account_id", "id"),
        # Reports read the ledger by effective date: the aged debt as at a past date
        # (invoices and post-dated credits effective after it), the dashboard's month
        # and week sums. Wide, so those read the index alone, never the table.
        sa.Index(
            "ix_ledger_entries_effective_date",
            "effective_date",
            "kind",
            "created_at",
            "id",
            "invoice_id",
            "amount_pence",
        ),
        # The write-off schedule reads a period's write-offs, credit notes and refunds
        # (a few in a million entries) without scanning the ledger.
        sa.Index(
            "ix_ledger_entries_write_off_kinds_effective_date",
            "effective_date",
            sqlite_where=sa.text(WRITE_OFF_KINDS_SQL),
            postgresql_where=sa.text(WRITE_OFF_KINDS_SQL),
        ),
    )


class Allocation(db.Model):
    """Part of a credit entry's value applied to an invoice.

    A negative allocation takes back an earlier one (when its credit is
    reversed, or an officer re-allocates); rows are never edited.
    """

    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_entry_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_entries.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id"), index=True)
    amount_pence: Mapped[int]
    # Set on a negative allocation made because its credit was reversed.
    reversal_entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_entries.id"))
    created_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = created_at_column()

    credit_entry: Mapped[LedgerEntry] = relationship(
        back_populates="allocations", foreign_keys=[credit_entry_id]
    )

    __table_args__ = (sa.CheckConstraint("amount_pence <> 0", name="amount_not_zero"),)
