"""The ledger's shared pieces: the account lock, entries with their history rows, and
allocation plans; every use case in the package builds on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from shared import clock
from shared.domain.allocation import AllocationError, allocate_by_default, check_explicit
from shared.domain.vat import VatRate
from shared.extensions import db
from shared.models import (
    Allocation,
    DebtorAccount,
    EntryKind,
    Invoice,
    LedgerEntry,
)
from shared.services import allocation_targets, balances, unallocated
from shared.services.actors import Actor
from shared.services.errors import InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline

Requested = Sequence[tuple[int, int]]  # (invoice id, pence) chosen by the payer or officer

# Every commit that writes ledger rows also brings the unallocated payments queue up to date.
unallocated.keep_in_step()


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: int
    unit_price_pence: int
    vat_rate: VatRate = VatRate.OUTSIDE_SCOPE


class UnverifiedCredit(InvalidRequest):
    """The credit is a hand-recorded payment no second person has confirmed yet."""


@dataclass(frozen=True)
class PaymentResult:
    entry: LedgerEntry
    created: bool  # False when the external reference had already been recorded


def lock_account(account_id: int) -> DebtorAccount:
    """The account row, locked until the transaction ends: every change to an
    account's money (and a plan proposal on it) is serialised on this lock."""
    account = db.session.execute(
        sa.select(DebtorAccount).where(DebtorAccount.id == account_id).with_for_update()
    ).scalar_one_or_none()
    if account is None:
        raise NotFound(f"No debtor account {account_id}")
    return account


def _positive_pence(amount_pence: int, what: str = "Amount") -> None:
    if not isinstance(amount_pence, int) or isinstance(amount_pence, bool):
        raise InvalidRequest(f"{what} must be whole pence")
    if amount_pence <= 0:
        raise InvalidRequest(f"{what} must be more than £0")


def _reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidRequest(f"Give a reason for the {what}")
    return text


def _add_entry(
    account: DebtorAccount, kind: EntryKind, amount_pence: int, actor: Actor, **fields
) -> LedgerEntry:
    """Append one ledger entry (dated today unless told) and give it an id."""
    fields.setdefault("effective_date", clock.today())
    entry = LedgerEntry(
        account_id=account.id,
        kind=kind,
        amount_pence=amount_pence,
        created_by_staff_id=actor.staff_id,
        **fields,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def _on_history(
    account: DebtorAccount,
    actor: Actor,
    summary: str,
    *,
    action: str,
    entry_id: int,
    after: dict,
    detail: str | None = None,
) -> None:
    """The account's timeline entry and the audit row for one ledger change."""
    record_timeline(account.id, actor, summary, detail=detail)
    record_audit(actor, action, "ledger_entry", entry_id, account_id=account.id, after=after)


def _apply_allocations(credit: LedgerEntry, plan: Requested, actor: Actor) -> list[Allocation]:
    rows = [
        Allocation(
            credit_entry_id=credit.id,
            invoice_id=invoice_id,
            amount_pence=amount,
            created_by_staff_id=actor.staff_id,
        )
        for invoice_id, amount in plan
    ]
    db.session.add_all(rows)
    return rows


def _plan(available: int, account_id: int, requested: Requested | None) -> list[tuple[int, int]]:
    items = balances.open_items(account_id)
    try:
        if requested is None:
            # Nobody chose: held invoices are left alone, the plan's are paid first.
            held, in_plan = allocation_targets.held_and_in_plan(
                account_id, [i.invoice_id for i in items], clock.today()
            )
            return allocate_by_default(available, items, held=held, in_plan=in_plan)
        return check_explicit(available, items, requested)
    except AllocationError as exc:
        raise InvalidRequest(str(exc)) from None


def _credit_value(entry: LedgerEntry) -> balances.CreditValue:
    values = balances.credit_values(entry_ids=[entry.id])
    if not values:
        raise InvalidRequest("That entry is not a credit")
    return values[0]


def _invoice_for_update(invoice_id: int) -> tuple[Invoice, DebtorAccount]:
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(f"No invoice {invoice_id}")
    return invoice, lock_account(invoice.account_id)
