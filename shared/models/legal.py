"""Late Payment Act charges, the pre-action Letter of Claim, County Court judgments
and acknowledgements of a debt (which restart the limitation period)."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shared.extensions import db
from shared.models.base import created_at_column, enum_type


class BaseRatePeriod(db.Model):
    """The Bank of England base rate from a date (editable, dated). Late Payment Act
    interest for a half year uses the rate in force on 31 December (January to
    June) or 30 June (July to December)."""

    __tablename__ = "base_rate_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_from: Mapped[date] = mapped_column(sa.Date, unique=True)
    basis_points: Mapped[int]  # 525 is 5.25%
    created_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        sa.CheckConstraint("basis_points BETWEEN 0 AND 10000", name="basis_points_in_range"),
    )


class ChargeKind(enum.StrEnum):
    COMPENSATION = "compensation"  # fixed sum: 40 / 70 / 100 pounds by debt size
    INTEREST = "interest"  # statutory interest, base rate + 8%, simple, daily


class LatePaymentCharge(db.Model):
    """A Late Payment Act charge on a commercial invoice. It is posted as an invoice of
    its own (charge_invoice_id: its ledger entry carries the reason), so balances,
    allocation, statements and aged debt treat it like any debt and reconcile."""

    __tablename__ = "late_payment_charges"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id"), index=True)
    charge_invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id"), unique=True)
    kind: Mapped[ChargeKind] = mapped_column(enum_type(ChargeKind, "late_payment_charge_kind"))
    amount_pence: Mapped[int]
    # Interest: the days charged (inclusive) and the base rate used.
    interest_from: Mapped[date | None] = mapped_column(sa.Date)
    interest_to: Mapped[date | None] = mapped_column(sa.Date)
    base_rate_basis_points: Mapped[int | None]
    # Compensation: "lpa-comp-{invoice}"; interest: "lpa-int-{invoice}-{to}". The same
    # charge posted twice is refused.
    dedupe_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    created_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (sa.CheckConstraint("amount_pence > 0", name="amount_positive"),)


class LetterOfClaim(db.Model):
    """A Letter of Claim under the Pre-Action Protocol for Debt Claims: the debtor has
    30 days from when it is posted to reply before the debt may go to legal. A
    reply form received pauses the ladder until an officer resumes it."""

    __tablename__ = "letters_of_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    outbox_message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_messages.id"))
    amount_pence: Mapped[int]
    written_on: Mapped[date] = mapped_column(sa.Date)
    # Set when the print batch carrying it is released; respond_by counts from it.
    posted_on: Mapped[date | None] = mapped_column(sa.Date)
    respond_by: Mapped[date | None] = mapped_column(sa.Date)
    reply_received_on: Mapped[date | None] = mapped_column(sa.Date)
    reply_contact_event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contact_events.id"))
    # The officer has dealt with the reply: the ladder may go on.
    reply_resolved_on: Mapped[date | None] = mapped_column(sa.Date)
    resolved_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = created_at_column()


class CourtJudgment(db.Model):
    """A County Court judgment for a debt: required before a sundry debt can go to
    enforcement agents."""

    __tablename__ = "court_judgments"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    court: Mapped[str] = mapped_column(sa.String(120))
    claim_number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    judgment_date: Mapped[date] = mapped_column(sa.Date)
    amount_pence: Mapped[int]
    recorded_by_staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_users.id"))
    contact_event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contact_events.id"))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (sa.CheckConstraint("amount_pence > 0", name="amount_positive"),)


class CourtJudgmentInvoice(db.Model):
    __tablename__ = "court_judgment_invoices"

    judgment_id: Mapped[int] = mapped_column(sa.ForeignKey("court_judgments.id"), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invoices.id"), primary_key=True, index=True
    )


class DebtAcknowledgement(db.Model):
    """A written acknowledgement of a debt (Limitation Act 1980 s.29-30): it restarts
    the six years after which the debt is statute-barred. Part payments restart it
    too, and are read from the ledger."""

    __tablename__ = "debt_acknowledgements"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    # None: every debt on the account.
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"))
    acknowledged_on: Mapped[date] = mapped_column(sa.Date)
    note: Mapped[str] = mapped_column(sa.Text)
    recorded_by_staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = created_at_column()
