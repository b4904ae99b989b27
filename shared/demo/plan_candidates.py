"""Reading the batch for the demo's plans (shared/demo/plans.py): the debtors who may be
offered a plan, with what they owe, and each department's plan policy."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from random import Random

import sqlalchemy as sa

from shared.demo.plan_values import (
    CANDIDATE_CHUNK,
    Candidate,
    Debt,
)
from shared.domain import plan_policy
from shared.extensions import db
from shared.models import (
    Allocation,
    Arrangement,
    ArrangementDebt,
    DebtorAccount,
    DebtorKind,
    Invoice,
    ServiceDepartment,
)
from shared.models.plans import LIVE_ARRANGEMENT_STATUSES
from shared.services.plans import policy

# --- reading the batch ------------------------------------------------------------------------


def load_policies() -> dict[int, tuple[plan_policy.PlanPolicy, int]]:
    """Each department's plan policy (the default where it has none) and its team-leader
    total, as the plans services read them when a plan is proposed."""
    return policy.department_rules(db.session.scalars(sa.select(ServiceDepartment.id)).all())


def in_live_plan() -> sa.Exists:
    """Whether the invoice of the enclosing query is in a live plan (correlated to Invoice)."""
    return (
        sa.select(ArrangementDebt.invoice_id)
        .join(Arrangement, Arrangement.id == ArrangementDebt.arrangement_id)
        .where(
            ArrangementDebt.invoice_id == Invoice.id,
            Arrangement.status.in_(LIVE_ARRANGEMENT_STATUSES),
        )
        .correlate(Invoice)
        .exists()
    )


def load_candidates(account_ids: Sequence[int]) -> dict[int, Candidate]:
    """The accounts among these that may be offered a plan, with what they owe."""
    accounts = dict(
        db.session.execute(
            sa.select(
                DebtorAccount.id,
                DebtorAccount.email.is_not(None) & ~DebtorAccount.vulnerable,
            ).where(
                DebtorAccount.id.in_(account_ids),
                DebtorAccount.kind == DebtorKind.PERSON,
                ~DebtorAccount.deceased,
                DebtorAccount.breathing_space_type.is_(None),
            )
        ).all()
    )
    if not accounts:
        return {}
    allocated = (
        sa.select(
            Allocation.invoice_id,
            sa.func.sum(Allocation.amount_pence).label("paid"),
            sa.func.max(Allocation.created_at).label("last"),
        )
        .join(Invoice, Invoice.id == Allocation.invoice_id)
        .where(Invoice.account_id.in_(list(accounts)))
        .group_by(Allocation.invoice_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            Invoice.id,
            Invoice.account_id,
            Invoice.department_id,
            Invoice.issue_date,
            Invoice.due_date,
            (Invoice.total_pence - sa.func.coalesce(allocated.c.paid, 0)).label("outstanding"),
            Invoice.recovery_stage,
            Invoice.recovery_stage_at,
            allocated.c.last,
        )
        .outerjoin(allocated, allocated.c.invoice_id == Invoice.id)
        .where(Invoice.account_id.in_(list(accounts)), ~in_live_plan())
        .order_by(Invoice.account_id, Invoice.due_date, Invoice.id)
    ).all()
    debts: dict[int, list[Debt]] = {account_id: [] for account_id in accounts}
    for r in rows:
        if r.outstanding <= 0:
            continue
        last = r.last
        if isinstance(last, str):  # SQLite hands MAX() of a timestamp back as text
            last = datetime.fromisoformat(last)
        debts[r.account_id].append(
            Debt(
                r.id,
                r.department_id,
                r.issue_date,
                r.due_date,
                int(r.outstanding),
                getattr(r.recovery_stage, "value", r.recovery_stage),
                r.recovery_stage_at.date() if r.recovery_stage_at else None,
                last.date() if last else None,
            )
        )
    return {
        account_id: Candidate(account_id, bool(accounts[account_id]), tuple(owed))
        for account_id, owed in debts.items()
        if owed
    }


def candidate_chunks(
    rng: Random, first_account_id: int, last_account_id: int
) -> Iterator[dict[int, Candidate]]:
    """The batch's accounts in a random order, a chunk of candidates at a time."""
    order = list(range(first_account_id, last_account_id + 1))
    rng.shuffle(order)
    for start in range(0, len(order), CANDIDATE_CHUNK):
        ids = order[start : start + CANDIDATE_CHUNK]
        found = load_candidates(ids)
        # Nothing of ours may hold a transaction open while the writer writes (SQLite).
        db.session.close()
        yield {account_id: found[account_id] for account_id in ids if account_id in found}
