"""Bacs Direct Debit: instructions (mandates), the advance notices given under them,
the collections made, the Standard 18 files that carry them to Bacs, and the reports
Bacs sends back (DOMAIN.md, Bacs; shared/services/directdebit/).

Bank details are encrypted at rest under BANK_DETAILS_ENCRYPTION_KEYS
(shared/models/encrypted.py): only the last two digits of the account number are
stored in the clear, for people to recognise the account by.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.extensions import db
from shared.models.base import created_at_column, enum_type, utcnow


class MandateStatus(enum.StrEnum):
    PENDING_SUBMISSION = "pending_submission"  # signed up, 0N not yet in a file
    SUBMITTED = "submitted"  # 0N in a built file waiting for release (withdrawn: back)
    # The file carrying its 0N was released (an AUDDIS rejection later makes it failed);
    # collections may go in any later processing day's file.
    ACTIVE = "active"
    CANCELLED = "cancelled"
    FAILED = "failed"  # rejected by AUDDIS


# A mandate that collects or will collect: an account has at most one at a time.
LIVE_MANDATE_STATUSES = (
    MandateStatus.PENDING_SUBMISSION,
    MandateStatus.SUBMITTED,
    MandateStatus.ACTIVE,
)


class MandateSource(enum.StrEnum):
    PORTAL = "portal"  # paperless, by the payer online
    PHONE = "phone"  # paperless, taken by an officer with the read-back script
    PAPER = "paper"  # a signed paper instruction recorded by an officer


class ModulusOutcome(enum.StrEnum):
    """What modulus checking said of the bank details when they were taken (an
    "invalid" account is refused, so never stored)."""

    VALID = "valid"
    COULD_NOT_CHECK = "could_not_check"  # a sort code the tables do not know


class Mandate(db.Model):
    __tablename__ = "mandates"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    # DDI reference (shared/domain/bacs/references.py), unique per service user number.
    reference: Mapped[str] = mapped_column(sa.String(18), unique=True)
    # As it goes in the Standard 18 record: 18 characters at most.
    account_holder_name: Mapped[str] = mapped_column(sa.String(18))
    # Fernet token of "SORTCODE ACCOUNTNUMBER" (6 and 8 digits) under
    # BANK_DETAILS_ENCRYPTION_KEYS; never compared or searched in SQL.
    bank_details_encrypted: Mapped[str] = mapped_column(sa.Text)
    # The last two digits of the account number, for "account ending 78".
    account_ending: Mapped[str] = mapped_column(sa.String(2))
    modulus_outcome: Mapped[ModulusOutcome] = mapped_column(
        enum_type(ModulusOutcome, "modulus_outcome")
    )
    source: Mapped[MandateSource] = mapped_column(enum_type(MandateSource, "mandate_source"))
    status: Mapped[MandateStatus] = mapped_column(enum_type(MandateStatus, "mandate_status"))
    # Collect each invoice on the account as it falls due (not only a plan's instalments).
    collects_invoices: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    portal_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("portal_users.id"))
    taken_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    # A mandate made to replace another (new bank details): the old one is cancelled.
    replaces_mandate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mandates.id"))
    # The Bacs file whose 0N lodged it, and the processing day of that file.
    lodged_in_file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bacs_files.id"))
    lodged_on: Mapped[date | None] = mapped_column(sa.Date)
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    activated_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    cancellation_reason: Mapped[str | None] = mapped_column(sa.String(200))
    # A cancellation we (or the payer, through us) made after the 0N was lodged must
    # reach Bacs as a 0C; one the payer's bank reported (ADDACS, AUDDIS) must not.
    needs_cancel_instruction: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    cancel_in_file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bacs_files.id"))
    # Collections stop while this is set (an advance notice disputed, ADDACS D).
    collections_stopped_reason: Mapped[str | None] = mapped_column(sa.String(200))
    # The written confirmation (within 3 working days of sign-up) in the outbox.
    confirmation_message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_messages.id"))
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(), default=utcnow, onupdate=utcnow)

    collections: Mapped[list[Collection]] = relationship(
        back_populates="mandate", foreign_keys="Collection.mandate_id"
    )

    __table_args__ = (
        sa.CheckConstraint("length(account_ending) = 2", name="account_ending_two_digits"),
        sa.CheckConstraint(
            "source = 'portal' OR taken_by_staff_id IS NOT NULL", name="staff_took_offline"
        ),
        # One live mandate per account: a second sign-up replaces the first.
        sa.Index(
            "uq_mandates_one_live_per_account",
            "account_id",
            unique=True,
            sqlite_where=sa.text("status IN ('pending_submission', 'submitted', 'active')"),
            postgresql_where=sa.text("status IN ('pending_submission', 'submitted', 'active')"),
        ),
    )


class AdvanceNotice(db.Model):
    """An advance notice of collections, written to the outbox (first collection and
    every change of amount, date or frequency). A collection may only be taken on or
    after the notice's earliest entry day."""

    __tablename__ = "dd_advance_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    mandate_id: Mapped[int] = mapped_column(sa.ForeignKey("mandates.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_messages.id"))
    # "first" or "change", and in words what changed.
    kind: Mapped[str] = mapped_column(sa.String(20))
    description: Mapped[str] = mapped_column(sa.Text)
    # The collections as the payer was told: [{"date": "YYYY-MM-DD", "amount_pence": n}].
    schedule: Mapped[list] = mapped_column(sa.JSON)
    # The day the notice counts from (the day it was sent; for a letter, the day it
    # was written plus the posting days), and the first entry day it allows.
    counts_from: Mapped[date] = mapped_column(sa.Date)
    earliest_entry_day: Mapped[date] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = created_at_column()


class CollectionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    SUBMITTED = "submitted"  # in a Bacs file
    COLLECTED = "collected"  # entry day reached: provisional payment on the ledger
    RETURNED = "returned"  # ARUDD or DDIC: the payment reversed on the ledger
    CANCELLED = "cancelled"


# Collections that count against an instalment or invoice: one at a time each.
LIVE_COLLECTION_STATUSES = (
    CollectionStatus.SCHEDULED,
    CollectionStatus.SUBMITTED,
    CollectionStatus.COLLECTED,
)


class Collection(db.Model):
    __tablename__ = "dd_collections"

    id: Mapped[int] = mapped_column(primary_key=True)
    mandate_id: Mapped[int] = mapped_column(sa.ForeignKey("mandates.id"), index=True)
    # What it collects: a plan's instalment, or an invoice on a mandate that collects
    # invoices (one of the two).
    instalment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("instalments.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"), index=True)
    amount_pence: Mapped[int]
    # Bacs transaction code: 01 first, 17 regular, 18 re-presentation, 19 final.
    transaction_code: Mapped[str] = mapped_column(sa.String(2))
    # The entry day: the day the payer's account is debited.
    collection_date: Mapped[date] = mapped_column(sa.Date, index=True)
    status: Mapped[CollectionStatus] = mapped_column(
        enum_type(CollectionStatus, "collection_status")
    )
    advance_notice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dd_advance_notices.id"))
    bacs_file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bacs_files.id"), index=True)
    # A re-presentation (18) of a collection returned "refer to payer".
    represents_collection_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dd_collections.id"))
    payment_entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_entries.id"))
    reversal_entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_entries.id"))
    returned_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    # The ARUDD reason (0-9, A, B) or "DDIC", and the bank's words for it.
    return_reason: Mapped[str | None] = mapped_column(sa.String(4))
    return_description: Mapped[str | None] = mapped_column(sa.String(200))
    cancelled_reason: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(), default=utcnow, onupdate=utcnow)

    mandate: Mapped[Mandate] = relationship(back_populates="collections", foreign_keys=[mandate_id])

    __table_args__ = (
        sa.CheckConstraint("amount_pence > 0", name="amount_positive"),
        sa.CheckConstraint(
            "transaction_code IN ('01', '17', '18', '19')", name="transaction_code_known"
        ),
        sa.CheckConstraint(
            "(instalment_id IS NULL) <> (invoice_id IS NULL)", name="collects_one_thing"
        ),
        # The file builder reads the day's scheduled collections.
        sa.Index("ix_dd_collections_status_date", "status", "collection_date"),
        # An instalment or invoice is collected once at a time (a re-presentation
        # follows a return, which is no longer live).
        sa.Index(
            "uq_dd_collections_live_instalment",
            "instalment_id",
            unique=True,
            sqlite_where=sa.text(
                "instalment_id IS NOT NULL AND status IN ('scheduled', 'submitted', 'collected')"
            ),
            postgresql_where=sa.text(
                "instalment_id IS NOT NULL AND status IN ('scheduled', 'submitted', 'collected')"
            ),
        ),
    )


