"""What the portal reads about plans: the debts a plan could cover, what a proposal
would be (its schedule and what policy would say), the debtor's own plans and their
unsent income and expenditure draft. Nothing here changes anything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from shared import clock
from shared.domain import plan_policy, schedules
from shared.domain.income_expenditure import IncomeExpenditureError, Statement
from shared.extensions import db
from shared.models import (
    Allocation,
    Arrangement,
    ArrangementDebt,
    ArrangementStatus,
    Frequency,
    IncomeExpenditureStatement,
    Invoice,
)
from shared.models.invoices import RecoveryStage
from shared.services.errors import InvalidRequest
from shared.services.plans import policy, wording
from shared.services.plans._common import LIVE
from shared.services.plans.terms import Terms, check_start, schedule_for

LEGAL_STAGES = (RecoveryStage.REFERRED_LEGAL, RecoveryStage.REFERRED_ENFORCEMENT)


@dataclass(frozen=True)
class Debt:
    invoice_id: int
    number: str
    description: str
    department_id: int
    due_date: date
    outstanding_pence: int
    recovery_stage: RecoveryStage


@dataclass(frozen=True)
class Preview:
    """What a proposal would be: its schedule, and what policy would say."""

    debts: list[Debt]
    total_pence: int
    frequency: str
    schedule: list[schedules.ScheduledInstalment]
    outcome: str  # plan_policy.APPROVE or REFER
    rules: list[dict]  # every rule checked, per department
    needs_income_expenditure: bool
    needs_team_leader: bool

    @property
    def summary(self) -> str:
        return wording.schedule_words(self.schedule, self.frequency)


def plannable_debts(account_id: int) -> list[Debt]:
    """The account's invoices that owe something and are in no live plan, oldest first."""
    allocated = (
        sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0))
        .where(Allocation.invoice_id == Invoice.id)
        .correlate(Invoice)
        .scalar_subquery()
    )
    in_live_plan = (
        sa.select(ArrangementDebt.invoice_id)
        .join(Arrangement, Arrangement.id == ArrangementDebt.arrangement_id)
        .where(ArrangementDebt.invoice_id == Invoice.id, Arrangement.status.in_(LIVE))
        .correlate(Invoice)
        .exists()
    )
    outstanding = (Invoice.total_pence - allocated).label("outstanding")
    rows = db.session.execute(
        sa.select(
            Invoice.id,
            Invoice.number,
            Invoice.description,
            Invoice.department_id,
            Invoice.due_date,
            outstanding,
            Invoice.recovery_stage,
        )
        .where(Invoice.account_id == account_id, ~in_live_plan)
        .order_by(Invoice.due_date, Invoice.id)
    ).all()
    return [
        Debt(r[0], r[1], r[2], r[3], r[4], int(r[5]), RecoveryStage(r[6])) for r in rows if r[5] > 0
    ]


def _months_since_broken_plan(account_id: int, today: date) -> int | None:
    last_broken = db.session.scalar(
        sa.select(sa.func.max(Arrangement.ended_at)).where(
            Arrangement.account_id == account_id, Arrangement.status == ArrangementStatus.BROKEN
        )
    )
    if last_broken is None:
        return None
    # ended_at is a stored UTC timestamp; the months are counted in business days.
    broken_day = clock.london_day(last_broken) if isinstance(last_broken, datetime) else last_broken
    months = (today.year - broken_day.year) * 12 + (today.month - broken_day.month)
    if today.day < broken_day.day:
        months -= 1
    return max(months, 0)


def submitted_statement(statement_id: int | None, account_id: int) -> Statement | None:
    """The account's submitted I&E statement as the domain reads it, or None."""
    if statement_id is None:
        return None
    row = db.session.get(IncomeExpenditureStatement, statement_id)
    if row is None or row.account_id != account_id or row.submitted_at is None:
        raise InvalidRequest("That income and expenditure statement is not available")
    try:
        return Statement.from_amounts(row.items or {})
    except IncomeExpenditureError as exc:
        raise InvalidRequest(str(exc)) from None


