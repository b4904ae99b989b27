"""Which overdue invoices a dunning run moves, and why the rest stay: set-based SQL.

One query finds every open invoice (outstanding = total - allocations > 0; Late
Payment charge invoices excluded) whose department has a policy and whose next
automatic stage is due on the run date, with every fact a skip depends on (holds,
Breathing Space, plans, Direct Debit, a Letter of Claim reply, the department total
for the minimum, an earlier move to the stage) as columns of the same row: what each
invoice owes and what the account owes each department are aggregates joined once
(hash joins), the small fact tables uncorrelated IN lists hashed once. The
policies' ladders go into the query as a small derived table (one row per department
and stage a debt can be at), so the database joins rather than Python looping. The
classifying is shared.domain.dunning.skip_reason over those rows (tuples, never ORM
objects). Works on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from shared.domain import dunning as rules
from shared.domain.limitation import ONE_DAY, earliest_running_start
from shared.extensions import db
from shared.models import (
    LIVE_COLLECTION_STATUSES,
    LIVE_MANDATE_STATUSES,
    AccountHold,
    Allocation,
    Arrangement,
    ArrangementDebt,
    DebtorAccount,
    DunningMove,
    DunningPolicy,
    Invoice,
    LetterOfClaim,
    Mandate,
    ServiceDepartment,
)
from shared.models import (
    Collection as DDCollection,
)
from shared.models.plans import LIVE_ARRANGEMENT_STATUSES

# Far enough ahead to mean "no gap to keep" in the ladder table (a NULL there would
# make PostgreSQL guess the column's type).
_NO_GAP = datetime(9999, 12, 31)


@dataclass(frozen=True)
class Policy:
    department_id: int
    department_name: str
    minimum_balance_pence: int
    automatic: bool
    stages: dict[str, rules.StageRule]  # by stage


@dataclass(frozen=True)
class Candidate:
    """A due invoice with what the run decided for it (`reason` None: it moves)."""

    move: rules.Move
    reason: str | None


def load_policies(departments: Collection[int] | None = None) -> dict[int, Policy]:
    """Every department's policy (or those of `departments`), by department id."""
    query = (
        sa.select(DunningPolicy, ServiceDepartment.name)
        .join(ServiceDepartment, ServiceDepartment.id == DunningPolicy.department_id)
        .options(sa.orm.selectinload(DunningPolicy.stages))
        .order_by(DunningPolicy.department_id)
    )
    if departments is not None:
        query = query.where(DunningPolicy.department_id.in_(list(departments)))
    found: dict[int, Policy] = {}
    for policy, name in db.session.execute(query):
        found[policy.department_id] = Policy(
            policy.department_id,
            name,
            policy.minimum_balance_pence,
            policy.automatic,
            {
                s.stage.value: rules.StageRule(
                    s.stage.value, s.days_after_due, tuple(s.channels or ()), s.template_key
                )
                for s in policy.stages
            },
        )
    return found


def automatic_department_ids() -> set[int]:
    """The departments whose policy says the daily scheduled run moves their debts."""
    return set(
        db.session.scalars(
            sa.select(DunningPolicy.department_id).where(DunningPolicy.automatic.is_(True))
        )
    )


def _ladder(policies: dict[int, Policy], on: date):
    """One row per (department, stage a debt is at) a run may move a debt from."""
    selects = []
    for policy in policies.values():
        for step in rules.steps_for(list(policy.stages.values()), on):
            moved_before = (
                datetime.combine(step.moved_by + timedelta(days=1), time())
                if step.moved_by
                else _NO_GAP
            )
            selects.append(
                sa.select(
                    sa.literal(policy.department_id, sa.Integer).label("department_id"),
                    sa.literal(step.from_stage, sa.String).label("from_stage"),
                    sa.literal(step.to_stage, sa.String).label("to_stage"),
                    sa.literal(step.due_by, sa.Date).label("due_by"),
                    sa.literal(moved_before, sa.DateTime).label("moved_before"),
                    sa.literal(policy.minimum_balance_pence, sa.Integer).label("minimum_pence"),
                )
            )
    if not selects:
        return None
    return (selects[0] if len(selects) == 1 else sa.union_all(*selects)).subquery("ladder")


def _paid():
    """What is allocated to each invoice (one aggregate, hash-joined)."""
    return (
        sa.select(Allocation.invoice_id, sa.func.sum(Allocation.amount_pence).label("pence"))
        .group_by(Allocation.invoice_id)
        .subquery("paid")
    )


def _open(department_ids: Collection[int]):
    """Every invoice of the policies' departments (charges too) with what it still owes."""
    paid = _paid()
    return (
        sa.select(
            Invoice.id,
            Invoice.account_id,
            Invoice.department_id,
            Invoice.number,
            Invoice.due_date,
            Invoice.recovery_stage,
            Invoice.recovery_stage_at,
            Invoice.charge_on_invoice_id,
            (Invoice.total_pence - sa.func.coalesce(paid.c.pence, 0)).label("outstanding"),
        )
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .where(Invoice.department_id.in_(sorted(department_ids)))
        .cte("open_invoices")  # read twice: PostgreSQL computes it once
    )


