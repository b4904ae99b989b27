"""Credit-note documents: the numbered note a debtor is sent, naming the invoice and
the lines it credits with their VAT. The money is the ledger's CREDIT_NOTE entry the
note posted (one document per entry); these rows say what it credited, line by line.
Both tables are financial records, append-only: a note given in error is undone by
reversing its ledger entry, never by editing or deleting the note."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.extensions import db
from shared.models.base import created_at_column


class CreditNote(db.Model):
    __tablename__ = "credit_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "CN" and eight digits, from the credit_note document sequence.
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    ledger_entry_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_entries.id"), unique=True)
    net_pence: Mapped[int]
    vat_pence: Mapped[int]
    total_pence: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.Text)
    # What was left to pay on the invoice once the note was applied, as the note says.
    invoice_outstanding_pence: Mapped[int]
    created_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = created_at_column()

    lines: Mapped[list[CreditNoteLine]] = relationship(
        back_populates="credit_note", order_by="CreditNoteLine.id"
    )
    invoice = relationship("Invoice")

    __table_args__ = (
        sa.CheckConstraint("total_pence = net_pence + vat_pence", name="total_is_net_plus_vat"),
        sa.CheckConstraint("total_pence > 0", name="total_positive"),
        sa.CheckConstraint("net_pence >= 0 AND vat_pence >= 0", name="parts_not_negative"),
        sa.CheckConstraint("invoice_outstanding_pence >= 0", name="outstanding_not_negative"),
    )


class CreditNoteLine(db.Model):
    """What one credit note took off one invoice line: net, and the VAT credited at
    the rate the line was charged."""

    __tablename__ = "credit_note_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_note_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_notes.id"))
    # What has been credited off a line is summed by it for every new credit note.
    invoice_line_id: Mapped[int] = mapped_column(sa.ForeignKey("invoice_lines.id"), index=True)
    net_pence: Mapped[int]
    vat_pence: Mapped[int]

    credit_note: Mapped[CreditNote] = relationship(back_populates="lines")

    __table_args__ = (
        sa.UniqueConstraint("credit_note_id", "invoice_line_id"),
        sa.CheckConstraint("net_pence >= 0 AND vat_pence >= 0", name="parts_not_negative"),
        sa.CheckConstraint("net_pence + vat_pence > 0", name="credits_something"),
    )
