"""How a credit (payment, credit note, write-off) is spread over invoices.

Pure functions: they see open invoices as (id, due date, outstanding) and the
value available, and return (invoice id, pence) pairs or refuse with a reason
a person can act on.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date


class AllocationError(ValueError):
    """The requested allocation is not possible; the message says why."""


@dataclass(frozen=True)
class OpenItem:
    invoice_id: int
    due_date: date
    outstanding_pence: int


def allocate_oldest_first(available_pence: int, items: Sequence[OpenItem]) -> list[tuple[int, int]]:
    """Settle the oldest-due invoices first; what is left over stays unallocated."""
    if available_pence < 0:
        raise AllocationError("Nothing to allocate: the amount available is negative")
    plan: list[tuple[int, int]] = []
    remaining = available_pence
    for item in sorted(items, key=lambda i: (i.due_date, i.invoice_id)):
        if remaining == 0:
            break
        if item.outstanding_pence <= 0:
            continue
        share = min(remaining, item.outstanding_pence)
        plan.append((item.invoice_id, share))
        remaining -= share
    return plan


def allocate_by_default(
    available_pence: int,
    items: Sequence[OpenItem],
    *,
    held: Collection[int] = frozenset(),
    in_plan: Collection[int] = frozenset(),
) -> list[tuple[int, int]]:
    """Where money goes when nobody chose: never to a held (disputed or queried) invoice;
    to the invoices of the debtor's payment plan first, oldest due first; then the rest,
    oldest due first. What is left over stays unallocated, as credit on the account."""
    open_items = [item for item in items if item.invoice_id not in held]
    plan = allocate_oldest_first(
        available_pence, [item for item in open_items if item.invoice_id in in_plan]
    )
    left = available_pence - sum(share for _, share in plan)
    return plan + allocate_oldest_first(
        left, [item for item in open_items if item.invoice_id not in in_plan]
    )


def check_explicit(
    available_pence: int,
    items: Sequence[OpenItem],
    requested: Sequence[tuple[int, int]],
) -> list[tuple[int, int]]:
    """Validate the payer's or officer's own choice of invoices and amounts.

    Each amount must be positive, the invoice must be open on this account and
    not be asked for more than it owes, and the total must fit what is available.
    """
    by_id = {item.invoice_id: item for item in items}
    seen: set[int] = set()
    total = 0
    plan: list[tuple[int, int]] = []
    for invoice_id, amount in requested:
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise AllocationError("Allocation amounts must be whole pence")
        if invoice_id in seen:
            raise AllocationError(f"Invoice {invoice_id} is listed more than once")
        seen.add(invoice_id)
        if amount <= 0:
            raise AllocationError("Each allocation must be more than £0")
        item = by_id.get(invoice_id)
        if item is None or item.outstanding_pence <= 0:
            raise AllocationError(f"Invoice {invoice_id} has nothing outstanding on this account")
        if amount > item.outstanding_pence:
            raise AllocationError(
                f"Invoice {invoice_id} has only {item.outstanding_pence}p outstanding, "
                f"not {amount}p"
            )
        total += amount
        plan.append((invoice_id, amount))
    if total > available_pence:
        raise AllocationError(
            f"Allocations total {total}p but only {available_pence}p is available"
        )
    return plan


def fit_to_outstanding(
    items: Sequence[OpenItem], requested: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The payer's choice, cut down to what each invoice still owes now.

    Used when money arrives for a choice made earlier (a card payment that
    cleared after a direct debit already paid part of an invoice): the money
    is kept, what no longer fits stays as credit on the account.
    """
    outstanding = {item.invoice_id: item.outstanding_pence for item in items}
    plan = []
    for invoice_id, amount in requested:
        share = min(amount, outstanding.get(invoice_id, 0))
        if share > 0:
            plan.append((invoice_id, share))
            outstanding[invoice_id] -= share
    return plan
