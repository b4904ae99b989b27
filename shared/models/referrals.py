"""Referrals of debts to an enforcement agent or to legal, kept so the pack sent with
one can be downloaded again exactly as it was."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.extensions import db
from shared.models.base import created_at_column, enum_type
from shared.models.invoices import RecoveryStage


class ReferralDestination(enum.StrEnum):
    ENFORCEMENT_AGENT = "enforcement_agent"
    LEGAL = "legal"


class EnforcementReferral(db.Model):
    __tablename__ = "enforcement_referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    destination: Mapped[ReferralDestination] = mapped_column(
        enum_type(ReferralDestination, "referral_destination")
    )
    amount_pence: Mapped[int]  # what was outstanding on the referred invoices
    referred_on: Mapped[date] = mapped_column(sa.Date)
    note: Mapped[str] = mapped_column(sa.Text)
    referred_by: Mapped[int] = mapped_column(sa.ForeignKey("staff_users.id"))
    # The timeline entry recording it: the pack's contact history ends there.
    contact_event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contact_events.id"))
    # The CSV row as sent (shared.domain.referrals.PACK_COLUMNS), so a later download
    # shows the name, address and amounts the agent was given, not today's.
    pack_row: Mapped[dict] = mapped_column(sa.JSON)
    # Made when the form is shown: the same form posted twice is one referral.
    submission_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()

    invoices: Mapped[list[EnforcementReferralInvoice]] = relationship(
        back_populates="referral", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.CheckConstraint("amount_pence > 0", name="amount_positive"),)


class EnforcementReferralInvoice(db.Model):
    """One invoice in a referral, with what it owed and the stage it was at before."""

    __tablename__ = "referral_invoices"

    referral_id: Mapped[int] = mapped_column(
        sa.ForeignKey("enforcement_referrals.id"), primary_key=True
    )
    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invoices.id"), primary_key=True, index=True
    )
    amount_pence: Mapped[int]
    stage_before: Mapped[RecoveryStage] = mapped_column(
        enum_type(RecoveryStage, "referral_stage_before")
    )

    referral: Mapped[EnforcementReferral] = relationship(back_populates="invoices")

    __table_args__ = (sa.CheckConstraint("amount_pence > 0", name="amount_positive"),)
