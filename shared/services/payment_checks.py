"""Payments an officer records by hand, and their verification by a second person.

A hand-recorded bank transfer, cash, cheque or terminal card payment that leaves
credit on the account is held as unverified (rules: shared.domain.manual_payments):
its credit cannot be refunded or moved to another account (shared.services.ledger
refuses) until another officer confirms it here, or a bank statement line does
(`verify_from_bank_statement`, for the statement import). Each use case is one
transaction with its timeline entry and audit row; verifying twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from shared.domain import manual_payments as rules
from shared.domain.permissions import Permission, role_has
from shared.extensions import db
from shared.models import (
    DebtorAccount,
    LedgerEntry,
    PaymentMethod,
    PaymentVerification,
    StaffUser,
    VerificationStatus,
    VerifiedVia,
)
from shared.models.base import utcnow
from shared.money import format_gbp
from shared.services import ledger
from shared.services.actors import Actor
from shared.services.errors import Forbidden, InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.unit_of_work import use_case


@dataclass(frozen=True)
class Recorded:
    entry: LedgerEntry
    created: bool  # False when the reference had already been recorded
    unverified: bool  # held for a second officer to verify


def _method_words(method: PaymentMethod | None) -> str:
    return method.value.replace("_", " ") if method else "hand"


def record_manual_payment(
    *,
    account_id: int,
    amount_pence: int,
    method: PaymentMethod,
    actor: Actor,
    external_reference: str | None = None,
    effective_date: date | None = None,
    allocations: ledger.Requested | None = None,
) -> Recorded:
    """Record a payment taken outside the portal (ledger.record_payment); if it leaves
    credit on the account, hold it as unverified in the same transaction."""
    if actor.staff_id is None:
        raise Forbidden("Only a member of staff can record a payment by hand")

    def hold_if_credit(result: ledger.PaymentResult) -> None:
        allocated = sum(a.amount_pence for a in result.entry.allocations)
        if rules.needs_verification(
            PaymentMethod(method).value, -result.entry.amount_pence, allocated
        ):
            _hold(result.entry, actor, allocated)

    result = ledger.record_payment(
        account_id=account_id,
        amount_pence=amount_pence,
        method=method,
        actor=actor,
        external_reference=external_reference,
        effective_date=effective_date,
        allocations=allocations,
        on_created=hold_if_credit,
    )
    return Recorded(result.entry, result.created, ledger.is_unverified(result.entry.id))


def _hold(entry: LedgerEntry, actor: Actor, allocated: int) -> None:
    db.session.flush()
    row = PaymentVerification(
        ledger_entry_id=entry.id,
        account_id=entry.account_id,
        recorded_by_staff_id=actor.staff_id,
        status=VerificationStatus.UNVERIFIED,
    )
    db.session.add(row)
    db.session.flush()
    credit = -entry.amount_pence - allocated
    record_timeline(
        entry.account_id,
        actor,
        f"Payment of {format_gbp(-entry.amount_pence)} by {_method_words(entry.method)} "
        "awaiting verification by a second officer",
        detail=f"{format_gbp(credit)} of it is credit on the account, which cannot be refunded "
        "until the payment is verified",
    )
    record_audit(
        actor,
        "payment.held_unverified",
        "ledger_entry",
        entry.id,
        account_id=entry.account_id,
        after={"verification_id": row.id, "credit_pence": credit},
    )


def _verification(entry_id: int) -> PaymentVerification:
    row = db.session.scalar(
        sa.select(PaymentVerification).where(PaymentVerification.ledger_entry_id == entry_id)
    )
    if row is None:
        raise NotFound(f"No payment {entry_id} waiting for verification")
    return row


def _mark_verified(row: PaymentVerification, values: dict) -> bool:
    """Unverified -> verified, as one conditional update: False if someone got there first."""
    result = db.session.execute(
        sa.update(PaymentVerification)
        .where(
            PaymentVerification.id == row.id,
            PaymentVerification.status == VerificationStatus.UNVERIFIED,
        )
        .values(status=VerificationStatus.VERIFIED, verified_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _after_verified(row: PaymentVerification, actor: Actor, how: str, after: dict) -> None:
    entry = db.session.get(LedgerEntry, row.ledger_entry_id)
    record_timeline(
        row.account_id,
        actor,
        f"Payment of {format_gbp(-entry.amount_pence)} by {_method_words(entry.method)} "
        f"verified {how}",
    )
    record_audit(
        actor,
        "payment.verified",
        "ledger_entry",
        entry.id,
        account_id=row.account_id,
        before={"status": VerificationStatus.UNVERIFIED.value},
        after={"status": VerificationStatus.VERIFIED.value, **after},
    )
    db.session.commit()
    db.session.refresh(row)


@use_case
def verify_payment(*, entry_id: int, actor: Actor) -> bool:
    """Another officer confirms the money of a hand-recorded payment arrived.

    Returns False (and changes nothing) if it had already been verified.
    """
    verifier = db.session.get(StaffUser, actor.staff_id) if actor.staff_id else None
    if (
        verifier is None
        or not verifier.active
        or not role_has(verifier.role, Permission.WORK_CASES)
    ):
        raise Forbidden("Only an officer can verify a payment")
    row = _verification(entry_id)
    if row.status == VerificationStatus.VERIFIED:
        return False
    refusal = rules.verifier_refusal(verifier.id, row.recorded_by_staff_id)
    if refusal:
        raise Forbidden(refusal)
    if not _mark_verified(
        row, {"verified_via": VerifiedVia.OFFICER, "verified_by_staff_id": verifier.id}
    ):
        db.session.rollback()
        return False
    _after_verified(row, actor, "by a second officer", {"verified_via": "officer"})
    return True


@use_case
def verify_from_bank_statement(*, entry_id: int, statement_reference: str, actor: Actor) -> bool:
    """A bank statement line confirms a hand-recorded payment (for the statement import,
    which matches the line to the payment and calls this with the system actor).

    Returns False (and changes nothing) if it had already been verified.
    """
    reference = (statement_reference or "").strip()
    if not reference:
        raise InvalidRequest("A bank statement verification needs the statement line's reference")
    if len(reference) > 100:
        raise InvalidRequest("Statement reference must be 100 characters or fewer")
    row = _verification(entry_id)
    if row.status == VerificationStatus.VERIFIED:
        return False
    if not _mark_verified(
        row, {"verified_via": VerifiedVia.BANK_STATEMENT, "statement_reference": reference}
    ):
        db.session.rollback()
        return False
    _after_verified(
        row,
        actor,
        f"by bank statement line {reference}",
        {"verified_via": "bank_statement", "statement_reference": reference},
    )
    return True


# --- what the page shows -------------------------------------------------------------


@dataclass(frozen=True)
class Unverified:
    entry_id: int
    account_reference: str
    account_name: str
    amount_pence: int
    method: str
    reference: str
    received_on: date
    recorded_by: str
    recorded_by_id: int
    recorded_at: datetime


def _typed_reference(stored: str | None) -> str:
    """The reference the officer typed ("cheque:100234" is stored for "100234"); cash
    without one is stored under the form's key, which means nothing to a reader."""
    stored = stored or ""
    if stored.startswith("manual:"):
        return ""
    return stored.partition(":")[2] or stored


