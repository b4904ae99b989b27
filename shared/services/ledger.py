"""Ledger use cases: raise an invoice, record a payment, allocate, credit, write off,
refund, reverse and transfer credit.

Every function here is one transaction. It locks the debtor account row first
(SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers anyway), so two
requests for the same account cannot both spend the same credit. Each change
writes its ledger rows, a timeline entry and an audit row, then commits once.
Bad requests raise a ServiceError subclass before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shared import clock
from shared.domain.allocation import AllocationError, allocate_by_default, check_explicit
from shared.domain.vat import VatRate, vat_at
from shared.extensions import db
from shared.models import (
    Allocation,
    DebtorAccount,
    EntryKind,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    PaymentMethod,
    PaymentVerification,
    ServiceDepartment,
    VerificationStatus,
)
from shared.money import format_gbp
from shared.services import allocation_targets, balances, unallocated, vat_rates
from shared.services.actors import Actor
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.unit_of_work import use_case

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


@use_case
def raise_invoice(
    *,
    account_id: int,
    department_id: int,
    number: str,
    issue_date: date,
    due_date: date,
    description: str,
    lines: Sequence[LineInput],
    actor: Actor,
    income_code_id: int | None = None,
    purchase_order: str | None = None,
    raised_by_staff_id: int | None = None,
) -> Invoice:
    """Raise an invoice with its lines and VAT, and debit the account with its total."""
    invoice = post_invoice(
        account_id=account_id,
        department_id=department_id,
        number=number,
        issue_date=issue_date,
        due_date=due_date,
        description=description,
        lines=lines,
        actor=actor,
        income_code_id=income_code_id,
        purchase_order=purchase_order,
        raised_by_staff_id=raised_by_staff_id,
    )
    db.session.commit()
    return invoice


def post_invoice(
    *,
    account_id: int,
    department_id: int,
    number: str,
    issue_date: date,
    due_date: date,
    description: str,
    lines: Sequence[LineInput],
    actor: Actor,
    income_code_id: int | None = None,
    purchase_order: str | None = None,
    raised_by_staff_id: int | None = None,
) -> Invoice:
    """raise_invoice's work without the commit, for use cases that issue an invoice
    together with other changes in one transaction (issuing a checked draft).
    `raised_by_staff_id` is who raised it when that is not the actor posting it."""
    # Stored the way the public types them back to us, so lookups are exact.
    number = "".join((number or "").split()).upper()
    if not number:
        raise InvalidRequest("An invoice needs a number")
    if not lines:
        raise InvalidRequest("An invoice needs at least one line")
    if due_date < issue_date:
        raise InvalidRequest("The due date cannot be before the issue date")
    for line in lines:
        if not isinstance(line.quantity, int) or line.quantity <= 0:
            raise InvalidRequest("Each line's quantity must be a whole number above 0")
        if not isinstance(line.unit_price_pence, int) or line.unit_price_pence < 0:
            raise InvalidRequest("Each line's unit price must be whole pence, not negative")
    account = lock_account(account_id)
    if db.session.get(ServiceDepartment, department_id) is None:
        raise NotFound(f"No service department {department_id}")
    if db.session.scalar(sa.select(Invoice.id).where(Invoice.number == number)) is not None:
        raise Conflict(f"Invoice number {number} is already in use")

    invoice_lines = []
    for n, line in enumerate(lines, start=1):
        net = line.quantity * line.unit_price_pence
        # The rate in force on the tax point (the issue date), kept on the line as charged.
        basis_points = vat_rates.basis_points_on(line.vat_rate, issue_date)
        invoice_lines.append(
            InvoiceLine(
                line_no=n,
                description=line.description,
                quantity=line.quantity,
                unit_price_pence=line.unit_price_pence,
                net_pence=net,
                vat_rate=line.vat_rate,
                vat_basis_points=basis_points,
                vat_pence=vat_at(net, basis_points),
            )
        )
    net_total = sum(line.net_pence for line in invoice_lines)
    vat_total = sum(line.vat_pence for line in invoice_lines)
    if net_total + vat_total <= 0:
        raise InvalidRequest("An invoice must be for more than £0")

    invoice = Invoice(
        number=number,
        account_id=account.id,
        department_id=department_id,
        issue_date=issue_date,
        due_date=due_date,
        description=description,
        net_pence=net_total,
        vat_pence=vat_total,
        total_pence=net_total + vat_total,
        raised_by_staff_id=raised_by_staff_id or actor.staff_id,
        income_code_id=income_code_id,
        purchase_order=purchase_order,
        lines=invoice_lines,
    )
    db.session.add(invoice)
    db.session.flush()
    _add_entry(
        account,
        EntryKind.INVOICE,
        invoice.total_pence,
        actor,
        invoice_id=invoice.id,
        effective_date=issue_date,
    )
    record_timeline(
        account.id, actor, f"Invoice {number} raised for {format_gbp(invoice.total_pence)}"
    )
    record_audit(
        actor,
        "invoice.raised",
        "invoice",
        invoice.id,
        account_id=account.id,
        after={"number": number, "total_pence": invoice.total_pence},
    )
    return invoice


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
