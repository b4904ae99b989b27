"""Raising an invoice: its lines with VAT at the rate in force on the tax point, and
the debit on the account.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa

from shared.domain.vat import vat_at
from shared.extensions import db
from shared.models import (
    EntryKind,
    Invoice,
    InvoiceLine,
    ServiceDepartment,
)
from shared.money import format_gbp
from shared.services import vat_rates
from shared.services.actors import Actor
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.ledger._core import LineInput, _add_entry, lock_account
from shared.services.unit_of_work import use_case


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
    charge_on_invoice_id: int | None = None,
    reason: str | None = None,
    summary: str | None = None,
) -> Invoice:
    """raise_invoice's work without the commit, for use cases that issue an invoice
    together with other changes in one transaction (issuing a checked draft).
    `raised_by_staff_id` is who raised it when that is not the actor posting it. A
    Late Payment Act charge names the debt (`charge_on_invoice_id`), gives its ledger
    entry a `reason` and its own timeline `summary`."""
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
        charge_on_invoice_id=charge_on_invoice_id,
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
        reason=reason,
    )
    record_timeline(
        account.id,
        actor,
        summary or f"Invoice {number} raised for {format_gbp(invoice.total_pence)}",
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
