"""Late Payment Act charges on overdue commercial debts of organisations.

Each charge is posted as an invoice of its own ("LPC" numbers), naming the debt it
is charged on, through the ledger's post_invoice: a debit with its reason, so
balances, allocation, statements, aged debt and reconciliation treat it as any
debt. Per debt: the fixed compensation once, and interest from the day after the
due date to the charge date, posted for the days since the last interest posting,
one charge per half year (each half year has one reference rate, and a charge
records the base rate it used). Interest follows what was outstanding each day: an
allocation reduces the debt from the day after its credit's effective date (the
payment date, so the day of payment is charged, as the Act counts days late). Days
in Breathing Space are never charged, nor is anything posted while the account is
in it. A charge is never charged on, and each has a dedupe key, so a repeated run
posts nothing twice.

Set-based reads: one query decides eligibility for a chunk of invoices, then one
each reads the charges already posted, the allocations and the Breathing Space
holds; only the postings are row by row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from shared.domain import late_payment as rules
from shared.domain.vat import VatRate
from shared.extensions import db
from shared.models import (
    AccountHold,
    Allocation,
    DebtorAccount,
    DebtorKind,
    Invoice,
    LatePaymentCharge,
    LedgerEntry,
    ServiceDepartment,
)
from shared.models.holds import HoldKind
from shared.models.legal import ChargeKind
from shared.money import format_gbp
from shared.services import numbering
from shared.services.actors import Actor
from shared.services.history import record_audit
from shared.services.ledger import LineInput, post_invoice
from shared.services.legal import base_rates
from shared.services.unit_of_work import use_case

CHUNK = 500  # invoices read per query
SEQUENCE = "late_payment_charge"  # document_sequences row seeded by migration 0027
PREFIX = "LPC"


@dataclass(frozen=True)
class ChargeSummary:
    compensation_count: int
    interest_count: int
    total_pence: int
    by_invoice: dict[int, int]  # debt invoice id -> pence charged on it by this call
    skipped: dict[int, str] = field(default_factory=dict)  # invoice id -> why not charged


@dataclass(frozen=True)
class _Debt:
    id: int
    number: str
    account_id: int
    department_id: int
    income_code_id: int | None
    due_date: date
    total_pence: int
    breathing_space: tuple[date, date] | None  # the account's own dates, if any


@dataclass(frozen=True)
class _Planned:
    debt: _Debt
    kind: ChargeKind
    amount_pence: int
    dedupe_key: str
    interest: rules.InterestSlice | None = None


def _d(day: date) -> str:
    return f"{day:%-d %B %Y}"


def _eligibility_query(ids: list[int], on: date):
    allocated = (
        sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0))
        .where(Allocation.invoice_id == Invoice.id)
        .correlate(Invoice)
        .scalar_subquery()
    )
    hold_in_force = (
        sa.select(AccountHold.id)
        .where(
            AccountHold.account_id == Invoice.account_id,
            AccountHold.kind == HoldKind.BREATHING_SPACE,
            AccountHold.lifted_at.is_(None),
            AccountHold.starts_on <= on,
            sa.or_(AccountHold.expires_on.is_(None), AccountHold.expires_on >= on),
            sa.or_(AccountHold.invoice_id.is_(None), AccountHold.invoice_id == Invoice.id),
        )
        .correlate(Invoice)
        .exists()
    )
    account_space = sa.and_(
        DebtorAccount.breathing_space_type.is_not(None),
        DebtorAccount.breathing_space_start <= on,
        sa.or_(
            DebtorAccount.breathing_space_end.is_(None), DebtorAccount.breathing_space_end >= on
        ),
    )
    return (
        sa.select(
            Invoice.id,
            Invoice.number,
            Invoice.account_id,
            Invoice.department_id,
            Invoice.income_code_id,
            Invoice.due_date,
            Invoice.total_pence,
            Invoice.charge_on_invoice_id,
            DebtorAccount.kind,
            DebtorAccount.breathing_space_start,
            DebtorAccount.breathing_space_end,
            ServiceDepartment.is_commercial,
            (Invoice.total_pence - allocated).label("outstanding"),
            sa.or_(account_space, hold_in_force).label("in_space"),
        )
        .join(DebtorAccount, DebtorAccount.id == Invoice.account_id)
        .join(ServiceDepartment, ServiceDepartment.id == Invoice.department_id)
        .where(Invoice.id.in_(ids))
        .order_by(Invoice.id)
    )


def _eligible(ids: list[int], on: date, skipped: dict[int, str]) -> list[_Debt]:
    debts = []
    for r in db.session.execute(_eligibility_query(ids, on)):
        reason = rules.eligibility(
            rules.ChargeFacts(
                organisation=r.kind == DebtorKind.ORGANISATION,
                commercial=bool(r.is_commercial),
                is_charge=r.charge_on_invoice_id is not None,
                in_breathing_space=bool(r.in_space),
                due_date=r.due_date,
                outstanding_pence=int(r.outstanding),
            ),
            on,
        )
        if reason is not None:
            skipped[r.id] = reason
            continue
        space = None
        if r.breathing_space_start is not None:
            space = (r.breathing_space_start, r.breathing_space_end or on)
        debts.append(
            _Debt(
                r.id,
                r.number,
                r.account_id,
                r.department_id,
                r.income_code_id,
                r.due_date,
                int(r.total_pence),
                space,
            )
        )
    return debts


def _lock_accounts(account_ids: set[int]) -> None:
    """Every account's row lock, in id order (two runs never deadlock), before reading
    what is already charged: a second run waits here, then sees the first's charges."""
    db.session.execute(
        sa.select(DebtorAccount.id)
        .where(DebtorAccount.id.in_(sorted(account_ids)))
        .order_by(DebtorAccount.id)
        .with_for_update()
    ).all()


