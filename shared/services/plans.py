"""Instalment plans: proposing, deciding, counter-offering, accepting and ending them.

Lifecycle: proposed -> (counter_offered) -> active -> completed | broken | cancelled.
A plan covers whole debts (each invoice's outstanding amount when proposed).
Policy (shared/domain/plan_policy.py, one row per service department in
plan_policies) approves a proposal automatically or refers it to an officer; it
never refuses. A plan covering debts of several departments must pass every
department's rules. Every outcome keeps the rules that decided it.

Each use case is one transaction: the change, its timeline entry, its audit row
and the notice to the debtor (an outbox row, by their preferred channel) commit
together. Decisions are conditional updates on the status, so a second click or
a second officer changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from shared.domain import plan_policy, schedules
from shared.domain.income_expenditure import IncomeExpenditureError, Statement
from shared.domain.permissions import Permission, role_has
from shared.extensions import db
from shared.models import (
    Allocation,
    Arrangement,
    ArrangementDebt,
    ArrangementStatus,
    DebtorAccount,
    Frequency,
    IncomeExpenditureStatement,
    Instalment,
    Invoice,
    PaymentRoute,
    PlanPolicy,
    ServiceDepartment,
    StaffUser,
)
from shared.models.base import utcnow
from shared.models.invoices import RecoveryStage
from shared.models.plans import LIVE_ARRANGEMENT_STATUSES
from shared.money import format_gbp
from shared.services import keyset, ledger
from shared.services.actors import Actor
from shared.services.errors import Forbidden, InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.notifications import Message, notify_debtor
from shared.services.unit_of_work import use_case

# A plan's first payment must fall within this many days of the day it is proposed.
START_WITHIN_DAYS = 30
# Statuses in which a plan holds its debts (no second plan may cover them).
LIVE = LIVE_ARRANGEMENT_STATUSES
LEGAL_STAGES = (RecoveryStage.REFERRED_LEGAL, RecoveryStage.REFERRED_ENFORCEMENT)
# Above this total a team leader decides, where a department has no policy row.
DEFAULT_TEAM_LEADER_ABOVE_PENCE = 300_000
FREQUENCY_WORDS = {
    Frequency.WEEKLY: "weekly",
    Frequency.FORTNIGHTLY: "fortnightly",
    Frequency.FOUR_WEEKLY: "every four weeks",
    Frequency.MONTHLY: "monthly",
}
AUDIT_OBJECT = "arrangement"


@dataclass(frozen=True)
class Terms:
    """How a plan is to be paid: exactly one of instalment_pence and count."""

    frequency: Frequency
    start: date
    instalment_pence: int | None = None
    count: int | None = None

    def as_dict(self) -> dict:
        return {
            "frequency": Frequency(self.frequency).value,
            "start": self.start.isoformat(),
            "instalment_pence": self.instalment_pence,
            "count": self.count,
        }


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
        return schedules.describe_schedule(self.schedule, self.frequency)


# --- reading ----------------------------------------------------------------------------------


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


def _policy_rows(department_ids: Sequence[int]) -> list[tuple[plan_policy.PlanPolicy, int]]:
    """Each department's policy (the default where it has none) and its team-leader total."""
    names = dict(
        db.session.execute(
            sa.select(ServiceDepartment.id, ServiceDepartment.name).where(
                ServiceDepartment.id.in_(department_ids)
            )
        ).all()
    )
    rows = {
        row.department_id: row
        for row in db.session.scalars(
            sa.select(PlanPolicy).where(PlanPolicy.department_id.in_(department_ids))
        )
    }
    policies = []
    for department_id in sorted(set(department_ids)):
        values = PolicyValues.of(rows.get(department_id))
        rules = {k: v for k, v in values.as_dict().items() if k != "team_leader_above_pence"}
        name = names.get(department_id, "this service")
        policies.append(
            (plan_policy.PlanPolicy(**rules, department=name), values.team_leader_above_pence)
        )
    return policies


def _months_since_broken_plan(account_id: int, today: date) -> int | None:
    last_broken = db.session.scalar(
        sa.select(sa.func.max(Arrangement.ended_at)).where(
            Arrangement.account_id == account_id, Arrangement.status == ArrangementStatus.BROKEN
        )
    )
    if last_broken is None:
        return None
    broken_day = last_broken.date() if isinstance(last_broken, datetime) else last_broken
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


def _build(total_pence: int, terms: Terms) -> list[schedules.ScheduledInstalment]:
    try:
        return schedules.build_schedule(
            total_pence,
            Frequency(terms.frequency).value,
            terms.start,
            instalment_pence=terms.instalment_pence,
            count=terms.count,
        )
    except schedules.ScheduleError as exc:
        raise InvalidRequest(str(exc)) from None


