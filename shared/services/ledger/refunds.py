"""Refunds of unallocated credit (never of an unverified hand-recorded payment), and a
refund that came back unpaid.
"""

from __future__ import annotations

import sqlalchemy as sa

from shared.extensions import db
from shared.models import (
    EntryKind,
    LedgerEntry,
    PaymentVerification,
    VerificationStatus,
)
from shared.money import format_gbp
from shared.services.actors import Actor
from shared.services.errors import InvalidRequest, NotFound
from shared.services.ledger._core import (
    UnverifiedCredit,
    _add_entry,
    _credit_value,
    _on_history,
    _positive_pence,
    _reason,
    lock_account,
)
from shared.services.unit_of_work import use_case

_REFUNDABLE = {EntryKind.PAYMENT, EntryKind.CREDIT_NOTE, EntryKind.ADJUSTMENT}


def is_unverified(entry_id: int) -> bool:
    """Whether the entry is a hand-recorded payment still waiting for a second person."""
    return (
        db.session.scalar(
            sa.select(PaymentVerification.id).where(
                PaymentVerification.ledger_entry_id == entry_id,
                PaymentVerification.status == VerificationStatus.UNVERIFIED,
            )
        )
        is not None
    )


def refuse_unverified(source: LedgerEntry, what: str) -> None:
    """Unverified credit is only an officer's word that money came in: it is never paid
    out or moved until a second officer or the bank statement confirms it."""
    if is_unverified(source.id):
        method = source.method.value.replace("_", " ") if source.method else "hand"
        raise UnverifiedCredit(
            f"The {method} payment of {format_gbp(-source.amount_pence)} received on "
            f"{source.effective_date:%-d %B %Y} has not been verified yet: another officer "
            f"must confirm it on the Unverified payments page before its credit can be {what}"
        )


@use_case
def refund(
    *,
    source_entry_id: int,
    amount_pence: int,
    reason: str,
    actor: Actor,
    external_reference: str | None = None,
) -> LedgerEntry:
    """Pay back unallocated credit drawn from one payment or credit note."""
    entry = post_refund(
        source_entry_id=source_entry_id,
        amount_pence=amount_pence,
        reason=reason,
        actor=actor,
        external_reference=external_reference,
    )
    db.session.commit()
    return entry


def refundable_available(source_entry_id: int) -> int:
    """How much of one credit entry can still be refunded (refuses an entry that is
    not a refundable credit)."""
    source = db.session.get(LedgerEntry, source_entry_id)
    if source is None:
        raise NotFound(f"No ledger entry {source_entry_id}")
    if source.kind not in _REFUNDABLE or source.amount_pence >= 0:
        raise InvalidRequest("Only a payment, credit note or credit adjustment can be refunded")
    return _credit_value(source).available_pence


def post_refund(
    *,
    source_entry_id: int,
    amount_pence: int,
    reason: str,
    actor: Actor,
    external_reference: str | None = None,
    audit: dict | None = None,
) -> LedgerEntry:
    """refund's work without the commit, for the approval workflow, which records the
    decision and the entry in one transaction. `audit` adds to the audit row's after."""
    _positive_pence(amount_pence)
    reason = _reason(reason, "refund")
    source = db.session.get(LedgerEntry, source_entry_id)
    if source is None:
        raise NotFound(f"No ledger entry {source_entry_id}")
    if source.kind not in _REFUNDABLE or source.amount_pence >= 0:
        raise InvalidRequest("Only a payment, credit note or credit adjustment can be refunded")
    account = lock_account(source.account_id)
    refuse_unverified(source, "refunded")
    available = _credit_value(source).available_pence
    if amount_pence > available:
        raise InvalidRequest(
            f"Only {format_gbp(available)} of that credit is unallocated and refundable"
        )
    entry = _add_entry(
        account,
        EntryKind.REFUND,
        amount_pence,
        actor,
        source_entry_id=source.id,
        method=source.method,
        external_reference=external_reference,
        reason=reason,
    )
    _on_history(
        account,
        actor,
        f"Refund of {format_gbp(amount_pence)}",
        detail=reason,
        action="refund.made",
        entry_id=entry.id,
        after={"source_entry_id": source.id, "amount_pence": amount_pence, **(audit or {})},
    )
    return entry


def post_refund_returned(*, refund_entry_id: int, reason: str, actor: Actor) -> LedgerEntry:
    """A refund that never reached the payer (the card provider refused it for good):
    its money is credit on the account again. Without the commit.

    Posted as a credit adjustment naming the refund (reverses_entry_id is unique,
    so it happens once), not as a REVERSAL: a reversal is a debit that undoes a
    credit, and this undoes a debit. The original payment's refunded amount
    stays drawn; the new credit is unallocated, for an officer to allocate or to
    refund another way.
    """
    refund_entry = db.session.get(LedgerEntry, refund_entry_id)
    if refund_entry is None or refund_entry.kind != EntryKind.REFUND:
        raise NotFound(f"No refund entry {refund_entry_id}")
    account = lock_account(refund_entry.account_id)
    existing = db.session.scalar(
        sa.select(LedgerEntry).where(LedgerEntry.reverses_entry_id == refund_entry.id)
    )
    if existing is not None:
        return existing
    entry = _add_entry(
        account,
        EntryKind.ADJUSTMENT,
        -refund_entry.amount_pence,
        actor,
        reverses_entry_id=refund_entry.id,
        reason=_reason(reason, "returned refund")[:300],
    )
    _on_history(
        account,
        actor,
        f"Refund of {format_gbp(refund_entry.amount_pence)} not made: "
        "the money is credit on the account again",
        detail=reason,
        action="refund.returned",
        entry_id=entry.id,
        after={"refund_entry_id": refund_entry.id, "amount_pence": refund_entry.amount_pence},
    )
    return entry