def _plan_settings() -> None:
    """For this transaction on PostgreSQL: no JIT (it compiled the selection for 2.6 s
    of 3.5 s at 20k debtors) and no nested loops (the ladder's literal rows make the
    planner expect a handful of due invoices, and it then re-ran the per-department
    totals once per ladder row: 3.3 s instead of well under 1 s on the go-live day)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL jit = off"))
        db.session.execute(sa.text("SET LOCAL enable_nestloop = off"))


def due_rows(on: date, policies: dict[int, Policy], *, after_account_id: int = 0):
    """Every invoice due to move on `on` (accounts after a cursor), with every fact a skip
    depends on, as plain rows in (account, due date, id) order: ONE set-based query.
    What each invoice owes and what the account owes each department are aggregates
    joined once (hash joins), not subqueries run per invoice."""
    ladder = _ladder(policies, on)
    if ladder is None:
        return []
    _plan_settings()
    o = _open(policies)
    owed = (
        sa.select(o.c.account_id, o.c.department_id, sa.func.sum(o.c.outstanding).label("pence"))
        .where(o.c.account_id > after_account_id)
        .group_by(o.c.account_id, o.c.department_id)
        .cte("owed")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    a = DebtorAccount
    query = (
        sa.select(
            o.c.id,
            o.c.account_id,
            o.c.department_id,
            o.c.number,
            o.c.due_date,
            o.c.recovery_stage,
            ladder.c.to_stage,
            o.c.outstanding,
            a.deceased,
            _in_breathing_space(on).label("in_breathing_space"),
            _hold_rank(on, o.c.id, o.c.account_id).label("hold_rank"),
            _in_plan(o.c.id).label("in_plan"),
            _direct_debit(o.c.id, o.c.account_id).label("direct_debit"),
            _claim_reply(o.c.account_id).label("claim_reply"),
            owed.c.pence.label("department_outstanding"),
            ladder.c.minimum_pence,
            (DunningMove.id.is_not(None)).label("already_at_stage"),
        )
        .select_from(o)
        .join(
            ladder,
            sa.and_(
                ladder.c.department_id == o.c.department_id,
                ladder.c.from_stage == o.c.recovery_stage,
            ),
        )
        .join(a, a.id == o.c.account_id)
        .join(
            owed,
            sa.and_(owed.c.account_id == o.c.account_id, owed.c.department_id == o.c.department_id),
        )
        .outerjoin(
            DunningMove,
            sa.and_(DunningMove.invoice_id == o.c.id, DunningMove.to_stage == ladder.c.to_stage),
        )
        .where(
            o.c.charge_on_invoice_id.is_(None),
            o.c.due_date <= ladder.c.due_by,
            sa.or_(o.c.recovery_stage_at.is_(None), o.c.recovery_stage_at < ladder.c.moved_before),
            o.c.outstanding > 0,
            o.c.account_id > after_account_id,
        )
        .order_by(o.c.account_id, o.c.due_date, o.c.id)
    )
    # Core rows as plain tuples (the ORM's result machinery doubled the fetch time).
    return [tuple(r) for r in db.session.connection().execute(query)]


def candidates(
    on: date, policies: dict[int, Policy], *, after_account_id: int = 0
) -> list[Candidate]:
    """Every invoice due to move on `on` (of accounts after a cursor), each with the one
    reason it stays where it is, or none."""
    rows = due_rows(on, policies, after_account_id=after_account_id)
    # Only a debt due before the limitation cut-off can be statute-barred: F2's check
    # (which aggregates the whole ledger) runs for those alone, and not at all if none.
    cutoff = earliest_running_start(on) - ONE_DAY
    barred = statute_barred([r[0] for r in rows if r[4] < cutoff], on)
    return [_candidate(r, barred) for r in rows]


def _candidate(row: tuple, barred: set[int]) -> Candidate:
    (
        invoice_id,
        account_id,
        department_id,
        number,
        due_date,
        stage,
        to_stage,
        outstanding,
        deceased,
        in_breathing_space,
        hold_rank,
        in_plan,
        direct_debit,
        claim_reply,
        department_outstanding,
        minimum_pence,
        already_at_stage,
    ) = row
    move = rules.Move(
        invoice_id,
        account_id,
        department_id,
        number,
        due_date,
        getattr(stage, "value", stage),
        to_stage,
        int(outstanding),
    )
    facts = rules.Facts(
        bool(deceased),
        bool(in_breathing_space),
        None if hold_rank is None else int(hold_rank),
        bool(in_plan),
        bool(direct_debit),
        bool(claim_reply),
        invoice_id in barred,
        int(department_outstanding or 0),
        int(minimum_pence),
        bool(already_at_stage),
    )
    return Candidate(move, rules.skip_reason(facts))


def recheck(on: date, moves: Sequence[rules.Move]) -> dict[int, tuple[str | None, int]]:
    """For a chunk about to be written (selected at the start of the run): each
    invoice's (skip reason or None, outstanding now), re-read in one indexed query.
    An invoice moved by someone else or paid since is left out (no longer due); a hold,
    Breathing Space or death recorded since gives its skip reason."""
    if not moves:
        return {}
    a = DebtorAccount
    allocated = (
        sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0))
        .where(Allocation.invoice_id == Invoice.id)
        .correlate(Invoice)
        .scalar_subquery()
    )
    expected = {m.invoice_id: m.from_stage for m in moves}
    found: dict[int, tuple[str | None, int]] = {}
    ids = sorted(expected)
    for start in range(0, len(ids), 5000):
        rows = db.session.execute(
            sa.select(
                Invoice.id,
                Invoice.recovery_stage,
                (Invoice.total_pence - allocated).label("outstanding"),
                a.deceased,
                _in_breathing_space(on).label("in_breathing_space"),
                _hold_rank(on, Invoice.id, Invoice.account_id).label("hold_rank"),
            )
            .join(a, a.id == Invoice.account_id)
            .where(Invoice.id.in_(ids[start : start + 5000]))
        )
        for r in rows:
            stage = getattr(r.recovery_stage, "value", r.recovery_stage)
            if stage != expected[r.id] or r.outstanding <= 0:
                continue
            rank = None if r.hold_rank is None else int(r.hold_rank)
            reason = None
            if r.deceased or r.in_breathing_space or rank is not None:
                reason = rules.skip_reason(
                    rules.Facts(
                        bool(r.deceased),
                        bool(r.in_breathing_space),
                        rank,
                        False,
                        False,
                        False,
                        False,
                        0,
                        0,
                        False,
                    )
                )
            found[r.id] = (reason, int(r.outstanding))
    return found


def statute_barred(invoice_ids: Sequence[int], on: date) -> set[int]:
    """The invoices among `invoice_ids` that are statute-barred on `on` (helper F2's
    set-based shared.services.legal.limitation)."""
    if not invoice_ids:
        return set()
    from shared.services.legal.limitation import statute_barred_invoice_ids

    return set(statute_barred_invoice_ids(on, list(invoice_ids)))


# --- the facts, each a correlated column of the candidate row ----------------------------


def _in_breathing_space(on: date):
    a = DebtorAccount
    return sa.and_(
        a.breathing_space_type.is_not(None),
        a.breathing_space_start.is_not(None),
        a.breathing_space_start <= on,
        sa.or_(a.breathing_space_end.is_(None), a.breathing_space_end >= on),
    )


def _hold_rank(on: date, invoice_id, account_id):
    """The lowest rank (shared.domain.dunning.HOLD_RANKS) of the holds in force on `on`
    covering the invoice (placed on it, or on the whole account): an index lookup per
    due invoice (holds are few)."""
    h = AccountHold
    rank = sa.case(
        *((h.kind == kind, value) for kind, value in rules.HOLD_RANKS.items()), else_=None
    )
    return (
        sa.select(sa.func.min(rank))
        .where(
            h.account_id == account_id,
            sa.or_(h.invoice_id.is_(None), h.invoice_id == invoice_id),
            h.lifted_at.is_(None),
            h.starts_on <= on,
            sa.or_(h.expires_on.is_(None), h.expires_on >= on),
        )
        .scalar_subquery()
    )


# The facts below are uncorrelated IN lists: PostgreSQL hashes each once (their tables
# are small), rather than probing them for every due invoice.


def _in_plan(invoice_id):
    return invoice_id.in_(
        sa.select(ArrangementDebt.invoice_id)
        .join(Arrangement, Arrangement.id == ArrangementDebt.arrangement_id)
        .where(Arrangement.status.in_(LIVE_ARRANGEMENT_STATUSES))
    )


def _direct_debit(invoice_id, account_id):
    """A live collection of the invoice, or a live mandate collecting the account's
    invoices (and not stopped, e.g. by a disputed advance notice)."""
    collection = invoice_id.in_(
        sa.select(DDCollection.invoice_id).where(DDCollection.status.in_(LIVE_COLLECTION_STATUSES))
    )
    mandate = account_id.in_(
        sa.select(Mandate.account_id).where(
            Mandate.collects_invoices.is_(True),
            Mandate.status.in_(LIVE_MANDATE_STATUSES),
            Mandate.collections_stopped_reason.is_(None),
        )
    )
    return sa.or_(collection, mandate)


def _claim_reply(account_id):
    return account_id.in_(
        sa.select(LetterOfClaim.account_id).where(
            LetterOfClaim.reply_received_on.is_not(None),
            LetterOfClaim.reply_resolved_on.is_(None),
        )
    )


def account_balances(account_ids: Iterable[int]) -> dict[int, int]:
    """Each account's balance (the sum of its ledger), one query per 1,000 accounts."""
    from shared.models import LedgerEntry

    ids = sorted(set(account_ids))
    found: dict[int, int] = {}
    for start in range(0, len(ids), 1000):
        rows = db.session.execute(
            sa.select(LedgerEntry.account_id, sa.func.sum(LedgerEntry.amount_pence))
            .where(LedgerEntry.account_id.in_(ids[start : start + 1000]))
            .group_by(LedgerEntry.account_id)
        )
        found.update({account_id: int(total or 0) for account_id, total in rows})
    return found
