"""What a default allocation needs to know about an account besides its open invoices:
which invoices are held from it (disputed or queried: shared/domain/holds.
held_from_allocation) and which are in the debtor's active payment plan (paid first).
Read inside the caller's transaction, under its account lock."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa

from shared.domain import holds as hold_rules
from shared.extensions import db
from shared.models import AccountHold, Arrangement, ArrangementDebt, ArrangementStatus


def _allocation_holds(account_ids: list[int]):
    """(account, kind, invoice, starts, ends) of every unlifted hold a default allocation
    respects (disputes, queries), for these accounts."""
    return db.session.execute(
        sa.select(
            AccountHold.account_id,
            AccountHold.kind,
            AccountHold.invoice_id,
            AccountHold.starts_on,
            AccountHold.expires_on,
        ).where(
            AccountHold.account_id.in_(account_ids),
            AccountHold.lifted_at.is_(None),
            AccountHold.kind.in_(sorted(hold_rules.ALLOCATION_HOLDS)),
        )
    )


def allocation_holds(account_ids: Iterable[int]) -> dict[int, list[hold_rules.HoldInForce]]:
    """Per account, the holds a default allocation respects (for batch posting, which
    reads many accounts at once; callers pass a chunk of ids)."""
    found: dict[int, list[hold_rules.HoldInForce]] = defaultdict(list)
    for account_id, kind, invoice_id, starts, ends in _allocation_holds(list(account_ids)):
        found[account_id].append(hold_rules.HoldInForce(kind.value, invoice_id, starts, ends))
    return found


def held_and_in_plan(
    account_id: int, invoice_ids: Iterable[int], on: date
) -> tuple[frozenset[int], frozenset[int]]:
    """(invoices a default allocation leaves alone, invoices of an active plan)."""
    invoice_ids = list(invoice_ids)
    held = hold_rules.held_from_allocation(
        allocation_holds([account_id]).get(account_id, []), invoice_ids, on
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
