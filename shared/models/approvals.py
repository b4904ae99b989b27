"""Refund, write-off and credit-note requests: those over a delegated limit (and every
refund) wait for a second person; those within it are posted at once and recorded
here too, so a limit can cap an officer's running total on an account."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shared.extensions import db
from shared.models.base import created_at_column, enum_type


class ApprovalKind(enum.StrEnum):
    REFUND = "refund"
    WRITE_OFF = "write_off"
    ARRANGEMENT = "arrangement"
    CREDIT_NOTE = "credit_note"


class ApprovalStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ApprovalRequest(db.Model):
    __tablename__ = "approval_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    kind: Mapped[ApprovalKind] = mapped_column(enum_type(ApprovalKind, "approval_kind"))
    amount_pence: Mapped[int]
    reason_code: Mapped[str] = mapped_column(sa.String(40))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    payload: Mapped[dict | None] = mapped_column(sa.JSON)
    status: Mapped[ApprovalStatus] = mapped_column(
        enum_type(ApprovalStatus, "approval_status"), default=ApprovalStatus.PENDING
    )
    requested_by_staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_users.id"))
    requested_at: Mapped[datetime] = created_at_column()
    decided_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
    # The ledger entry the request posted (at once within the limit, or on approval):
    # who asked for and who approved a credit note are found from its entry.
    ledger_entry_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ledger_entries.id"), unique=True
    )

    __table_args__ = (
        sa.CheckConstraint("amount_pence > 0", name="amount_positive"),
        # Nobody approves their own request, whatever the application does.
        sa.CheckConstraint(
            "decided_by_staff_id IS NULL OR decided_by_staff_id <> requested_by_staff_id",
            name="not_self_approved",
        ),
        sa.Index("ix_approval_requests_status_requested", "status", "requested_at"),
        # One officer's running total of one kind on one account over the limit period.
        sa.Index(
            "ix_approval_requests_running_total",
            "requested_by_staff_id",
            "account_id",
            "kind",
            "requested_at",
        ),
    )
