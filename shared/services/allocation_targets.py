"""What a default allocation needs to know about an account besides its open invoices:
which invoices are held from it (disputed or queried: shared/domain/holds.
held_from_allocation) and which are in the debtor's active payment plan (paid first).
Read inside the caller's transaction, under its account lock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa

from shared.domain import holds as hold_rules
from shared.extensions import db
from shared.models import AccountHold, Arrangement, ArrangementDebt, ArrangementStatus


def held_and_in_plan(
    account_id: int, invoice_ids: Iterable[int], on: date
) -> tuple[frozenset[int], frozenset[int]]:
    """(invoices a default allocation leaves alone, invoices of an active plan)."""
    invoice_ids = list(invoice_ids)
    rows = db.session.execute(
        sa.select(
            AccountHold.kind,
            AccountHold.invoice_id,
            AccountHold.starts_on,
            AccountHold.expires_on,
        ).where(
            AccountHold.account_id == account_id,
            AccountHold.lifted_at.is_(None),
            AccountHold.kind.in_(sorted(hold_rules.ALLOCATION_HOLDS)),
        )
    )
    held = hold_rules.held_from_allocation(
        (
            hold_rules.HoldInForce(kind.value, invoice_id, starts, ends)
            for kind, invoice_id, starts, ends in rows
        ),
        invoice_ids,
        on,
    )
    in_plan = frozenset(
        db.session.scalars(
            sa.select(ArrangementDebt.invoice_id)
            .join(Arrangement, Arrangement.id == ArrangementDebt.arrangement_id)
            .where(
                Arrangement.account_id == account_id,
                Arrangement.status == ArrangementStatus.ACTIVE,
            )
        )
    )
    return held, in_plan
