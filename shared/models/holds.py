"""Holds: an officer pauses recovery on an account (or one invoice) for a reason."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shared.extensions import db
from shared.models.accounts import BreathingSpaceType
from shared.models.base import created_at_column, enum_type


class HoldKind(enum.StrEnum):
    DISPUTE = "dispute"
    QUERY = "query"
    PROMISE_TO_PAY = "promise_to_pay"
    VULNERABILITY_REVIEW = "vulnerability_review"
    BREATHING_SPACE = "breathing_space"
    DECEASED = "deceased"


class AccountHold(db.Model):
    __tablename__ = "account_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    # None: every debt on the account; otherwise just this invoice.
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"))
    kind: Mapped[HoldKind] = mapped_column(enum_type(HoldKind, "hold_kind"))
    reason: Mapped[str] = mapped_column(sa.Text)
    starts_on: Mapped[date] = mapped_column(sa.Date)
    # None: until lifted (a mental-health crisis Breathing Space, a death).
    expires_on: Mapped[date | None] = mapped_column(sa.Date)
    promise_date: Mapped[date | None] = mapped_column(sa.Date)
    promise_amount_pence: Mapped[int | None]
    breathing_space_type: Mapped[BreathingSpaceType | None] = mapped_column(
        enum_type(BreathingSpaceType, "hold_breathing_space_type")
    )
    breathing_space_reference: Mapped[str | None] = mapped_column(sa.String(40))
    # A mental health crisis space has no end until the treatment ends; the space then
    # ends (expires_on) on the date the Insolvency Service notifies, 30 days later.
    crisis_treatment_ended_on: Mapped[date | None] = mapped_column(sa.Date)
    # Deceased holds: the date of death and who deals with the estate (optional).
    date_of_death: Mapped[date | None] = mapped_column(sa.Date)
    representative_name: Mapped[str | None] = mapped_column(sa.String(200))
    representative_capacity: Mapped[str | None] = mapped_column(sa.String(80))
    representative_address: Mapped[str | None] = mapped_column(sa.Text)
    representative_phone: Mapped[str | None] = mapped_column(sa.String(20))
    representative_email: Mapped[str | None] = mapped_column(sa.String(254))
    placed_by: Mapped[int] = mapped_column(sa.ForeignKey("staff_users.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    lifted_by: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    lift_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        sa.CheckConstraint(
            "promise_amount_pence IS NULL OR promise_amount_pence > 0",
            name="promise_amount_positive",
        ),
        sa.CheckConstraint(
            "expires_on IS NULL OR expires_on >= starts_on", name="expires_after_start"
        ),
    )