def _check_start(start: date, today: date) -> None:
    if start < today:
        raise InvalidRequest("The first payment date must be today or in the future")
    if start > today + timedelta(days=START_WITHIN_DAYS):
        raise InvalidRequest(
            f"The first payment date must be within {START_WITHIN_DAYS} days "
            f"(by {today + timedelta(days=START_WITHIN_DAYS):%-d %B %Y})"
        )


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
    policies = _policy_rows([d.department_id for d in debts])
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
    today = today or utcnow().date()
    _check_start(terms.start, today)
    debts = _chosen(account_id, invoice_ids)
    total = sum(d.outstanding_pence for d in debts)
    schedule = _build(total, terms)
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
        plan_policy.needs_income_expenditure(policy, total)
        for policy, _ in _policy_rows([d.department_id for d in debts])
    )


# --- proposing --------------------------------------------------------------------------------


def _write_instalments(arrangement: Arrangement, schedule) -> None:
    db.session.add_all(
        Instalment(
            arrangement_id=arrangement.id,
            sequence=i.sequence,
            due_date=i.due_date,
            amount_pence=i.amount_pence,
        )
        for i in schedule
    )


def _schedule_words(arrangement_or_terms, schedule) -> str:
    return schedules.describe_schedule(schedule, Frequency(arrangement_or_terms.frequency).value)


def _account(account_id: int) -> DebtorAccount:
    account = db.session.get(DebtorAccount, account_id)
    if account is None:
        raise NotFound(f"No account {account_id}")
    return account


def _first_payment_words(schedule) -> str:
    first = schedule[0]
    return f"{format_gbp(first.amount_pence)} on {first.due_date:%-d %B %Y}"


@use_case
def propose(
    *,
    account_id: int,
    invoice_ids: Sequence[int],
    terms: Terms,
    payment_route: PaymentRoute,
    actor: Actor,
    ie_statement_id: int | None = None,
    today: date | None = None,
) -> Arrangement:
    """Propose a plan (from the portal, or an officer on the debtor's behalf). Policy
    approves it at once, making it active, or refers it to the officers' queue."""
    today = today or utcnow().date()
    # The account lock serialises proposals, so two tabs cannot put one debt in two plans.
    account = ledger.lock_account(account_id)
    result = preview(account_id, invoice_ids, terms, ie_statement_id=ie_statement_id, today=today)
    if result.needs_income_expenditure and ie_statement_id is None:
        raise InvalidRequest(
            "Tell us about your income and spending before you send this plan: "
            "for a plan of this size we need it to check the plan is affordable"
        )
    arrangement = Arrangement(
        account_id=account.id,
        status=ArrangementStatus.PROPOSED,
        frequency=Frequency(terms.frequency),
        total_pence=result.total_pence,
        start_date=terms.start,
        payment_route=PaymentRoute(payment_route),
        proposed_by_portal_user_id=actor.id if actor.type.value == "portal_user" else None,
        created_by_staff_id=actor.staff_id,
        instalment_pence=terms.instalment_pence,
        instalment_count=terms.count,
        ie_statement_id=ie_statement_id,
        policy_outcome=result.outcome,
        policy_rules=result.rules,
        needs_team_leader=result.needs_team_leader,
    )
    db.session.add(arrangement)
    db.session.flush()
    db.session.add_all(
        ArrangementDebt(
            arrangement_id=arrangement.id,
            invoice_id=d.invoice_id,
            amount_pence=d.outstanding_pence,
            stage_at_start=d.recovery_stage.value,
        )
        for d in result.debts
    )
    _write_instalments(arrangement, result.schedule)
    words = _schedule_words(terms, result.schedule)
    failed = [r["explanation"] for r in result.rules if not r["passed"]]
    record_audit(
        actor,
        "plan.proposed",
        AUDIT_OBJECT,
        arrangement.id,
        account_id=account.id,
        after={
            "total_pence": result.total_pence,
            "terms": terms.as_dict(),
            "invoice_ids": [d.invoice_id for d in result.debts],
            "policy_outcome": result.outcome,
            "failed_rules": failed,
        },
    )
    if result.outcome == plan_policy.APPROVE and not result.needs_team_leader:
        record_timeline(
            account.id,
            actor,
            f"Payment plan of {format_gbp(result.total_pence)} set up: {words}",
            detail="Approved automatically: every policy rule passed",
        )
        _activate(arrangement, account, actor, decided_by=None, reason="Approved automatically")
    else:
        record_timeline(
            account.id,
            actor,
            f"Payment plan of {format_gbp(result.total_pence)} proposed: {words}",
            detail="Referred to an officer: " + ("; ".join(failed) or "a team leader must decide"),
        )
        notify_debtor(
            account,
            Message(
                template="plan_received",
                subject="We have your payment plan proposal",
                body=(
                    f"Thank you. We have your proposal to pay {format_gbp(result.total_pence)}: "
                    f"{words}.\n\nAn officer will look at it and we will tell you the outcome. "
                    "Until then, please keep to any payments already due."
                ),
                sms=(
                    f"We have your payment plan proposal ({format_gbp(result.total_pence)}). "
                    "An officer will look at it and we will tell you the outcome."
                ),
            ),
            dedupe_key=f"plan-received:{arrangement.id}",
        )
    db.session.commit()
    return arrangement