def _already_charged(ids: list[int]) -> tuple[set[str], dict[int, date]]:
    """(dedupe keys posted, the last day of interest posted per invoice)."""
    keys: set[str] = set()
    last: dict[int, date] = {}
    rows = db.session.execute(
        sa.select(
            LatePaymentCharge.invoice_id,
            LatePaymentCharge.dedupe_key,
            LatePaymentCharge.interest_to,
        ).where(LatePaymentCharge.invoice_id.in_(ids))
    )
    for invoice_id, key, interest_to in rows:
        keys.add(key)
        if interest_to is not None and interest_to > last.get(invoice_id, date.min):
            last[invoice_id] = interest_to
    return keys, last


def _outstanding_steps(debts: list[_Debt]) -> dict[int, list[tuple[date, int]]]:
    """Per invoice, what it owed from each day on: its total, less each allocation from
    the day after its credit's effective date (a reversed payment's negative
    allocation restores the debt as if it had never been paid)."""
    moves: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    rows = db.session.execute(
        sa.select(Allocation.invoice_id, LedgerEntry.effective_date, Allocation.amount_pence)
        .join(LedgerEntry, LedgerEntry.id == Allocation.credit_entry_id)
        .where(Allocation.invoice_id.in_([d.id for d in debts]))
    )
    for invoice_id, effective, amount in rows:
        moves[invoice_id][effective + timedelta(days=1)] += int(amount)
    steps = {}
    for debt in debts:
        owed = debt.total_pence
        row = [(date.min, owed)]
        for day in sorted(moves[debt.id]):
            owed -= moves[debt.id][day]
            row.append((day, owed))
        steps[debt.id] = row
    return steps


def _breathing_spaces(debts: list[_Debt], on: date) -> dict[int, list[tuple[date, date]]]:
    """Per invoice, every span of Breathing Space that covered it (from the holds, lifted
    ones too, to the day lifted, and the account's own dates): never charged."""
    by_account: dict[int, list[tuple[int | None, date, date]]] = defaultdict(list)
    rows = db.session.execute(
        sa.select(
            AccountHold.account_id,
            AccountHold.invoice_id,
            AccountHold.starts_on,
            AccountHold.expires_on,
            AccountHold.lifted_at,
        ).where(
            AccountHold.account_id.in_({d.account_id for d in debts}),
            AccountHold.kind == HoldKind.BREATHING_SPACE,
        )
    )
    for account_id, invoice_id, starts, expires, lifted_at in rows:
        ends = min(d for d in (expires, lifted_at.date() if lifted_at else None, on) if d)
        by_account[account_id].append((invoice_id, starts, ends))
    spans = {}
    for debt in debts:
        found = [(s, e) for inv, s, e in by_account[debt.account_id] if inv in (None, debt.id)]
        if debt.breathing_space is not None:
            found.append(debt.breathing_space)
        spans[debt.id] = found
    return spans


def _plan(debt, on, keys, last, steps, spaces, periods, skipped) -> list[_Planned]:
    planned = []
    key = f"lpa-comp-{debt.id}"
    if key not in keys:
        amount = rules.compensation_pence(debt.total_pence)
        planned.append(_Planned(debt, ChargeKind.COMPENSATION, amount, key))
    start = max(last.get(debt.id, date.min), debt.due_date) + timedelta(days=1)
    if steps[debt.id][-1][1] <= 0:
        return planned  # paid since the eligibility read: compensation is still due
    try:
        slices = rules.interest_pence(steps[debt.id], start, on, periods, excluded=spaces[debt.id])
    except rules.NoReferenceRate as exc:
        skipped[debt.id] = f"No interest: {exc}"
        return planned
    for piece in slices:
        key = f"lpa-int-{debt.id}-{piece.end:%Y%m%d}"
        if piece.pence > 0 and key not in keys:
            planned.append(_Planned(debt, ChargeKind.INTEREST, piece.pence, key, piece))
    return planned


