"""Instalment arrangements, their schedules, the policy that decides them, and the
income and expenditure statements that support them.

Lifecycle: proposed -> (counter_offered) -> active -> completed | broken | cancelled.
The money is on the ledger; an instalment's paid_pence is the monitor's reading of
the allocations to the plan's debts (a schedule status, not a financial record).
"""

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


# Plans still in play: waiting on an officer or the debtor, or being paid. An invoice
# in one of these cannot go in another plan.
LIVE_ARRANGEMENT_STATUSES = (
    ArrangementStatus.PROPOSED,
    ArrangementStatus.COUNTER_OFFERED,
    ArrangementStatus.ACTIVE,
)


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
    # The terms as asked: an instalment amount or a number of instalments (one is set).
    instalment_pence: Mapped[int | None]
    instalment_count: Mapped[int | None]
    ie_statement_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("income_expenditure_statements.id")
    )
    # What policy said, and every rule it checked, as shown to the officer:
    # [{"department": ..., "rule": ..., "passed": bool, "explanation": ...}, ...]
    policy_outcome: Mapped[str | None] = mapped_column(sa.String(10))
    policy_rules: Mapped[list | None] = mapped_column(sa.JSON)
    # Above the configured total a team leader must decide.
    needs_team_leader: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The debtor's own terms, kept when an officer counter-offers different ones.
    original_terms: Mapped[dict | None] = mapped_column(sa.JSON)
    counter_offered_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    counter_offered_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    activated_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    end_reason: Mapped[str | None] = mapped_column(sa.Text)
    # A broken plan waits on the officers' queue until someone has looked at it.
    broken_reviewed_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    broken_reviewed_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(), default=utcnow, onupdate=utcnow)

    instalments: Mapped[list[Instalment]] = relationship(
        back_populates="arrangement", order_by="Instalment.sequence"
    )
    debts: Mapped[list[ArrangementDebt]] = relationship(back_populates="arrangement")

    __table_args__ = (
        sa.CheckConstraint("total_pence > 0", name="total_positive"),
        sa.CheckConstraint(
            "instalment_pence IS NULL OR instalment_pence > 0", name="instalment_positive"
        ),
        sa.CheckConstraint(
            "instalment_count IS NULL OR instalment_count > 0", name="count_positive"
        ),
        # The decision queue (oldest first) and the monitor (active plans) read by status.
        sa.Index("ix_arrangements_status_created_at", "status", "created_at"),
    )


class ArrangementDebt(db.Model):
    """An invoice covered by an arrangement (recovery pauses for it while active)."""

    __tablename__ = "arrangement_debts"

    arrangement_id: Mapped[int] = mapped_column(sa.ForeignKey("arrangements.id"), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invoices.id"), primary_key=True, index=True
    )
    amount_pence: Mapped[int]
    # The invoice's recovery stage when the plan began: a broken plan returns it there.
    stage_at_start: Mapped[str | None] = mapped_column(sa.String(30))

    arrangement: Mapped[Arrangement] = relationship(back_populates="debts")

    __table_args__ = (sa.CheckConstraint("amount_pence > 0", name="amount_positive"),)


class Instalment(db.Model):
    __tablename__ = "instalments"

    id: Mapped[int] = mapped_column(primary_key=True)
    arrangement_id: Mapped[int] = mapped_column(sa.ForeignKey("arrangements.id"))
    sequence: Mapped[int]
    due_date: Mapped[date] = mapped_column(sa.Date, index=True)
    amount_pence: Mapped[int]
    # The monitor's reading of the ledger: money paid towards this instalment
    # (earliest first), the day it became fully paid, and the missed-payment
    # reminder sent for it (once).
    paid_pence: Mapped[int] = mapped_column(default=0, server_default="0")
    paid_on: Mapped[date | None] = mapped_column(sa.Date)
    missed_on: Mapped[date | None] = mapped_column(sa.Date)
    reminded_at: Mapped[datetime | None] = mapped_column(sa.DateTime())

    arrangement: Mapped[Arrangement] = relationship(back_populates="instalments")

    __table_args__ = (
        sa.UniqueConstraint("arrangement_id", "sequence"),
        sa.CheckConstraint("amount_pence > 0", name="amount_positive"),
        sa.CheckConstraint(
            "paid_pence >= 0 AND paid_pence <= amount_pence", name="paid_within_amount"
        ),
    )


class PlanPolicy(db.Model):
    """One service department's rules for instalment plans, edited by an admin.

    Policy approves automatically or refers to an officer; it never refuses.
    """

    __tablename__ = "plan_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("service_departments.id"), unique=True)
    max_length_months: Mapped[int]
    min_instalment_pence: Mapped[int]
    max_auto_approve_pence: Mapped[int]
    no_broken_plan_within_months: Mapped[int]
    refer_if_legal: Mapped[bool] = mapped_column(default=True)
    income_expenditure_above_pence: Mapped[int]
    # Plans above this total are decided by a team leader, not an officer.
    team_leader_above_pence: Mapped[int]
    updated_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("max_length_months > 0", name="length_positive"),
        sa.CheckConstraint("min_instalment_pence > 0", name="min_instalment_positive"),
        sa.CheckConstraint("max_auto_approve_pence >= 0", name="auto_approve_not_negative"),
        sa.CheckConstraint("no_broken_plan_within_months >= 0", name="broken_months_not_negative"),
        sa.CheckConstraint("income_expenditure_above_pence >= 0", name="ie_not_negative"),
        sa.CheckConstraint("team_leader_above_pence >= 0", name="team_leader_not_negative"),
    )


class IncomeExpenditureStatement(db.Model):
    """An income and expenditure statement laid out like the Standard Financial
    Statement (shared/domain/income_expenditure.py). A draft until submitted, so
    the debtor can save and return later."""

    __tablename__ = "income_expenditure_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    portal_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("portal_users.id"))
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    # {field key: monthly pence}; totals and disposable income are worked out from
    # these by shared/domain/income_expenditure.Statement, never stored beside them.
    items: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(), default=utcnow, onupdate=utcnow)
