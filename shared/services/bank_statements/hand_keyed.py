"""Bank transfers officers recorded by hand, found for statement lines, and verified by
them (the rule is shared.domain.bank_statements.hand_keyed).

Both are set-based for the import: the hand-recorded payments of every account the
statement matched are read in one query (per chunk of accounts), and the payments the
lines confirm are verified with one conditional UPDATE and their timeline entries and
audit rows inserted in bulk. Neither commits: they belong to the import's (or the
officer's resolution's) transaction.

The accounts are locked (SELECT ... FOR UPDATE, in id order, as posting.py and
ledger.lock_account do) before their payments are read, so a line cannot claim a
payment that a concurrent import or resolution is claiming: the second waits, then
sees the first's claim.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from shared.domain.bank_statements.hand_keyed import KeyedPayment, calendar_span
from shared.extensions import db
from shared.models import (
    ActorType,
    AuditLog,
    BankLineResolution,
    BankStatementLine,
    ContactEvent,
    ContactKind,
    DebtorAccount,
    EntryKind,
    LedgerEntry,
    PaymentMethod,
    PaymentVerification,
    VerificationStatus,
    VerifiedVia,
)
from shared.models.base import utcnow
from shared.money import format_gbp
from shared.services.actors import Actor
from shared.services.bank_statements import bulk
from shared.services.bank_statements.lookups import chunks

# What the import and an officer's resolution post from a statement line: a payment
# with such a reference came from the bank, not from an officer's hand.
STATEMENT_REFERENCE_PREFIX = "bank:"


def lock_accounts(account_ids: Iterable[int]) -> None:
    for chunk in chunks(sorted(set(account_ids))):
        db.session.execute(
            sa.select(DebtorAccount.id)
            .where(DebtorAccount.id.in_(chunk))
            .order_by(DebtorAccount.id)
            .with_for_update()
        ).all()


def unclaimed_payments(
    account_ids: Iterable[int], first_booking: date, last_booking: date
) -> list[KeyedPayment]:
    """The hand-recorded bank transfers on these accounts, dated near the booking days,
    that no statement line has claimed and nobody has reversed, oldest first.

    The accounts are locked first. Hand-recorded: a BANK_TRANSFER payment an officer
    keyed (record_manual_payment), not one the import or an officer's resolution of a
    statement line posted (their reference is bank:...)."""
    ids = sorted(set(account_ids))
    if not ids:
        return []
    lock_accounts(ids)
    earliest, latest = calendar_span(first_booking, last_booking)
    reversal = aliased(LedgerEntry)
    query = (
        sa.select(
            LedgerEntry.id,
            LedgerEntry.account_id,
            -LedgerEntry.amount_pence,
            LedgerEntry.effective_date,
        )
        .where(
            LedgerEntry.kind == EntryKind.PAYMENT,
            LedgerEntry.method == PaymentMethod.BANK_TRANSFER,
            LedgerEntry.created_by_staff_id.is_not(None),
            sa.or_(
                LedgerEntry.external_reference.is_(None),
                ~LedgerEntry.external_reference.startswith(STATEMENT_REFERENCE_PREFIX),
            ),
            LedgerEntry.effective_date.between(earliest, latest),
            ~sa.exists().where(reversal.reverses_entry_id == LedgerEntry.id),
            ~sa.exists().where(BankStatementLine.ledger_entry_id == LedgerEntry.id),
            ~sa.exists().where(BankLineResolution.ledger_entry_id == LedgerEntry.id),
        )
        .order_by(LedgerEntry.effective_date, LedgerEntry.id)
    )
    found: list[KeyedPayment] = []
    for chunk in chunks(ids):
        rows = db.session.execute(query.where(LedgerEntry.account_id.in_(chunk)))
        found.extend(
            KeyedPayment(entry_id, account_id, int(pence), day)
            for entry_id, account_id, pence, day in rows
        )
    return found


def verify(confirmed: Sequence[tuple[int, str]], actor: Actor) -> list[int]:
    """Verify the unverified ones of these (payment entry id, bank line reference)
    pairs, as payment_checks.verify_from_bank_statement does one (same status change,
    timeline wording and audit row), without committing. Returns the entry ids that
    were waiting and are now verified; the rest (already verified, or never held
    because they left no credit) are left alone."""
    reference_of = dict(confirmed)
    verified: list[tuple[int, int]] = []  # (entry id, account id)
    for chunk in chunks(sorted(reference_of)):
        # One conditional update: a payment a second officer verified meanwhile is not
        # verified again (and gets no second timeline entry), as _mark_verified does.
        verified.extend(
            db.session.execute(
                sa.update(PaymentVerification)
                .where(
                    PaymentVerification.ledger_entry_id.in_(chunk),
                    PaymentVerification.status == VerificationStatus.UNVERIFIED,
                )
                .values(
                    status=VerificationStatus.VERIFIED,
                    verified_at=utcnow(),
                    verified_via=VerifiedVia.BANK_STATEMENT,
                    statement_reference=sa.case(
                        {i: reference_of[i] for i in chunk},
                        value=PaymentVerification.ledger_entry_id,
                    ),
                )
                .returning(PaymentVerification.ledger_entry_id, PaymentVerification.account_id)
                .execution_options(synchronize_session=False)
            ).tuples()
        )
    if not verified:
        return []
    verified.sort()
    amounts = dict(
        db.session.execute(
            sa.select(LedgerEntry.id, LedgerEntry.amount_pence).where(
                LedgerEntry.id.in_([entry_id for entry_id, _ in verified])
            )
        ).all()
    )
    kind = {
        ActorType.PORTAL_USER: ContactKind.PORTAL,
        ActorType.SYSTEM: ContactKind.SYSTEM,
    }.get(actor.type, ContactKind.NOTE)
    bulk.insert(
        ContactEvent,
        [
            dict(
                account_id=account_id,
                kind=kind,
                summary=f"Payment of {format_gbp(-amounts[entry_id])} by bank transfer "
                f"verified by bank statement line {reference_of[entry_id]}",
                staff_id=actor.staff_id,
                portal_user_id=actor.portal_user_id,
            )
            for entry_id, account_id in verified
        ],
    )
    bulk.insert(
        AuditLog,
        [
            dict(
                actor_type=actor.type,
                actor_id=actor.id,
                action="payment.verified",
                object_type="ledger_entry",
                object_id=str(entry_id),
                account_id=account_id,
                before={"status": VerificationStatus.UNVERIFIED.value},
                after={
                    "status": VerificationStatus.VERIFIED.value,
                    "verified_via": VerifiedVia.BANK_STATEMENT.value,
                    "statement_reference": reference_of[entry_id],
                },
                source_ip=actor.source_ip,
            )
            for entry_id, account_id in verified
        ],
    )
    return [entry_id for entry_id, _ in verified]