def _post(planned: _Planned, number: str, on: date, actor: Actor) -> None:
    debt, amount = planned.debt, planned.amount_pence
    piece = planned.interest
    if piece is None:
        description = f"Late Payment Act fixed compensation on {debt.number}"
        summary = f"Late Payment Act compensation of {format_gbp(amount)} added to {debt.number}"
    else:
        rate = rules.percent_words(piece.rate_bp)
        description = (
            f"Late Payment Act interest on {debt.number} from {_d(piece.start)} "
            f"to {_d(piece.end)} at {rate}"
        )
        summary = (
            f"Late Payment Act interest of {format_gbp(amount)} added to {debt.number} "
            f"({_d(piece.start)} to {_d(piece.end)}, {piece.days} days at {rate})"
        )
    charge = post_invoice(
        account_id=debt.account_id,
        department_id=debt.department_id,
        number=number,
        issue_date=on,
        due_date=on,
        description=description,
        lines=[LineInput(description, 1, amount, VatRate.OUTSIDE_SCOPE)],
        actor=actor,
        # Booked where the debt's income is; a separate interest code is not kept yet.
        income_code_id=debt.income_code_id,
        charge_on_invoice_id=debt.id,
        reason=description,
        summary=f"{summary} (charge {number})",
    )
    row = LatePaymentCharge(
        invoice_id=debt.id,
        charge_invoice_id=charge.id,
        kind=planned.kind,
        amount_pence=amount,
        interest_from=piece.start if piece else None,
        interest_to=piece.end if piece else None,
        base_rate_basis_points=piece.reference_bp if piece else None,
        dedupe_key=planned.dedupe_key,
        created_by_staff_id=actor.staff_id,
    )
    db.session.add(row)
    # Named by its dedupe key, not its id: no flush per charge (the next post flushes it).
    record_audit(
        actor,
        f"late_payment.{planned.kind.value}",
        "late_payment_charge",
        planned.dedupe_key,
        account_id=debt.account_id,
        after={
            "invoice": debt.number,
            "charge_invoice": number,
            "amount_pence": amount,
            "interest_from": piece.start.isoformat() if piece else None,
            "interest_to": piece.end.isoformat() if piece else None,
            "days": piece.days if piece else None,
            "base_rate_basis_points": piece.reference_bp if piece else None,
        },
    )


def post_charges(on: date, invoice_ids: Sequence[int], actor: Actor) -> ChargeSummary:
    """charge_invoices' work in the caller's transaction (a dunning run posts the
    charges with its stage moves): no commit."""
    ids = sorted(set(invoice_ids))
    skipped: dict[int, str] = {}
    by_invoice: dict[int, int] = defaultdict(int)
    counts = {ChargeKind.COMPENSATION: 0, ChargeKind.INTEREST: 0}
    periods = base_rates.periods()
    for chunk_start in range(0, len(ids), CHUNK):
        debts = _eligible(ids[chunk_start : chunk_start + CHUNK], on, skipped)
        if not debts:
            continue
        _lock_accounts({d.account_id for d in debts})
        keys, last = _already_charged([d.id for d in debts])
        steps = _outstanding_steps(debts)
        spaces = _breathing_spaces(debts, on)
        planned = [
            item
            for debt in debts
            for item in _plan(debt, on, keys, last, steps, spaces, periods, skipped)
        ]
        numbers = numbering.next_numbers(SEQUENCE, PREFIX, Invoice.number, len(planned))
        for item, number in zip(planned, numbers, strict=True):
            _post(item, number, on, actor)
            by_invoice[item.debt.id] += item.amount_pence
            counts[item.kind] += 1
    return ChargeSummary(
        compensation_count=counts[ChargeKind.COMPENSATION],
        interest_count=counts[ChargeKind.INTEREST],
        total_pence=sum(by_invoice.values()),
        by_invoice=dict(by_invoice),
        skipped=skipped,
    )


@use_case
def charge_invoices(on: date, invoice_ids: Sequence[int], actor: Actor) -> ChargeSummary:
    """Post the Late Payment Act compensation and interest due on `on` for these
    invoices (those not eligible are skipped with a reason), once each; commits."""
    summary = post_charges(on, invoice_ids, actor)
    db.session.commit()
    return summary
