"""Reversals (a credit undone, exactly once) and credit transferred between accounts."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shared import clock
from shared.extensions import db
from shared.models import (
    Allocation,
    EntryKind,
    LedgerEntry,
)
from shared.money import format_gbp
from shared.services.actors import Actor
from shared.services.errors import InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.ledger._core import (
    _add_entry,
    _credit_value,
    _positive_pence,
    _reason,
    lock_account,
)
from shared.services.ledger.refunds import _REFUNDABLE, refuse_unverified
from shared.services.unit_of_work import use_case

_REVERSIBLE = {EntryKind.PAYMENT, EntryKind.CREDIT_NOTE, EntryKind.WRITE_OFF, EntryKind.ADJUSTMENT}


@use_case
def reverse(*, entry_id: int, reason: str, actor: Actor) -> LedgerEntry:
    """Undo a credit (returned direct debit, chargeback, credit given in error).

    Its allocations are taken back, so the invoices it paid owe again. The part
    already refunded or transferred out cannot be taken back twice, so the
    reversal is for what remains. Reversing the same entry again returns the
    first reversal and changes nothing.
    """
    reason = _reason(reason, "reversal")
    original = db.session.get(LedgerEntry, entry_id)
    if original is None:
        raise NotFound(f"No ledger entry {entry_id}")
    if original.kind not in _REVERSIBLE or original.amount_pence >= 0:
        raise InvalidRequest(
            "Only a payment, credit note, write-off or credit adjustment can be reversed"
        )
    account = lock_account(original.account_id)
    existing = db.session.scalar(
        sa.select(LedgerEntry).where(LedgerEntry.reverses_entry_id == original.id)
    )
    if existing is not None:
        return existing
    value = _credit_value(original)
    amount = value.value_pence - value.drawn_pence
    if amount <= 0:
        raise InvalidRequest(
            "That credit has been fully refunded or transferred; there is nothing to reverse"
        )
    try:
        entry = _add_entry(
            account,
            EntryKind.REVERSAL,
            amount,
            actor,
            reverses_entry_id=original.id,
            invoice_id=original.invoice_id,
            reason=reason,
        )
    except IntegrityError:
        db.session.rollback()  # a concurrent reversal won: same outcome
        return db.session.scalar(
            sa.select(LedgerEntry).where(LedgerEntry.reverses_entry_id == entry_id)
        )
    per_invoice = db.session.execute(
        sa.select(Allocation.invoice_id, sa.func.sum(Allocation.amount_pence))
        .where(Allocation.credit_entry_id == original.id)
        .group_by(Allocation.invoice_id)
    ).all()
    db.session.add_all(
        Allocation(
            credit_entry_id=original.id,
            invoice_id=invoice_id,
            amount_pence=-int(total),
            reversal_entry_id=entry.id,
            created_by_staff_id=actor.staff_id,
        )
        for invoice_id, total in per_invoice
        if total
    )
    record_timeline(
        account.id,
        actor,
        f"{original.kind.value.replace('_', ' ').capitalize()} of "
        f"{format_gbp(-original.amount_pence)} reversed",
        detail=reason,
    )
    record_audit(
        actor,
        "entry.reversed",
        "ledger_entry",
        original.id,
        account_id=account.id,
        after={"reversal_entry_id": entry.id, "amount_pence": amount, "reason": reason},
    )
    db.session.commit()
    return entry


@use_case
def transfer_credit(
    *, source_entry_id: int, to_account_id: int, amount_pence: int, reason: str, actor: Actor
) -> tuple[LedgerEntry, LedgerEntry]:
    """Move unallocated credit to another account (e.g. a payment made against the wrong one)."""
    _positive_pence(amount_pence)
    reason = _reason(reason, "transfer")
    source = db.session.get(LedgerEntry, source_entry_id)
    if source is None:
        raise NotFound(f"No ledger entry {source_entry_id}")
    if source.kind not in _REFUNDABLE or source.amount_pence >= 0:
        raise InvalidRequest("Only a payment, credit note or credit adjustment can be transferred")
    if source.account_id == to_account_id:
        raise InvalidRequest("Credit can only be transferred to a different account")
    # Lock both accounts in id order so two opposite transfers cannot deadlock.
    first, second = sorted([source.account_id, to_account_id])
    locked = {first: lock_account(first), second: lock_account(second)}
    from_account, to_account = locked[source.account_id], locked[to_account_id]
    refuse_unverified(source, "moved to another account")
    available = _credit_value(source).available_pence
    if amount_pence > available:
        raise InvalidRequest(f"Only {format_gbp(available)} of that credit is unallocated")
    # One moment for both halves, so they are always in the same day's GL journal
    # (shared/services/journal.py), where they pair up on debtors control.
    stamp = clock.utcnow()
    out_entry = _add_entry(
        from_account,
        EntryKind.ADJUSTMENT,
        amount_pence,
        actor,
        source_entry_id=source.id,
        reason=reason,
        created_at=stamp,
    )
    in_entry = _add_entry(
        to_account, EntryKind.ADJUSTMENT, -amount_pence, actor, reason=reason, created_at=stamp
    )
    for account, text in (
        (from_account, f"to account {to_account.reference}"),
        (to_account, f"from account {from_account.reference}"),
    ):
        record_timeline(
            account.id,
            actor,
            f"Credit of {format_gbp(amount_pence)} transferred {text}",
            detail=reason,
        )
    record_audit(
        actor,
        "credit.transferred",
        "ledger_entry",
        source.id,
        account_id=from_account.id,
        after={
            "to_account_id": to_account.id,
            "amount_pence": amount_pence,
            "out_entry_id": out_entry.id,
            "in_entry_id": in_entry.id,
        },
    )
    db.session.commit()
    return out_entry, in_entry
