"""The unallocated payments work queue: one row per credit with money not yet applied.

Not a financial record. The ledger (entries and allocations) says what a
credit's unallocated amount is; this table only remembers which credits have
some, so the back office can list them oldest first without summing the
allocations of every payment ever taken. Rows are inserted, updated and
deleted as the ledger changes (shared/services/unallocated.py keeps it in
step), and the reconciliation report checks it against the ledger.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shared.extensions import db
from shared.models.base import utcnow


class UnallocatedCredit(db.Model):
    __tablename__ = "unallocated_credits"

    credit_entry_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ledger_entries.id"), primary_key=True, autoincrement=False
    )
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    unallocated_pence: Mapped[int]
    # When the money arrived (the credit's effective date): the queue's age and order.
    since: Mapped[date] = mapped_column(sa.Date)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("unallocated_pence > 0", name="unallocated_positive"),
        # The queue page reads this index in order and stops after a page.
        sa.Index("ix_unallocated_credits_since_credit_entry_id", "since", "credit_entry_id"),
    )