def _activate(
    arrangement: Arrangement,
    account: DebtorAccount,
    actor: Actor,
    *,
    decided_by: int | None,
    reason: str,
) -> None:
    """Proposed or counter-offered -> active, in the caller's transaction."""
    now = utcnow()
    arrangement.status = ArrangementStatus.ACTIVE
    arrangement.activated_at = now
    arrangement.decided_at = arrangement.decided_at or now
    arrangement.decided_by_staff_id = decided_by
    arrangement.decision_reason = arrangement.decision_reason or reason
    db.session.flush()
    schedule = db.session.scalars(
        sa.select(Instalment)
        .where(Instalment.arrangement_id == arrangement.id)
        .order_by(Instalment.sequence)
    ).all()
    words = _schedule_words(arrangement, schedule)
    how = (
        "by direct debit"
        if arrangement.payment_route == PaymentRoute.DIRECT_DEBIT
        else "by card: we will send you a reminder with a link to pay before each payment"
    )
    record_audit(
        actor,
        "plan.activated",
        AUDIT_OBJECT,
        arrangement.id,
        account_id=account.id,
        after={"status": ArrangementStatus.ACTIVE.value, "reason": reason},
    )
    notify_debtor(
        account,
        Message(
            template="plan_active",
            subject="Your payment plan is set up",
            body=(
                f"Your payment plan of {format_gbp(arrangement.total_pence)} is set up: "
                f"{words}.\n\nYour first payment is {_first_payment_words(schedule)}, {how}.\n\n"
                "While you keep to the plan we will not take further recovery action on the "
                "bills it covers. If you cannot make a payment, contact us straight away."
            ),
            sms=(
                f"Your payment plan is set up. First payment {_first_payment_words(schedule)}. "
                "Contact us straight away if you cannot pay."
            ),
        ),
        dedupe_key=f"plan-active:{arrangement.id}",
    )


# --- deciding (officers) ----------------------------------------------------------------------


def _staff(actor: Actor) -> StaffUser:
    staff = db.session.get(StaffUser, actor.staff_id) if actor.staff_id else None
    if staff is None:
        raise Forbidden("Only council staff can decide payment plans")
    return staff


def _check_decider(arrangement: Arrangement, staff: StaffUser) -> None:
    if not role_has(staff.role, Permission.DECIDE_PLANS):
        raise Forbidden("You cannot decide payment plans")
    if arrangement.needs_team_leader and not role_has(staff.role, Permission.APPROVE):
        raise Forbidden(
            f"A plan of {format_gbp(arrangement.total_pence)} must be decided by a team leader"
        )


def _arrangement(arrangement_id: int) -> Arrangement:
    arrangement = db.session.get(Arrangement, arrangement_id)
    if arrangement is None:
        raise NotFound(f"No payment plan {arrangement_id}")
    return arrangement