def unverified_queue(limit: int = 200) -> list[Unverified]:
    """Hand-recorded payments waiting for a second officer, oldest first (not those
    since reversed: there is nothing left to pay out)."""
    reversal = sa.orm.aliased(LedgerEntry)
    rows = db.session.execute(
        sa.select(PaymentVerification, LedgerEntry, DebtorAccount, StaffUser.full_name)
        .join(LedgerEntry, LedgerEntry.id == PaymentVerification.ledger_entry_id)
        .join(DebtorAccount, DebtorAccount.id == PaymentVerification.account_id)
        .join(StaffUser, StaffUser.id == PaymentVerification.recorded_by_staff_id)
        .where(
            PaymentVerification.status == VerificationStatus.UNVERIFIED,
            ~sa.exists().where(reversal.reverses_entry_id == LedgerEntry.id),
        )
        .order_by(PaymentVerification.created_at, PaymentVerification.id)
        .limit(limit)
    ).all()
    return [
        Unverified(
            entry_id=entry.id,
            account_reference=account.reference,
            account_name=account.display_name or "",
            amount_pence=-entry.amount_pence,
            method=_method_words(entry.method),
            reference=_typed_reference(entry.external_reference),
            received_on=entry.effective_date,
            recorded_by=recorder,
            recorded_by_id=row.recorded_by_staff_id,
            recorded_at=row.created_at,
        )
        for row, entry, account, recorder in rows
    ]
