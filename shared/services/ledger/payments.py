"""Money received (once per external reference) and allocating credit to invoices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shared import clock
from shared.extensions import db
from shared.models import (
    Allocation,
    EntryKind,
    Invoice,
    LedgerEntry,
    PaymentMethod,
)
from shared.money import format_gbp
from shared.services.actors import Actor
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.ledger._core import (
    PaymentResult,
    Requested,
    _add_entry,
    _apply_allocations,
    _credit_value,
    _on_history,
    _plan,
    _positive_pence,
    lock_account,
)
from shared.services.unit_of_work import use_case


@use_case
def record_payment(
    *,
    account_id: int,
    amount_pence: int,
    method: PaymentMethod,
    actor: Actor,
    external_reference: str | None = None,
    effective_date: date | None = None,
    allocations: Requested | None = None,
    note: str | None = None,
    on_created: Callable[[PaymentResult], None] | None = None,
) -> PaymentResult:
    """Record money received and apply it: as the payer chose, or oldest due first.

    The same external reference twice is one payment: the second call returns
    the first payment (created=False) and changes nothing. Anything not applied
    to an invoice stays on the account as unallocated credit. `on_created` adds
    to a new payment's transaction, before the commit (e.g. marking it unverified).
    """
    fields = dict(
        account_id=account_id,
        amount_pence=amount_pence,
        method=method,
        actor=actor,
        external_reference=external_reference,
        effective_date=effective_date,
        allocations=allocations,
        note=note,
    )
    try:
        result = post_payment(**fields)
        if result.created and on_created is not None:
            on_created(result)
        db.session.commit()
    except IntegrityError:
        # A concurrent request committed the same reference first (SQLite has
        # no row lock to make us wait for it): the payment exists, once.
        db.session.rollback()
        if not (external_reference or "").strip():
            raise
        result = post_payment(**fields)
        if result.created:
            raise
    return result


def post_payment(
    *,
    account_id: int,
    amount_pence: int,
    method: PaymentMethod,
    actor: Actor,
    external_reference: str | None = None,
    effective_date: date | None = None,
    allocations: Requested | None = None,
    note: str | None = None,
) -> PaymentResult:
    """record_payment's work without the commit, for use cases that settle a
    payment together with other changes in one transaction."""
    _positive_pence(amount_pence)
    method = PaymentMethod(method)
    external_reference = (external_reference or "").strip() or None
    if external_reference:
        existing = _payment_by_reference(external_reference)
        if existing is not None:
            return _same_payment(existing, account_id, amount_pence)

    account = lock_account(account_id)
    if external_reference:
        # Again under the account lock: a concurrent request may have won.
        existing = _payment_by_reference(external_reference)
        if existing is not None:
            return _same_payment(existing, account_id, amount_pence)
    plan = _plan(amount_pence, account.id, allocations)
    entry = _add_entry(
        account,
        EntryKind.PAYMENT,
        -amount_pence,
        actor,
        method=method,
        external_reference=external_reference,
        reason=note,
        effective_date=effective_date or clock.today(),
    )
    _apply_allocations(entry, plan, actor)
    allocated = sum(a for _, a in plan)
    summary = f"Payment of {format_gbp(amount_pence)} received by {method.value.replace('_', ' ')}"
    if allocated < amount_pence:
        summary += f" ({format_gbp(amount_pence - allocated)} held as credit)"
    _on_history(
        account,
        actor,
        summary,
        action="payment.recorded",
        entry_id=entry.id,
        after={
            "amount_pence": amount_pence,
            "method": method.value,
            "external_reference": external_reference,
            "allocations": plan,
        },
    )
    return PaymentResult(entry, created=True)


def _payment_by_reference(reference: str) -> LedgerEntry | None:
    return db.session.scalar(
        sa.select(LedgerEntry).where(LedgerEntry.external_reference == reference)
    )


def _same_payment(existing: LedgerEntry, account_id: int, amount_pence: int) -> PaymentResult:
    if existing.account_id != account_id or existing.amount_pence != -amount_pence:
        raise Conflict(
            f"Reference {existing.external_reference} was already used for a different payment"
        )
    return PaymentResult(existing, created=False)


@use_case
def allocate(
    *,
    credit_entry_id: int,
    actor: Actor,
    allocations: Requested | None = None,
    expected_available_pence: int | None = None,
) -> list[Allocation]:
    """Apply a credit's unallocated value to invoices (an officer's manual allocation).

    `expected_available_pence` is the unallocated amount the officer was shown.
    If it is no longer what the credit has (someone allocated or refunded it
    meanwhile, or the same form was sent twice), nothing is allocated and
    Conflict says so: checked under the account lock, so a form allocates once.
    """
    credit = db.session.get(LedgerEntry, credit_entry_id)
    if credit is None:
        raise NotFound(f"No ledger entry {credit_entry_id}")
    account = lock_account(credit.account_id)
    value = _credit_value(credit)
    expected = expected_available_pence
    if expected is not None and value.available_pence != expected:
        raise Conflict(
            f"Nothing was allocated: this credit has {format_gbp(value.available_pence)} "
            f"unallocated now, not the {format_gbp(expected)} shown on the form, "
            "so it may have been allocated already"
        )
    if value.available_pence <= 0:
        raise InvalidRequest("This credit has nothing left to allocate")
    plan = _plan(value.available_pence, account.id, allocations)
    if not plan:
        raise InvalidRequest("There are no open invoices on this account to allocate to")
    rows = _apply_allocations(credit, plan, actor)
    total = sum(a for _, a in plan)
    numbers = dict(
        db.session.execute(
            sa.select(Invoice.id, Invoice.number).where(Invoice.id.in_([i for i, _ in plan]))
        ).all()
    )
    record_timeline(
        account.id,
        actor,
        f"{format_gbp(total)} of unallocated credit allocated",
        detail=", ".join(f"{numbers[i]}: {format_gbp(a)}" for i, a in plan),
    )
    record_audit(
        actor,
        "credit.allocated",
        "ledger_entry",
        credit.id,
        account_id=account.id,
        before={"unallocated_pence": value.available_pence},
        after={"allocations": plan, "unallocated_pence": value.available_pence - total},
    )
    db.session.commit()
    return rows