def _move(arrangement_id: int, from_: Sequence[ArrangementStatus], **values) -> bool:
    """A conditional status change: False when someone else changed it first."""
    result = db.session.execute(
        sa.update(Arrangement)
        .where(Arrangement.id == arrangement_id, Arrangement.status.in_(from_))
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _already(arrangement: Arrangement, wanted: ArrangementStatus) -> bool:
    """A repeated click: the plan is already where this decision would put it."""
    return arrangement.status == wanted


def _not_pending(arrangement: Arrangement) -> InvalidRequest:
    words = arrangement.status.value.replace("_", " ")
    return InvalidRequest(f"That plan is no longer waiting for a decision: it is {words}")


@use_case
def approve(*, arrangement_id: int, actor: Actor, note: str | None = None) -> Arrangement:
    """An officer approves a referred plan: it becomes active."""
    staff = _staff(actor)
    arrangement = _arrangement(arrangement_id)
    if _already(arrangement, ArrangementStatus.ACTIVE):
        return arrangement
    if arrangement.status != ArrangementStatus.PROPOSED:
        raise _not_pending(arrangement)
    _check_decider(arrangement, staff)
    if not _move(
        arrangement.id,
        [ArrangementStatus.PROPOSED],
        decided_by_staff_id=staff.id,
        decided_at=utcnow(),
        decision_reason=(note or "").strip() or "Approved by an officer",
    ):
        db.session.rollback()
        return _arrangement(arrangement_id)
    db.session.refresh(arrangement)
    account = _account(arrangement.account_id)
    record_timeline(
        account.id,
        actor,
        f"Payment plan of {format_gbp(arrangement.total_pence)} approved",
        detail=(note or "").strip() or None,
    )
    _activate(arrangement, account, actor, decided_by=staff.id, reason="Approved by an officer")
    db.session.commit()
    return arrangement


@use_case
def reject(*, arrangement_id: int, reason: str, actor: Actor) -> Arrangement:
    """An officer rejects a referred plan with a reason the debtor is told."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidRequest("Enter the reason, which the debtor will see")
    staff = _staff(actor)
    arrangement = _arrangement(arrangement_id)
    if arrangement.status == ArrangementStatus.CANCELLED and arrangement.decided_by_staff_id:
        return arrangement
    if arrangement.status != ArrangementStatus.PROPOSED:
        raise _not_pending(arrangement)
    _check_decider(arrangement, staff)
    now = utcnow()
    if not _move(
        arrangement.id,
        [ArrangementStatus.PROPOSED],
        status=ArrangementStatus.CANCELLED,
        decided_by_staff_id=staff.id,
        decided_at=now,
        decision_reason=reason,
        ended_at=now,
        end_reason=f"Rejected: {reason}",
    ):
        db.session.rollback()
        return _arrangement(arrangement_id)
    db.session.refresh(arrangement)
    account = _account(arrangement.account_id)
    record_timeline(
        account.id,
        actor,
        f"Payment plan of {format_gbp(arrangement.total_pence)} rejected",
        detail=reason,
    )
    record_audit(
        actor,
        "plan.rejected",
        AUDIT_OBJECT,
        arrangement.id,
        account_id=account.id,
        before={"status": ArrangementStatus.PROPOSED.value},
        after={"status": ArrangementStatus.CANCELLED.value, "reason": reason},
    )
    notify_debtor(
        account,
        Message(
            template="plan_rejected",
            subject="Your payment plan proposal",
            body=(
                "We cannot agree the payment plan you proposed.\n\n"
                f"Reason: {reason}\n\n"
                "You can propose a different plan from your account, or contact us to talk "
                "about what you can afford."
            ),
            sms=(
                "We cannot agree the payment plan you proposed. Sign in to your account to "
                "see why and to propose another, or contact us."
            ),
        ),
        dedupe_key=f"plan-rejected:{arrangement.id}",
    )
    db.session.commit()
    return arrangement


@use_case
def counter_offer(
    *, arrangement_id: int, terms: Terms, reason: str, actor: Actor, today: date | None = None
) -> Arrangement:
    """An officer offers different terms for the same debts; the debtor accepts or
    declines them in the portal. The debtor's own terms are kept."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidRequest("Enter why you are offering different terms (the debtor sees it)")
    today = today or utcnow().date()
    staff = _staff(actor)
    arrangement = _arrangement(arrangement_id)
    if arrangement.status != ArrangementStatus.PROPOSED:
        raise _not_pending(arrangement)
    _check_decider(arrangement, staff)
    _check_start(terms.start, today)
    schedule = _build(arrangement.total_pence, terms)
    original = {
        "frequency": arrangement.frequency.value,
        "start": arrangement.start_date.isoformat(),
        "instalment_pence": arrangement.instalment_pence,
        "count": arrangement.instalment_count,
    }
    now = utcnow()
    if not _move(
        arrangement.id,
        [ArrangementStatus.PROPOSED],
        status=ArrangementStatus.COUNTER_OFFERED,
        frequency=Frequency(terms.frequency),
        start_date=terms.start,
        instalment_pence=terms.instalment_pence,
        instalment_count=terms.count,
        original_terms=original,
        counter_offered_by_staff_id=staff.id,
        counter_offered_at=now,
        decision_reason=reason,
    ):
        db.session.rollback()
        raise _not_pending(_arrangement(arrangement_id))
    # The schedule is a plan's terms, not a financial record: the new terms replace it.
    db.session.execute(sa.delete(Instalment).where(Instalment.arrangement_id == arrangement.id))
    db.session.refresh(arrangement)
    _write_instalments(arrangement, schedule)
    words = _schedule_words(terms, schedule)
    account = _account(arrangement.account_id)
    record_timeline(account.id, actor, f"Payment plan counter-offer made: {words}", detail=reason)
    record_audit(
        actor,
        "plan.counter_offered",
        AUDIT_OBJECT,
        arrangement.id,
        account_id=account.id,
        before={"status": ArrangementStatus.PROPOSED.value, "terms": original},
        after={
            "status": ArrangementStatus.COUNTER_OFFERED.value,
            "terms": terms.as_dict(),
            "reason": reason,
        },
    )
    notify_debtor(
        account,
        Message(
            template="plan_counter_offer",
            subject="We have offered you different payment plan terms",
            body=(
                "We have looked at your payment plan proposal and can offer these terms "
                f"instead: {words}.\n\nWhy: {reason}\n\n"
                "Sign in to your account to accept or decline them."
            ),
            sms=(
                "We have offered you different payment plan terms. Sign in to your account "
                "to accept or decline them."
            ),
        ),
        dedupe_key=f"plan-counter-offer:{arrangement.id}",
    )
    db.session.commit()
    return arrangement


# --- the debtor's answer to a counter-offer ----------------------------------------------------


def _debtor_arrangement(arrangement_id: int, account_ids: Sequence[int]) -> Arrangement:
    arrangement = db.session.get(Arrangement, arrangement_id)
    if arrangement is None or arrangement.account_id not in set(account_ids):
        raise NotFound(f"No payment plan {arrangement_id}")
    return arrangement


@use_case
def accept_counter_offer(
    *, arrangement_id: int, account_ids: Sequence[int], actor: Actor
) -> Arrangement:
    """The debtor accepts the officer's terms: the plan becomes active."""
    arrangement = _debtor_arrangement(arrangement_id, account_ids)
    if _already(arrangement, ArrangementStatus.ACTIVE):
        return arrangement
    if arrangement.status != ArrangementStatus.COUNTER_OFFERED:
        raise InvalidRequest("That offer is no longer open")
    if not _move(arrangement.id, [ArrangementStatus.COUNTER_OFFERED]):
        db.session.rollback()
        return _arrangement(arrangement_id)
    account = _account(arrangement.account_id)
    record_timeline(
        account.id,
        actor,
        f"Payment plan counter-offer accepted ({format_gbp(arrangement.total_pence)})",
    )
    _activate(
        arrangement,
        account,
        actor,
        decided_by=arrangement.counter_offered_by_staff_id,
        reason="Counter-offer accepted by the debtor",
    )
    db.session.commit()
    return arrangement


@use_case
def decline_counter_offer(
    *, arrangement_id: int, account_ids: Sequence[int], actor: Actor
) -> Arrangement:
    """The debtor declines the officer's terms: the plan is cancelled and its debts are
    free again (to propose another plan, or for recovery to continue)."""
    arrangement = _debtor_arrangement(arrangement_id, account_ids)
    if arrangement.status == ArrangementStatus.CANCELLED and arrangement.counter_offered_at:
        return arrangement
    if arrangement.status != ArrangementStatus.COUNTER_OFFERED:
        raise InvalidRequest("That offer is no longer open")
    now = utcnow()
    if not _move(
        arrangement.id,
        [ArrangementStatus.COUNTER_OFFERED],
        status=ArrangementStatus.CANCELLED,
        ended_at=now,
        end_reason="Counter-offer declined by the debtor",
    ):
        db.session.rollback()
        return _arrangement(arrangement_id)
    db.session.refresh(arrangement)
    record_timeline(
        arrangement.account_id,
        actor,
        f"Payment plan counter-offer declined ({format_gbp(arrangement.total_pence)})",
        detail="The debts are no longer in a plan",
    )
    record_audit(
        actor,
        "plan.counter_offer_declined",
        AUDIT_OBJECT,
        arrangement.id,
        account_id=arrangement.account_id,
        before={"status": ArrangementStatus.COUNTER_OFFERED.value},
        after={"status": ArrangementStatus.CANCELLED.value},
    )
    db.session.commit()
    return arrangement


# --- income and expenditure -------------------------------------------------------------------


@use_case
def save_statement(
    *,
    account_id: int,
    amounts: dict[str, int],
    actor: Actor,
    submit: bool,
    statement_id: int | None = None,
) -> IncomeExpenditureStatement:
    """Save an I&E statement as a draft (to return to later) or submit it. A submitted
    statement is evidence for a decision and is not changed again: a new one is made."""
    try:
        statement = Statement.from_amounts(amounts)
    except IncomeExpenditureError as exc:
        raise InvalidRequest(str(exc)) from None
    row = None
    if statement_id is not None:
        row = db.session.get(IncomeExpenditureStatement, statement_id)
        if row is None or row.account_id != account_id or row.submitted_at is not None:
            row = None
    if row is None:
        row = IncomeExpenditureStatement(
            account_id=account_id,
            portal_user_id=actor.id if actor.type.value == "portal_user" else None,
            staff_id=actor.staff_id,
        )
        db.session.add(row)
    row.items = statement.as_dict()
    if submit:
        row.submitted_at = utcnow()
    db.session.flush()
    record_audit(
        actor,
        "income_expenditure.submitted" if submit else "income_expenditure.saved",
        "income_expenditure_statement",
        row.id,
        account_id=account_id,
        after={
            "disposable_pence": statement.disposable_income_pence,
            "income_pence": statement.income_pence,
        },
    )
    if submit:
        record_timeline(
            account_id,
            actor,
            "Income and expenditure statement sent: disposable income "
            f"{format_gbp(statement.disposable_income_pence)} a month",
        )
    db.session.commit()
    return row


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


# --- the portal's reads (appended for the "Set up a payment plan" journey) ----------------------


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


# --- the officers' queues, the plan page and policy admin (back office) ------------------------


# Each queue is read a page at a time (shared/services/keyset.py): at 200,000 debtors
# either can hold thousands of plans.
QUEUE_PAGE_SIZE = 50


@dataclass(frozen=True)
class QueuedPlan:
    """A plan on one of the officers' queues."""

    id: int
    account_reference: str
    account_name: str
    total_pence: int
    summary: str  # the terms in words (describe_schedule)
    needs_team_leader: bool
    failed_rules: int
    since: datetime  # proposed at (decision queue) or broken at (broken queue): the page order
    age_days: int
    end_reason: str | None = None


@dataclass(frozen=True)
class PlanQueuePage(keyset.Page[QueuedPlan]):
    ahead: int  # plans in the queue before this page

    @property
    def first_number(self) -> int:
        return self.ahead + 1

    @property
    def last_number(self) -> int:
        return self.ahead + len(self.items)


def _queued(arrangement: Arrangement, account: DebtorAccount, since: datetime, today: date):
    return QueuedPlan(
        id=arrangement.id,
        account_reference=account.reference,
        account_name=account.display_name,
        total_pence=arrangement.total_pence,
        summary=_schedule_words(arrangement, arrangement.instalments)
        if arrangement.instalments
        else "No schedule",
        needs_team_leader=arrangement.needs_team_leader,
        failed_rules=sum(1 for r in arrangement.policy_rules or [] if not r.get("passed")),
        since=since,
        age_days=max((today - since.date()).days, 0),
        end_reason=arrangement.end_reason,
    )


@dataclass(frozen=True)
class _Queue:
    """One queue's statements, built once: its pages in (since, id) order and its counts."""

    first: sa.Select
    later: sa.Select
    count: sa.Select
    count_ahead: sa.Select  # the count, and the plans at or before the cursor

    @classmethod
    def of(cls, since: sa.ColumnElement, *where: sa.ColumnElement[bool]) -> _Queue:
        rows = (
            sa.select(Arrangement, DebtorAccount, since.label("since"))
            .join(DebtorAccount, DebtorAccount.id == Arrangement.account_id)
            .where(*where)
            # One more query for the page's instalments (the terms in words), not one a plan.
            .options(sa.orm.selectinload(Arrangement.instalments))
        )
        first, later = keyset.statements(rows, since, Arrangement.id)
        count = sa.select(sa.func.count()).select_from(Arrangement).where(*where)
        shown = sa.not_(keyset.after_cursor(since, Arrangement.id))
        return cls(first, later, count, count.add_columns(sa.func.count().filter(shown)))

    def page(self, today: date, after: tuple[datetime, int] | None) -> PlanQueuePage:
        rows, more = keyset.fetch(self.first, self.later, after, QUEUE_PAGE_SIZE)
        if after is None:
            count, ahead = db.session.scalar(self.count), 0
        else:
            count, ahead = db.session.execute(self.count_ahead, keyset.cursor_params(after)).one()
        items = [_queued(a, account, since, today) for a, account, since in rows]
        return PlanQueuePage(
            items=items,
            count=count,
            next_after=keyset.cursor(items[-1].since, items[-1].id) if more else None,
            is_first=after is None,
            ahead=ahead,
        )


_AWAITING_DECISION = _Queue.of(
    Arrangement.created_at, Arrangement.status == ArrangementStatus.PROPOSED
)
# Every way a plan breaks (plan_monitor._end) stamps ended_at, but the column came
# (migration 0010) after the status, so an older broken plan may have none: it is
# taken as broken when last changed, the date the queue shows. The key must not be
# NULL, or the plan would sort differently on SQLite and PostgreSQL and never
# appear on a later page.
_BROKEN_TO_REVIEW = _Queue.of(
    sa.func.coalesce(Arrangement.ended_at, Arrangement.updated_at),
    Arrangement.status == ArrangementStatus.BROKEN,
    Arrangement.broken_reviewed_at.is_(None),
)


def parse_queue_cursor(text: str | None) -> tuple[datetime, int] | None:
    """Where a page of either queue starts; None (the first page) for anything that is
    not a cursor a queue page made."""
    return keyset.parse_cursor(text, datetime)


def awaiting_decision(today: date, *, after: tuple[datetime, int] | None = None) -> PlanQueuePage:
    """A page of the plans referred to an officer (status proposed), oldest first."""
    return _AWAITING_DECISION.page(today, after)


def broken_to_review(today: date, *, after: tuple[datetime, int] | None = None) -> PlanQueuePage:
    """A page of the broken plans no officer has looked at yet, longest broken first."""
    return _BROKEN_TO_REVIEW.page(today, after)


@dataclass(frozen=True)
class CoveredDebt:
    invoice_number: str
    description: str
    amount_pence: int
    stage_at_start: str | None


@dataclass(frozen=True)
class IncomeExpenditureSummary:
    """The statement behind a plan, and what share of the money left over the offer takes."""

    submitted_at: datetime | None
    income_pence: int
    fixed_costs_pence: int
    flexible_spending_pence: int
    priority_debts_pence: int
    disposable_pence: int
    offer_monthly_pence: int
    offer_share: int | None  # whole percent; None when nothing is left over


@dataclass(frozen=True)
class PlanPage:
    arrangement: Arrangement
    account_reference: str
    account_name: str
    debts: list[CoveredDebt]
    instalments: list[Instalment]
    summary: str
    failed_rules: int
    income_expenditure: IncomeExpenditureSummary | None


def _income_expenditure_summary(
    arrangement: Arrangement, instalments: Sequence[Instalment]
) -> IncomeExpenditureSummary | None:
    from shared.domain.income_expenditure import instalment_monthly_pence, offer_share

    row = (
        db.session.get(IncomeExpenditureStatement, arrangement.ie_statement_id)
        if arrangement.ie_statement_id
        else None
    )
    if row is None:
        return None
    try:
        statement = Statement.from_amounts(row.items or {})
    except IncomeExpenditureError:
        return None
    monthly = (
        instalment_monthly_pence(
            schedules.regular_instalment_pence(instalments), Frequency(arrangement.frequency).value
        )
        if instalments
        else 0
    )
    disposable = statement.disposable_income_pence
    return IncomeExpenditureSummary(
        submitted_at=row.submitted_at,
        income_pence=statement.income_pence,
        fixed_costs_pence=statement.fixed_costs_pence,
        flexible_spending_pence=statement.flexible_spending_pence,
        priority_debts_pence=statement.priority_debts_pence,
        disposable_pence=disposable,
        offer_monthly_pence=monthly,
        offer_share=offer_share(monthly, disposable),
    )


def plan_page(arrangement_id: int) -> PlanPage:
    """Everything an officer needs to decide a plan: debts, schedule, every policy rule
    and the I&E statement. Raises NotFound."""
    arrangement = _arrangement(arrangement_id)
    account = _account(arrangement.account_id)
    debts = [
        CoveredDebt(number, description, amount, stage)
        for number, description, amount, stage in db.session.execute(
            sa.select(
                Invoice.number,
                Invoice.description,
                ArrangementDebt.amount_pence,
                ArrangementDebt.stage_at_start,
            )
            .join(Invoice, Invoice.id == ArrangementDebt.invoice_id)
            .where(ArrangementDebt.arrangement_id == arrangement.id)
            .order_by(Invoice.due_date, Invoice.id)
        )
    ]
    instalments = list(arrangement.instalments)
    return PlanPage(
        arrangement=arrangement,
        account_reference=account.reference,
        account_name=account.display_name,
        debts=debts,
        instalments=instalments,
        summary=_schedule_words(arrangement, instalments) if instalments else "No schedule",
        failed_rules=sum(1 for r in arrangement.policy_rules or [] if not r.get("passed")),
        income_expenditure=_income_expenditure_summary(arrangement, instalments),
    )


@use_case
def review_broken(arrangement_id: int, note: str | None, actor: Actor) -> Arrangement:
    """An officer has looked at a broken plan: it leaves the broken-plans queue. Twice is once."""
    staff = _staff(actor)
    if not role_has(staff.role, Permission.DECIDE_PLANS):
        raise Forbidden("You cannot review broken payment plans")
    arrangement = _arrangement(arrangement_id)
    if arrangement.status != ArrangementStatus.BROKEN:
        raise InvalidRequest("That payment plan is not broken")
    if arrangement.broken_reviewed_at is not None:
        return arrangement
    note = (note or "").strip() or None
    now = utcnow()
    # Conditional, so two officers clicking at once record one review.
    reviewed = db.session.execute(
        sa.update(Arrangement)
        .where(
            Arrangement.id == arrangement.id,
            Arrangement.status == ArrangementStatus.BROKEN,
            Arrangement.broken_reviewed_at.is_(None),
        )
        .values(broken_reviewed_at=now, broken_reviewed_by_staff_id=staff.id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if reviewed.rowcount != 1:
        db.session.rollback()
        return _arrangement(arrangement_id)
    db.session.refresh(arrangement)
    record_timeline(
        arrangement.account_id,
        actor,
        f"Broken payment plan of {format_gbp(arrangement.total_pence)} reviewed",
        detail=note,
    )
    record_audit(
        actor,
        "plan.broken_reviewed",
        AUDIT_OBJECT,
        arrangement.id,
        account_id=arrangement.account_id,
        before={"broken_reviewed_at": None},
        after={"broken_reviewed_at": now.isoformat(), "note": note},
    )
    db.session.commit()
    return arrangement


@dataclass(frozen=True)
class PolicyValues:
    """A department's plan policy as an admin edits it (money in pence)."""

    max_length_months: int
    min_instalment_pence: int
    max_auto_approve_pence: int
    no_broken_plan_within_months: int
    refer_if_legal: bool
    income_expenditure_above_pence: int
    team_leader_above_pence: int

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def of(cls, row: PlanPolicy | None) -> PolicyValues:
        """A stored policy's values, or the default's where the department has none."""
        if row is None:
            d = plan_policy.DEFAULT_POLICY
            return cls(
                d.max_length_months,
                d.min_instalment_pence,
                d.max_auto_approve_pence,
                d.no_broken_plan_within_months,
                d.refer_if_legal,
                d.income_expenditure_above_pence,
                DEFAULT_TEAM_LEADER_ABOVE_PENCE,
            )
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


def policy_problems(values: PolicyValues) -> dict[str, str]:
    """What is wrong with an edited policy, by field name (empty when it can be saved)."""
    problems = {}
    if values.max_length_months < 1:
        problems["max_length_months"] = "Maximum length must be 1 month or more"
    if values.min_instalment_pence < 1:
        problems["min_instalment_pence"] = "Minimum instalment must be more than £0"
    for name, words in (
        ("max_auto_approve_pence", "Maximum for automatic approval"),
        ("no_broken_plan_within_months", "Months since a broken plan"),
        ("income_expenditure_above_pence", "Income and expenditure threshold"),
        ("team_leader_above_pence", "Team leader threshold"),
    ):
        if getattr(values, name) < 0:
            problems[name] = f"{words} must be 0 or more"
    return problems


@dataclass(frozen=True)
class DepartmentPolicy:
    department_id: int
    department_name: str
    values: PolicyValues
    is_default: bool
    updated_at: datetime | None


def department_policies() -> list[DepartmentPolicy]:
    """Every service department with its plan policy (the default where it has none)."""
    rows = db.session.execute(
        sa.select(ServiceDepartment, PlanPolicy)
        .outerjoin(PlanPolicy, PlanPolicy.department_id == ServiceDepartment.id)
        .order_by(ServiceDepartment.name, ServiceDepartment.id)
    ).all()
    return [
        DepartmentPolicy(
            department.id,
            department.name,
            PolicyValues.of(row),
            row is None,
            row.updated_at if row else None,
        )
        for department, row in rows
    ]


def department_policy(department_id: int) -> DepartmentPolicy:
    """One department's plan policy. Raises NotFound."""
    department = db.session.get(ServiceDepartment, department_id)
    if department is None:
        raise NotFound(f"No service department {department_id}")
    row = db.session.scalar(sa.select(PlanPolicy).where(PlanPolicy.department_id == department_id))
    return DepartmentPolicy(
        department.id, department.name, PolicyValues.of(row), row is None, row and row.updated_at
    )


@use_case
def save_policy(department_id: int, values: PolicyValues, actor: Actor) -> PlanPolicy:
    """An admin sets a department's plan policy (created on first save). It applies to
    plans proposed from now on; plans already decided or waiting keep their outcome."""
    staff = _staff(actor)
    if not role_has(staff.role, Permission.MANAGE_PLAN_POLICY):
        raise Forbidden("You cannot change payment plan policy")
    problems = policy_problems(values)
    if problems:
        raise InvalidRequest(next(iter(problems.values())))
    department = db.session.get(ServiceDepartment, department_id)
    if department is None:
        raise NotFound(f"No service department {department_id}")
    row = db.session.scalar(
        sa.select(PlanPolicy).where(PlanPolicy.department_id == department_id).with_for_update()
    )
    before = None if row is None else PolicyValues.of(row).as_dict()
    after = values.as_dict()
    if before == after:
        return row
    if row is None:
        row = PlanPolicy(department_id=department_id)
        db.session.add(row)
    for name, value in after.items():
        setattr(row, name, value)
    row.updated_by_staff_id = staff.id
    db.session.flush()
    record_audit(
        actor, "plan_policy.saved", "plan_policy", department_id, before=before, after=after
    )
    db.session.commit()
    return row
