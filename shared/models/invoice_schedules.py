"""Periodic invoices: a schedule on an account that the daily job turns into invoices.

A schedule's lines are what each invoice charges; they are fixed once made (a change
is a cancellation and a new schedule, which both show on the timeline), so the
database refuses UPDATE and DELETE on them. Each invoice raised is one run row,
UNIQUE per (schedule, period date): that constraint, not the job's care, is what
makes "once per period" true when the job runs twice or two runs overlap. Runs are
append-only too. The schedule row itself changes (status, the next period date).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.domain.vat import VatRate
from shared.extensions import db
from shared.models.base import created_at_column, enum_type


class InvoiceFrequency(enum.StrEnum):
    """How often a schedule raises an invoice (shared.domain.periodic's strings)."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class ScheduleStatus(enum.StrEnum):
    ACTIVE = "active"  # the daily job raises its invoices as they fall due
    ENDED = "ended"  # its count or end date was reached: nothing more to raise
    CANCELLED = "cancelled"  # an officer (or the job, for a death) stopped it early


SCHEDULE_TRANSITIONS: dict[ScheduleStatus, frozenset[ScheduleStatus]] = {
    ScheduleStatus.ACTIVE: frozenset({ScheduleStatus.ENDED, ScheduleStatus.CANCELLED}),
    ScheduleStatus.ENDED: frozenset(),
    ScheduleStatus.CANCELLED: frozenset(),
}


class InvoiceSchedule(db.Model):
    __tablename__ = "invoice_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("service_departments.id"))
    income_code_id: Mapped[int | None] = mapped_column(sa.ForeignKey("income_codes.id"))
    description: Mapped[str] = mapped_column(sa.String(300))
    purchase_order: Mapped[str | None] = mapped_column(sa.String(40))
    frequency: Mapped[InvoiceFrequency] = mapped_column(
        enum_type(InvoiceFrequency, "invoice_frequency")
    )
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date | None] = mapped_column(sa.Date)
    occurrences: Mapped[int | None]
    status: Mapped[ScheduleStatus] = mapped_column(
        enum_type(ScheduleStatus, "invoice_schedule_status"), default=ScheduleStatus.ACTIVE
    )
    # The day of the next invoice to raise (None once the schedule is over): what the
    # daily job selects on, with the index below, instead of working every schedule out.
    next_period_date: Mapped[date | None] = mapped_column(sa.Date)
    raised_count: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = created_at_column()
    ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    # None with a cancelled_at: the daily job cancelled it (the account holder died).
    cancelled_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)

    lines: Mapped[list[InvoiceScheduleLine]] = relationship(
        back_populates="schedule", order_by="InvoiceScheduleLine.line_no"
    )

    __table_args__ = (
        sa.CheckConstraint(
            "end_date IS NULL OR occurrences IS NULL", name="end_date_or_count_not_both"
        ),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
        sa.CheckConstraint("occurrences IS NULL OR occurrences > 0", name="occurrences_positive"),
        sa.CheckConstraint("raised_count >= 0", name="raised_count_not_negative"),
        sa.CheckConstraint(
            "(status = 'active') = (next_period_date IS NOT NULL)",
            name="only_active_has_next_period",
        ),
        sa.CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)", name="cancelled_has_time"
        ),
        sa.Index("ix_invoice_schedules_status_next", "status", "next_period_date"),
    )


class InvoiceScheduleLine(db.Model):
    """One line of every invoice the schedule raises."""

    __tablename__ = "invoice_schedule_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(sa.ForeignKey("invoice_schedules.id"))
    line_no: Mapped[int]
    description: Mapped[str] = mapped_column(sa.String(300))
    quantity: Mapped[int]
    unit_price_pence: Mapped[int]
    vat_rate: Mapped[VatRate] = mapped_column(enum_type(VatRate, "vat_rate"))

    schedule: Mapped[InvoiceSchedule] = relationship(back_populates="lines")

    __table_args__ = (
        sa.UniqueConstraint("schedule_id", "line_no"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price_pence >= 0", name="unit_price_not_negative"),
    )


class InvoiceScheduleRun(db.Model):
    """One period of a schedule, raised: the invoice it became."""

    __tablename__ = "invoice_schedule_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(sa.ForeignKey("invoice_schedules.id"))
    sequence: Mapped[int]  # the schedule's nth invoice, from 1
    period_date: Mapped[date] = mapped_column(sa.Date)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id"), unique=True)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        sa.UniqueConstraint("schedule_id", "period_date", name="uq_invoice_schedule_run_period"),
        sa.UniqueConstraint("schedule_id", "sequence", name="uq_invoice_schedule_run_sequence"),
        sa.CheckConstraint("sequence > 0", name="sequence_positive"),
    )
