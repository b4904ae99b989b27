"""Requests that need a second person: refunds and write-offs over a delegated limit."""

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

    __table_args__ = (
        sa.CheckConstraint("amount_pence > 0", name="amount_positive"),
        # Nobody approves their own request, whatever the application does.
        sa.CheckConstraint(
            "decided_by_staff_id IS NULL OR decided_by_staff_id <> requested_by_staff_id",
            name="not_self_approved",
        ),
        sa.Index("ix_approval_requests_status_requested", "status", "requested_at"),
    )
