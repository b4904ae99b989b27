"""Credit notes and write-offs: an invoice reduced, within what is left to credit."""

from __future__ import annotations

import sqlalchemy as sa

from shared.extensions import db
from shared.models import (
    EntryKind,
    Invoice,
    LedgerEntry,
)
from shared.money import format_gbp
from shared.services import balances
from shared.services.actors import Actor
from shared.services.errors import InvalidRequest
from shared.services.ledger._core import (
    _add_entry,
    _apply_allocations,
    _invoice_for_update,
    _on_history,
    _positive_pence,
    _reason,
)
from shared.services.unit_of_work import use_case


@use_case
def raise_credit_note(
    *, invoice_id: int, amount_pence: int, reason: str, actor: Actor
) -> LedgerEntry:
    """Reduce an invoice. Any part already paid becomes credit on the account.

    Who may credit how much (delegated limits, second approval) is decided by
    the approval workflow before this is called.
    """
    entry = post_credit_note(
        invoice_id=invoice_id, amount_pence=amount_pence, reason=reason, actor=actor
    )
    db.session.commit()
    return entry


def creditable_pence(invoice: Invoice) -> int:
    """How much a credit note may still take off the invoice.

    A paid invoice may still be credited (the payer gets credit back), but
    never below what was already credited or written off and not reversed,
    or a write-off could be turned into refundable money.
    """
    reversal = sa.orm.aliased(LedgerEntry)
    already_reduced = int(
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(-LedgerEntry.amount_pence), 0)).where(
                LedgerEntry.invoice_id == invoice.id,
                LedgerEntry.kind.in_([EntryKind.CREDIT_NOTE, EntryKind.WRITE_OFF]),
                ~sa.exists().where(reversal.reverses_entry_id == LedgerEntry.id),
            )
        )
    )
    return invoice.total_pence - already_reduced


def post_credit_note(
    *,
    invoice_id: int,
    amount_pence: int,
    reason: str,
    actor: Actor,
    audit: dict | None = None,
    number: str | None = None,
) -> LedgerEntry:
    """raise_credit_note's work without the commit, for the approval workflow, which
    records the request and the entry in one transaction. `audit` adds to the audit
    row's after; `number` is the credit-note document's, for the timeline."""
    _positive_pence(amount_pence)
    reason = _reason(reason, "credit note")
    invoice, account = _invoice_for_update(invoice_id)
    creditable = creditable_pence(invoice)
    if amount_pence > creditable:
        raise InvalidRequest(
            f"Invoice {invoice.number} can be credited by at most {format_gbp(creditable)}"
        )
    entry = _add_entry(
        account, EntryKind.CREDIT_NOTE, -amount_pence, actor, invoice_id=invoice.id, reason=reason
    )
    applied = min(balances.invoice_outstanding(invoice.id), amount_pence)
    if applied > 0:
        _apply_allocations(entry, [(invoice.id, applied)], actor)
    _on_history(
        account,
        actor,
        f"Credit note {number + ' ' if number else ''}of {format_gbp(amount_pence)} "
        f"against invoice {invoice.number}",
        detail=reason,
        action="credit_note.raised",
        entry_id=entry.id,
        after={
            "invoice_id": invoice.id,
            "amount_pence": amount_pence,
            "reason": reason,
            **(audit or {}),
        },
    )
    return entry


@use_case
def write_off(*, invoice_id: int, amount_pence: int, reason: str, actor: Actor) -> LedgerEntry:
    """Stop pursuing some or all of what an invoice still owes.

    Who may write off how much (delegated limits, second approval) is decided
    by the approval workflow before this is called.
    """
    entry = post_write_off(
        invoice_id=invoice_id, amount_pence=amount_pence, reason=reason, actor=actor
    )
    db.session.commit()
    return entry


def post_write_off(
    *, invoice_id: int, amount_pence: int, reason: str, actor: Actor, audit: dict | None = None
) -> LedgerEntry:
    """write_off's work without the commit, for the approval workflow, which records the
    decision and the entry in one transaction. `audit` adds to the audit row's after."""
    _positive_pence(amount_pence)
    reason = _reason(reason, "write-off")
    invoice, account = _invoice_for_update(invoice_id)
    outstanding = balances.invoice_outstanding(invoice.id)
    if amount_pence > outstanding:
        raise InvalidRequest(
            f"Invoice {invoice.number} has only {format_gbp(outstanding)} outstanding to write off"
        )
    entry = _add_entry(
        account, EntryKind.WRITE_OFF, -amount_pence, actor, invoice_id=invoice.id, reason=reason
    )
    _apply_allocations(entry, [(invoice.id, amount_pence)], actor)
    _on_history(
        account,
        actor,
        f"{format_gbp(amount_pence)} written off invoice {invoice.number}",
        detail=reason,
        action="write_off.made",
        entry_id=entry.id,
        after={
            "invoice_id": invoice.id,
            "amount_pence": amount_pence,
            "reason": reason,
            **(audit or {}),
        },
    )
    return entry
