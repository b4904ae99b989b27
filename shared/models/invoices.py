"""Sundry invoices raised by service departments, with their lines and VAT."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.domain.vat import VatRate
from shared.extensions import db
from shared.models.base import created_at_column, enum_type


class RecoveryStage(enum.StrEnum):
    """Where an invoice is on the recovery ladder (dunning)."""

    NONE = "none"
    REMINDER = "reminder"
    FINAL_DEMAND = "final_demand"
    PRE_ACTION = "pre_action"
    REFERRED_LEGAL = "referred_legal"
    REFERRED_ENFORCEMENT = "referred_enforcement"


class IncomeCode(db.Model):
    """Where a department's income is booked in the general ledger: the codes an
    administrator keeps per department, chosen on each invoice, summed by the journal."""

    __tablename__ = "income_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("service_departments.id"))
    code: Mapped[str] = mapped_column(sa.String(20))
    description: Mapped[str] = mapped_column(sa.String(120))
    cost_centre: Mapped[str] = mapped_column(sa.String(20))
    ledger_code: Mapped[str] = mapped_column(sa.String(20))
    # Retired codes stay (old invoices name them) but cannot be chosen for new ones.
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = created_at_column()

    department = relationship("ServiceDepartment")

    __table_args__ = (sa.UniqueConstraint("department_id", "code"),)


class VatRatePeriod(db.Model):
    """A VAT rate from a date: the rate in force on an invoice's tax point (its issue
    date) is the latest period of that rate starting on or before it."""

    __tablename__ = "vat_rate_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    rate: Mapped[VatRate] = mapped_column(enum_type(VatRate, "vat_rate"))
    valid_from: Mapped[date] = mapped_column(sa.Date)
    basis_points: Mapped[int]  # 2000 is 20%
    created_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        sa.UniqueConstraint("rate", "valid_from"),
        sa.CheckConstraint("basis_points BETWEEN 0 AND 10000", name="basis_points_in_range"),
    )


class DocumentSequence(db.Model):
    """The next number of a numbered document (invoices, credit notes), taken under
    a row lock so two officers issuing at once never get the same number."""

    __tablename__ = "document_sequences"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    next_value: Mapped[int]


class Invoice(db.Model):
    """An invoice is immutable once raised: corrections are credit notes on the ledger."""

    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"))
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("service_departments.id"), index=True)
    issue_date: Mapped[date] = mapped_column(sa.Date)
    due_date: Mapped[date] = mapped_column(sa.Date)
    description: Mapped[str] = mapped_column(sa.String(300))
    net_pence: Mapped[int]
    vat_pence: Mapped[int]
    total_pence: Mapped[int]
    recovery_stage: Mapped[RecoveryStage] = mapped_column(
        enum_type(RecoveryStage, "recovery_stage"), default=RecoveryStage.NONE
    )
    recovery_stage_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    raised_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    # Where the income is booked (the GL journal sums by it); none on invoices from
    # before income codes existed.
    income_code_id: Mapped[int | None] = mapped_column(sa.ForeignKey("income_codes.id"), index=True)
    # An organisation's purchase-order number, printed on the invoice.
    purchase_order: Mapped[str | None] = mapped_column(sa.String(40))
    # The finance-system import that brought it in (none when raised here).
    import_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoice_imports.id"))
    # A Late Payment Act charge is posted as an invoice of its own, naming the debt it
    # was charged on (shared/models/legal.py LatePaymentCharge); never charged on itself.
    charge_on_invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"))
    created_at: Mapped[datetime] = created_at_column()

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.line_no", cascade="all, delete-orphan"
    )
    account = relationship("DebtorAccount")
    department = relationship("ServiceDepartment")
    income_code = relationship("IncomeCode")

    __table_args__ = (
        sa.CheckConstraint("total_pence = net_pence + vat_pence", name="total_is_net_plus_vat"),
        sa.CheckConstraint("total_pence > 0", name="total_positive"),
        sa.CheckConstraint("vat_pence >= 0", name="vat_not_negative"),
        sa.CheckConstraint("due_date >= issue_date", name="due_not_before_issue"),
        # The account page lists invoices by due date; dunning walks them the same way.
        sa.Index("ix_invoices_account_due", "account_id", "due_date"),
    )


class InvoiceLine(db.Model):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id"), index=True)
    line_no: Mapped[int]
    description: Mapped[str] = mapped_column(sa.String(300))
    quantity: Mapped[int]
    unit_price_pence: Mapped[int]
    net_pence: Mapped[int]
    vat_rate: Mapped[VatRate] = mapped_column(enum_type(VatRate, "vat_rate"))
    # The rate in force on the tax point, as charged (2000 is 20%).
    vat_basis_points: Mapped[int | None]
    vat_pence: Mapped[int]

    invoice: Mapped[Invoice] = relationship(back_populates="lines")

    __table_args__ = (
        sa.UniqueConstraint("invoice_id", "line_no"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price_pence >= 0", name="unit_price_not_negative"),
        sa.CheckConstraint(
            "net_pence = quantity * unit_price_pence", name="net_is_quantity_times_price"
        ),
        sa.CheckConstraint("vat_pence >= 0", name="vat_not_negative"),
    )
