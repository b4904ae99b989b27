"""Bank statements imported, their lines, and what became of each line.

All four tables are financial records and append-only (triggers refuse UPDATE and
DELETE, shared.models.APPEND_ONLY_TABLES): an import's summary is written once,
with the figures it was decided on; a line's outcome is what the import decided;
an officer's later decision on a suggested or unmatched line is a new row in
bank_line_resolutions, at most one per line, which is also what makes a double
click post once.

A line is one bank transaction, unique on (bank account, the bank's line
reference): the same line in an overlapping statement, or in the same file sent
twice, is not stored again, and so is never a payment twice.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.domain.bank_statements.matching import LineOutcome, Rule
from shared.domain.bank_statements.model import Direction, StatementFormat
from shared.extensions import db
from shared.models.base import created_at_column, enum_type


class ResolutionAction(enum.StrEnum):
    POSTED = "posted"  # an officer chose the account (and invoice): posted as a payment
    NOT_OURS = "not_ours"  # an officer says the money is not the council's debt: not posted
    # The account the officer chose had this transfer recorded by hand already: the line
    # is linked to that payment (ledger_entry_id), not posted again.
    LINKED = "linked"


class BankStatementImport(db.Model):
    """One statement file imported, with its matching summary.

    Figures reconcile to the statement, and the CHECKs below hold it to that:
    opening + credits - debits = closing; credits = matched + suggested +
    unmatched + settlements + already known + recorded by hand; debits = the debit
    lines."""

    __tablename__ = "bank_statement_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The same file twice is one import (the second is refused before anything else).
    file_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    file_name: Mapped[str | None] = mapped_column(sa.String(200))
    format: Mapped[StatementFormat] = mapped_column(
        enum_type(StatementFormat, "bank_statement_format")
    )
    bank_account: Mapped[str] = mapped_column(sa.String(40))
    statement_id: Mapped[str] = mapped_column(sa.String(80))
    from_date: Mapped[date] = mapped_column(sa.Date)
    to_date: Mapped[date] = mapped_column(sa.Date)
    # Balances and totals of a council's income account pass 2**31 pence (£21m).
    opening_balance_pence: Mapped[int] = mapped_column(sa.BigInteger)
    closing_balance_pence: Mapped[int] = mapped_column(sa.BigInteger)
    line_count: Mapped[int]
    credits_pence: Mapped[int] = mapped_column(sa.BigInteger)
    debits_pence: Mapped[int] = mapped_column(sa.BigInteger)
    matched_count: Mapped[int]
    matched_pence: Mapped[int] = mapped_column(sa.BigInteger)
    suggested_count: Mapped[int]
    suggested_pence: Mapped[int] = mapped_column(sa.BigInteger)
    unmatched_count: Mapped[int]
    unmatched_pence: Mapped[int] = mapped_column(sa.BigInteger)
    settlement_count: Mapped[int]
    settlement_pence: Mapped[int] = mapped_column(sa.BigInteger)
    already_known_count: Mapped[int]
    already_known_pence: Mapped[int] = mapped_column(sa.BigInteger)
    recorded_by_hand_count: Mapped[int]
    recorded_by_hand_pence: Mapped[int] = mapped_column(sa.BigInteger)
    debit_count: Mapped[int]
    # None when imported from the command line.
    imported_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    imported_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        sa.CheckConstraint(
            "opening_balance_pence + credits_pence - debits_pence = closing_balance_pence",
            name="balances_reconcile",
        ),
        sa.CheckConstraint(
            "credits_pence = matched_pence + suggested_pence + unmatched_pence "
            "+ settlement_pence + already_known_pence + recorded_by_hand_pence",
            name="credits_reconcile",
        ),
        sa.CheckConstraint(
            "line_count = matched_count + suggested_count + unmatched_count "
            "+ settlement_count + already_known_count + recorded_by_hand_count + debit_count",
            name="lines_reconcile",
        ),
        sa.CheckConstraint("from_date <= to_date", name="period_in_order"),
        # The imports page lists the newest first.
        sa.Index("ix_bank_statement_imports_imported_at", "imported_at"),
    )


class BankStatementLine(db.Model):
    """One bank transaction, as first imported, and what the import did with it."""

    __tablename__ = "bank_statement_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(sa.ForeignKey("bank_statement_imports.id"), index=True)
    bank_account: Mapped[str] = mapped_column(sa.String(40))
    line_reference: Mapped[str] = mapped_column(sa.String(64))
    booking_date: Mapped[date] = mapped_column(sa.Date)
    amount_pence: Mapped[int]
    direction: Mapped[Direction] = mapped_column(enum_type(Direction, "bank_line_direction"))
    remittance: Mapped[str] = mapped_column(sa.String(500))
    payer_name: Mapped[str] = mapped_column(sa.String(140))
    transaction_code: Mapped[str] = mapped_column(sa.String(40))
    outcome: Mapped[LineOutcome] = mapped_column(enum_type(LineOutcome, "bank_line_outcome"))
    rule: Mapped[Rule] = mapped_column(enum_type(Rule, "bank_line_rule"))
    # Matched: the account (and invoice, when one was named) it was posted to.
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("debtor_accounts.id"))
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"))
    # The payment it became; for a line recorded by hand, the officer's payment it is
    # (unique: a hand-recorded payment is claimed by one line).
    ledger_entry_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ledger_entries.id"), unique=True
    )
    created_at: Mapped[datetime] = created_at_column()

    candidates: Mapped[list[BankLineCandidate]] = relationship(
        order_by="BankLineCandidate.rank", viewonly=True
    )

    __table_args__ = (
        # A bank line is a payment once, however many statements or files carry it.
        sa.UniqueConstraint("bank_account", "line_reference", name="uq_bank_line_per_account"),
        sa.CheckConstraint("amount_pence > 0", name="amount_positive"),
        sa.CheckConstraint(
            "(outcome IN ('matched', 'recorded_by_hand')) = (ledger_entry_id IS NOT NULL)",
            name="posted_or_linked_has_payment",
        ),
        sa.CheckConstraint(
            "(direction = 'debit') = (outcome = 'debit')", name="debits_are_not_posted"
        ),
        # The officers' queue: suggested and unmatched lines, oldest first.
        sa.Index("ix_bank_statement_lines_outcome_booking", "outcome", "booking_date", "id"),
    )


class BankLineCandidate(db.Model):
    """An account (and invoice) a suggested line may pay, shown to the officer."""

    __tablename__ = "bank_line_candidates"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(sa.ForeignKey("bank_statement_lines.id"), index=True)
    rank: Mapped[int]
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"))
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"))
    rule: Mapped[Rule] = mapped_column(enum_type(Rule, "bank_line_rule"))

    __table_args__ = (sa.UniqueConstraint("line_id", "rank", name="uq_bank_line_candidate_rank"),)


class BankLineResolution(db.Model):
    """An officer's decision on a suggested or unmatched line: once per line."""

    __tablename__ = "bank_line_resolutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(sa.ForeignKey("bank_statement_lines.id"), unique=True)
    action: Mapped[ResolutionAction] = mapped_column(
        enum_type(ResolutionAction, "bank_line_resolution")
    )
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("debtor_accounts.id"))
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"))
    ledger_entry_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ledger_entries.id"), unique=True
    )
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        sa.CheckConstraint(
            "(action IN ('posted', 'linked') AND ledger_entry_id IS NOT NULL "
            "AND account_id IS NOT NULL) OR "
            "(action = 'not_ours' AND ledger_entry_id IS NULL AND reason IS NOT NULL)",
            name="resolution_says_what",
        ),
    )