def _chosen(account_id: int, invoice_ids: Sequence[int]) -> list[Debt]:
    available = {d.invoice_id: d for d in plannable_debts(account_id)}
    wanted = list(dict.fromkeys(int(i) for i in invoice_ids))
    if not wanted:
        raise InvalidRequest("Select at least one bill to include in the plan")
    missing = [i for i in wanted if i not in available]
    if missing:
        raise InvalidRequest(
            "One of the bills you chose is already paid or already in a payment plan"
        )
    return [available[i] for i in wanted]


def _evaluate(
    account_id: int,
    debts: list[Debt],
    schedule: list[schedules.ScheduledInstalment],
    frequency: str,
    statement: Statement | None,
    today: date,
) -> tuple[str, list[dict], bool, bool]:
    """Every department's rules: (outcome, rules, needs I&E, needs a team leader)."""
    total = sum(d.outstanding_pence for d in debts)
    proposal = plan_policy.Proposal.for_schedule(
        schedule,
        frequency,
        months_since_broken_plan=_months_since_broken_plan(account_id, today),
        legal_referral=any(d.recovery_stage in LEGAL_STAGES for d in debts),
        statement=statement,
    )
    policies = policy.rules_for([d.department_id for d in debts])
    e = plan_policy.evaluate(policies, proposal, total)
    return e.outcome, e.rules, e.needs_income_expenditure, e.needs_team_leader


def preview(
    account_id: int,
    invoice_ids: Sequence[int],
    terms: Terms,
    *,
    ie_statement_id: int | None = None,
    today: date | None = None,
) -> Preview:
    """The schedule and policy outcome a proposal would have; changes nothing."""
    today = today or clock.today()
    check_start(terms.start, today)
    debts = _chosen(account_id, invoice_ids)
    total = sum(d.outstanding_pence for d in debts)
    schedule = schedule_for(total, terms)
    statement = submitted_statement(ie_statement_id, account_id)
    frequency = Frequency(terms.frequency).value
    outcome, rules, needs_ie, needs_leader = _evaluate(
        account_id, debts, schedule, frequency, statement, today
    )
    return Preview(debts, total, frequency, schedule, outcome, rules, needs_ie, needs_leader)


def income_expenditure_needed(account_id: int, invoice_ids: Sequence[int]) -> bool:
    """Whether policy asks for an I&E statement for a plan covering these debts."""
    debts = _chosen(account_id, invoice_ids)
    total = sum(d.outstanding_pence for d in debts)
    return any(
        plan_policy.needs_income_expenditure(rules, total)
        for rules, _ in policy.rules_for([d.department_id for d in debts])
    )


def latest_draft(account_id: int) -> IncomeExpenditureStatement | None:
    """The account's unsent I&E draft, to carry on with."""
    return db.session.scalar(
        sa.select(IncomeExpenditureStatement)
        .where(
            IncomeExpenditureStatement.account_id == account_id,
            IncomeExpenditureStatement.submitted_at.is_(None),
        )
        .order_by(IncomeExpenditureStatement.id.desc())
        .limit(1)
    )


def debtor_plan(arrangement_id: int, account_ids: Sequence[int]) -> Arrangement | None:
    """A plan on one of these accounts (the signed-in login's), or None: anyone else's
    plan looks exactly like one that does not exist."""
    arrangement = db.session.get(Arrangement, arrangement_id)
    if arrangement is None or arrangement.account_id not in set(account_ids):
        return None
    return arrangement


def live_plan_covering(account_id: int, invoice_ids: Sequence[int]) -> Arrangement | None:
    """The live plan on the account that covers exactly these invoices, if any: what a
    repeated "Send" (a double click, a second tab) already made."""
    wanted = {int(i) for i in invoice_ids}
    if not wanted:
        return None
    # DISTINCT over ids only: PostgreSQL cannot compare the JSON columns.
    covering = (
        sa.select(ArrangementDebt.arrangement_id)
        .join(Arrangement, ArrangementDebt.arrangement_id == Arrangement.id)
        .where(
            Arrangement.account_id == account_id,
            Arrangement.status.in_(LIVE),
            ArrangementDebt.invoice_id.in_(wanted),
        )
        .distinct()
    )
    candidates = db.session.scalars(
        sa.select(Arrangement).where(Arrangement.id.in_(covering)).order_by(Arrangement.id.desc())
    ).all()
    for arrangement in candidates:
        if {d.invoice_id for d in arrangement.debts} == wanted:
            return arrangement
    return None
