"""Bacs Direct Debit instructions (mandates) and the collections made under them."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.extensions import db
from shared.models.base import created_at_column, enum_type


class MandateStatus(enum.StrEnum):
    PENDING_SUBMISSION = "pending_submission"  # signed up, 0N not yet sent
    SUBMITTED = "submitted"  # 0N in a Bacs file, awaiting AUDDIS
    ACTIVE = "active"
    CANCELLED = "cancelled"
    FAILED = "failed"  # rejected by AUDDIS


class Mandate(db.Model):
    __tablename__ = "mandates"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    # DDI reference: 6-18 characters, unique per service user number.
    reference: Mapped[str] = mapped_column(sa.String(18), unique=True)
    account_holder_name: Mapped[str] = mapped_column(sa.String(18))
    sort_code: Mapped[str] = mapped_column(sa.String(6))
    account_number: Mapped[str] = mapped_column(sa.String(8))
    status: Mapped[MandateStatus] = mapped_column(enum_type(MandateStatus, "mandate_status"))
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    activated_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    cancellation_reason: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = created_at_column()

    collections: Mapped[list[Collection]] = relationship(back_populates="mandate")

    __table_args__ = (
        sa.CheckConstraint("length(sort_code) = 6", name="sort_code_six_digits"),
        sa.CheckConstraint("length(account_number) = 8", name="account_number_eight_digits"),
    )


class CollectionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    SUBMITTED = "submitted"  # in a Bacs file
    COLLECTED = "collected"  # entry day passed with no return: payment on the ledger
    RETURNED = "returned"  # ARUDD: reversed on the ledger
    CANCELLED = "cancelled"


class Collection(db.Model):
    __tablename__ = "dd_collections"

    id: Mapped[int] = mapped_column(primary_key=True)
    mandate_id: Mapped[int] = mapped_column(sa.ForeignKey("mandates.id"), index=True)
    instalment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("instalments.id"))
    amount_pence: Mapped[int]
    # Bacs transaction code: 01 first, 17 regular, 18 re-presentation, 19 final.
    transaction_code: Mapped[str] = mapped_column(sa.String(2))
    collection_date: Mapped[date] = mapped_column(sa.Date, index=True)
    status: Mapped[CollectionStatus] = mapped_column(
        enum_type(CollectionStatus, "collection_status")
    )
    payment_entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime] = created_at_column()

    mandate: Mapped[Mandate] = relationship(back_populates="collections")

    __table_args__ = (
        sa.CheckConstraint("amount_pence > 0", name="amount_positive"),
        sa.CheckConstraint(
            "transaction_code IN ('01', '17', '18', '19')", name="transaction_code_known"
        ),
    )
