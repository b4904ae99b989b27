"""Hand-recorded payments waiting for a second person (or the bank statement) to
confirm the money arrived (rules: shared.domain.manual_payments)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shared.extensions import db
from shared.models.base import created_at_column, enum_type


class VerificationStatus(enum.StrEnum):
    UNVERIFIED = "unverified"  # recorded by an officer; its credit cannot be paid out
    VERIFIED = "verified"  # confirmed by another officer or a bank statement line


class VerifiedVia(enum.StrEnum):
    OFFICER = "officer"
    BANK_STATEMENT = "bank_statement"


class PaymentVerification(db.Model):
    """One hand-recorded payment that left credit on the account.

    Moves once, unverified -> verified, by a conditional update; the payment
    (an append-only ledger entry) itself never changes.
    """

    __tablename__ = "payment_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    ledger_entry_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_entries.id"), unique=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    recorded_by_staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_users.id"))
    status: Mapped[VerificationStatus] = mapped_column(
        enum_type(VerificationStatus, "verification_status"),
        default=VerificationStatus.UNVERIFIED,
    )
    verified_via: Mapped[VerifiedVia | None] = mapped_column(enum_type(VerifiedVia, "verified_via"))
    verified_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    # The bank statement line that confirmed it, when it was the statement.
    statement_reference: Mapped[str | None] = mapped_column(sa.String(100))
    verified_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        # Nobody verifies their own payment, whatever the application does.
        sa.CheckConstraint(
            "verified_by_staff_id IS NULL OR verified_by_staff_id <> recorded_by_staff_id",
            name="not_self_verified",
        ),
        sa.CheckConstraint(
            "status = 'unverified' OR (verified_at IS NOT NULL AND verified_via IS NOT NULL)",
            name="verified_says_how",
        ),
        # The queue: unverified payments, oldest first.
        sa.Index("ix_payment_verifications_status_created", "status", "created_at"),
    )