class BacsFileStatus(enum.StrEnum):
    BUILT = "built"  # waiting for an officer to check and release it
    RELEASED = "released"  # handed to the Bacs software; its contents are final
    WITHDRAWN = "withdrawn"  # withdrawn before release: its collections went back


class BacsFile(db.Model):
    """One Standard 18 file for one processing day, as built, with its hash."""

    __tablename__ = "bacs_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The file serial number in HDR1/VOL1 (1-999999), never reused.
    serial_number: Mapped[int] = mapped_column(unique=True)
    processing_day: Mapped[date] = mapped_column(sa.Date, index=True)
    input_day: Mapped[date] = mapped_column(sa.Date)
    entry_day: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[BacsFileStatus] = mapped_column(enum_type(BacsFileStatus, "bacs_file_status"))
    file_name: Mapped[str] = mapped_column(sa.String(80))
    content: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    instruction_count: Mapped[int]  # 0N and 0C records
    debit_count: Mapped[int]
    debit_total_pence: Mapped[int]
    credit_count: Mapped[int]  # the contra record(s)
    credit_total_pence: Mapped[int]
    # What an officer checks before release: counts and totals by transaction code,
    # and what was held back and why.
    summary: Mapped[dict] = mapped_column(sa.JSON)
    built_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    built_at: Mapped[datetime] = created_at_column()
    released_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    released_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    withdrawn_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    withdrawal_reason: Mapped[str | None] = mapped_column(sa.String(200))

    __table_args__ = (
        sa.CheckConstraint("serial_number BETWEEN 1 AND 999999", name="serial_in_range"),
        sa.CheckConstraint("debit_total_pence >= 0 AND credit_total_pence >= 0", name="totals"),
        # One file in play per processing day: running again for the day makes nothing new.
        sa.Index(
            "uq_bacs_files_one_per_day",
            "processing_day",
            unique=True,
            sqlite_where=sa.text("status <> 'withdrawn'"),
            postgresql_where=sa.text("status <> 'withdrawn'"),
        ),
    )


class BacsReportKind(enum.StrEnum):
    AUDDIS = "auddis"  # instructions (0N/0C) rejected
    ARUDD = "arudd"  # debits returned unpaid
    ADDACS = "addacs"  # instructions amended or cancelled by the payer's bank
    DDIC = "ddic"  # Direct Debit indemnity claims


class BacsReport(db.Model):
    """A report file from Bacs as imported; the same file twice is refused by its hash."""

    __tablename__ = "bacs_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[BacsReportKind] = mapped_column(enum_type(BacsReportKind, "bacs_report_kind"))
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    file_name: Mapped[str] = mapped_column(sa.String(200))
    # The report's own date and number (ARUDD adviceNumber, ADDACS/AUDDIS header).
    report_date: Mapped[date | None] = mapped_column(sa.Date)
    advice_number: Mapped[str | None] = mapped_column(sa.String(40))
    item_count: Mapped[int]
    applied_count: Mapped[int]  # acted on automatically
    routed_count: Mapped[int]  # left for an officer
    content: Mapped[str] = mapped_column(sa.Text)
    imported_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    imported_at: Mapped[datetime] = created_at_column()


class BacsReportItem(db.Model):
    """One advice in a report: what Bacs said, what the system did, and (on the returns
    queue) what an officer still has to do. Bank details appear masked only."""

    __tablename__ = "bacs_report_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("bacs_reports.id"), index=True)
    reference: Mapped[str] = mapped_column(sa.String(18))
    # ARUDD reason 0-9/A/B, ADDACS reason 0-3/B-E/R, AUDDIS reason, or "DDIC".
    reason_code: Mapped[str] = mapped_column(sa.String(4))
    # The four-digit Bacs return code where the report has one, and the bank's words.
    bacs_code: Mapped[str | None] = mapped_column(sa.String(8))
    description: Mapped[str] = mapped_column(sa.String(200))
    amount_pence: Mapped[int | None]
    original_processing_day: Mapped[date | None] = mapped_column(sa.Date)
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    mandate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mandates.id"))
    collection_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dd_collections.id"))
    # What the system did, in words ("Payment of £25.00 reversed; payer told; to be
    # re-presented on 2 February").
    action: Mapped[str] = mapped_column(sa.Text)
    # Waiting on an officer (deceased payer, indemnity claim, unknown reference...).
    needs_officer: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    resolved_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    resolution_note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        # The returns queue: items waiting on an officer, oldest first.
        sa.Index("ix_bacs_report_items_queue", "needs_officer", "resolved_at", "created_at"),
    )
