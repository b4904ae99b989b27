"""Instalment arrangements and their schedules."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.extensions import db
from shared.models.base import created_at_column, enum_type, utcnow


class ArrangementStatus(enum.StrEnum):
    PROPOSED = "proposed"
    COUNTER_OFFERED = "counter_offered"
    ACTIVE = "active"
    COMPLETED = "completed"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class Frequency(enum.StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    FOUR_WEEKLY = "four_weekly"
    MONTHLY = "monthly"


class PaymentRoute(enum.StrEnum):
    DIRECT_DEBIT = "direct_debit"
    CARD = "card"


class Arrangement(db.Model):
    __tablename__ = "arrangements"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    status: Mapped[ArrangementStatus] = mapped_column(
        enum_type(ArrangementStatus, "arrangement_status"), index=True
    )
    frequency: Mapped[Frequency] = mapped_column(enum_type(Frequency, "frequency"))
    total_pence: Mapped[int]
    start_date: Mapped[date] = mapped_column(sa.Date)
    payment_route: Mapped[PaymentRoute] = mapped_column(enum_type(PaymentRoute, "payment_route"))
    proposed_by_portal_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("portal_users.id"))
    created_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    decided_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(), default=utcnow, onupdate=utcnow)

    instalments: Mapped[list[Instalment]] = relationship(
        back_populates="arrangement", order_by="Instalment.sequence"
    )
    debts: Mapped[list[ArrangementDebt]] = relationship(back_populates="arrangement")

    __table_args__ = (sa.CheckConstraint("total_pence > 0", name="total_positive"),)


class ArrangementDebt(db.Model):
    """An invoice covered by an arrangement (recovery pauses for it while active)."""

    __tablename__ = "arrangement_debts"

    arrangement_id: Mapped[int] = mapped_column(sa.ForeignKey("arrangements.id"), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invoices.id"), primary_key=True, index=True
    )
    amount_pence: Mapped[int]

    arrangement: Mapped[Arrangement] = relationship(back_populates="debts")

    __table_args__ = (sa.CheckConstraint("amount_pence > 0", name="amount_positive"),)


class Instalment(db.Model):
    __tablename__ = "instalments"

    id: Mapped[int] = mapped_column(primary_key=True)
    arrangement_id: Mapped[int] = mapped_column(sa.ForeignKey("arrangements.id"))
    sequence: Mapped[int]
    due_date: Mapped[date] = mapped_column(sa.Date, index=True)
    amount_pence: Mapped[int]

    arrangement: Mapped[Arrangement] = relationship(back_populates="instalments")

    __table_args__ = (
        sa.UniqueConstraint("arrangement_id", "sequence"),
        sa.CheckConstraint("amount_pence > 0", name="amount_positive"),
    )
