"""Invoices being raised by officers and service departments, before they are issued.

A draft is work in progress, not a financial record: its lines are added and removed,
its status moves along the allowed transitions (shared/domain/invoice_checks.py) and
every change is in the audit log. The financial record is the Invoice and its ledger
entry, written when the draft is issued (invoice_id then names it). So neither table
is append-only.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.domain.invoice_checks import DraftStatus
from shared.domain.vat import VatRate
from shared.extensions import db
from shared.models.base import created_at_column, enum_type, utcnow


class InvoiceDraft(db.Model):
    __tablename__ = "invoice_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("service_departments.id"))
    income_code_id: Mapped[int] = mapped_column(sa.ForeignKey("income_codes.id"))
    # What the debtor reads at the top of the invoice.
    description: Mapped[str] = mapped_column(sa.String(300))
    purchase_order: Mapped[str | None] = mapped_column(sa.String(40))
    # None: the issue date plus the department's payment terms, worked out on issue.
    due_date: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[DraftStatus] = mapped_column(
        enum_type(DraftStatus, "invoice_draft_status"), default=DraftStatus.DRAFT
    )
    raised_by_staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    checked_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    checked_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    # Why a checker sent it back; kept when it is sent for checking again.
    return_note: Mapped[str | None] = mapped_column(sa.String(1000))
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"), unique=True)
    # Every change adds one; a form carries the version it was drawn from, so a change
    # made meanwhile (or a second click) is refused instead of overwritten.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(), default=utcnow)

    lines: Mapped[list[InvoiceDraftLine]] = relationship(
        back_populates="draft", order_by="InvoiceDraftLine.line_no", cascade="all, delete-orphan"
    )

    __table_args__ = (
        # Nobody checks their own invoice: in the schema as well as the service.
        sa.CheckConstraint(
            "checked_by_staff_id IS NULL OR checked_by_staff_id <> raised_by_staff_id",
            name="checked_by_someone_else",
        ),
        sa.CheckConstraint(
            "(status = 'issued') = (invoice_id IS NOT NULL)", name="issued_names_its_invoice"
        ),
        sa.CheckConstraint(
            "status <> 'returned' OR return_note IS NOT NULL", name="returned_with_a_note"
        ),
        sa.CheckConstraint(
            "status <> 'awaiting_check' OR submitted_at IS NOT NULL",
            name="awaiting_check_was_submitted",
        ),
        # The checking queue, oldest first; and each raiser's own drafts.
        sa.Index("ix_invoice_drafts_status_submitted", "status", "submitted_at"),
        sa.Index("ix_invoice_drafts_raised_by_status", "raised_by_staff_id", "status"),
    )


class InvoiceDraftLine(db.Model):
    __tablename__ = "invoice_draft_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(sa.ForeignKey("invoice_drafts.id"))
    line_no: Mapped[int]
    description: Mapped[str] = mapped_column(sa.String(300))
    quantity: Mapped[int]
    unit_price_pence: Mapped[int]
    vat_rate: Mapped[VatRate] = mapped_column(enum_type(VatRate, "vat_rate"))

    draft: Mapped[InvoiceDraft] = relationship(back_populates="lines")

    __table_args__ = (
        sa.UniqueConstraint("draft_id", "line_no"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price_pence >= 0", name="unit_price_not_negative"),
    )
