"""Instalment plans for the demo data set, in every state an officer or debtor meets.

`seed_demo` runs this after a batch of debtors is written. A fixed small share
of the batch (PLAN_SHARES: about 18 plans per 300 debtors) get a plan on debts
they still owe: active plans paid by card and by Direct Debit (instalments paid
on time, the next one due soon), one in arrears (a payment missed and reminded),
proposals waiting on an officer (some needing a team leader, some with an income
and expenditure statement), counter-offers waiting on the debtor, broken plans
not yet reviewed, a completed plan and a rejected one. Only people who may be
asked for payment get one: not organisations (an I&E statement is a household's),
not the deceased, not anyone in Breathing Space.

The rows are built here and bulk-written like the rest of the demo, not made by
calling shared/services/plans/, because the services stamp every change with
the clock: a plan "set up three months ago" would be activated today, and the
daily monitor, which counts only money allocated since activation, would then
see none of its past instalments paid and break it on its first run. Each
service call would also put a notice in the outbox, to be sent by email or text
as soon as the demo starts, and the rest of the demo's history sends nothing.

So the real rules decide everything, with the dates they would have had:
schedules.build_schedule makes each schedule, plan_policy.decide (with each
department's policy, as the service reads it) gives the outcome and the rules
the officer sees, and plan_monitoring.assess is replayed on every day the daily
monitor would have acted, which gives the instalment readings (paid_pence,
paid_on, missed_on, reminded_at), the reminders, and the day a plan broke or
was completed. What the services would have written alongside (the plan, its
debts and schedule, the statement, the timeline entries and audit rows, in the
services' own words from shared/services/plans/wording.py) is written too.
Instalments are paid by ledger payments allocated to the plan's own invoices, made
after the plan became active, so the monitor reads them as the plan's money;
running it on the day of seeding changes nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from random import Random

import sqlalchemy as sa

from shared.demo.generate import TABLES
from shared.domain import plan_policy, schedules
from shared.domain.income_expenditure import Statement, instalment_monthly_pence
from shared.domain.plan_monitoring import DUE, MISSED, PAID, PART_PAID, assess
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
from shared.money import format_gbp
from shared.services.plans import policy, reads, wording
from shared.services.plans.terms import Terms

# The kinds of plan, hardest to find a debtor for first: each candidate debtor is
# offered the kinds in this order, so the few debtors owing over the team-leader
# total are not all used up by plans that any debtor would do for.
PROPOSED_FOR_TEAM_LEADER = "proposed_for_team_leader"
COMPLETED = "completed"
BROKEN = "broken"
ACTIVE_IN_ARREARS = "active_in_arrears"
ACTIVE_DIRECT_DEBIT = "active_direct_debit"
ACTIVE_CARD = "active_card"
COUNTER_OFFERED = "counter_offered"
PROPOSED = "proposed"
REJECTED = "rejected"

# Plans per debtor in the batch (round half up); 300 debtors give the counts shown.
PLAN_SHARES: dict[str, float] = {
    PROPOSED_FOR_TEAM_LEADER: 0.0067,  # 2
    COMPLETED: 0.0034,  # 1
    BROKEN: 0.0067,  # 2
    ACTIVE_IN_ARREARS: 0.0034,  # 1
    ACTIVE_DIRECT_DEBIT: 0.01,  # 3
    ACTIVE_CARD: 0.01,  # 3
    COUNTER_OFFERED: 0.005,  # 2
    PROPOSED: 0.01,  # 3
    REJECTED: 0.0034,  # 1
}
# One of the active card plans goes first, to a debtor `flask demo logins` can suggest
# creating a portal login for (see seed.demo_bills): an email on file, not vulnerable,
# and another bill outside the plan to try paying. So Your account shows a plan.
SHOWCASE = "showcase"
ACTIVE_KINDS = frozenset({ACTIVE_CARD, ACTIVE_DIRECT_DEBIT, ACTIVE_IN_ARREARS, SHOWCASE})
SHOWCASE_BILL_PENCE = 2_000  # demo_bills' smallest bill

# Rows per table, in insertion order (foreign keys are checked row by row).
PLAN_TABLES: dict[str, tuple[str, ...]] = {
    "income_expenditure_statements": (
        "id",
        "account_id",
        "portal_user_id",
        "staff_id",
        "items",
        "submitted_at",
        "created_at",
        "updated_at",
    ),
    "arrangements": (
        "id",
        "account_id",
        "status",
        "frequency",
        "total_pence",
        "start_date",
        "payment_route",
        "proposed_by_portal_user_id",
        "created_by_staff_id",
        "decided_by_staff_id",
        "decided_at",
        "decision_reason",
        "instalment_pence",
        "instalment_count",
        "ie_statement_id",
        "policy_outcome",
        "policy_rules",
        "needs_team_leader",
        "original_terms",
        "counter_offered_by_staff_id",
        "counter_offered_at",
        "activated_at",
        "ended_at",
        "end_reason",
        "broken_reviewed_at",
        "broken_reviewed_by_staff_id",
        "created_at",
        "updated_at",
    ),
    "arrangement_debts": ("arrangement_id", "invoice_id", "amount_pence", "stage_at_start"),
    "instalments": (
        "id",
        "arrangement_id",
        "sequence",
        "due_date",
        "amount_pence",
        "paid_pence",
        "paid_on",
        "missed_on",
        "reminded_at",
    ),
    "ledger_entries": TABLES["ledger_entries"],
    "allocations": TABLES["allocations"],
    "contact_events": TABLES["contact_events"],
    "audit_log": (
        "id",
        "occurred_at",
        "actor_type",
        "actor_id",
        "action",
        "object_type",
        "object_id",
        "account_id",
        "before",
        "after",
        "source_ip",
    ),
}
# The tables whose ids this module assigns (arrangement_debts has a composite key).
NEW_ID_TABLES = ("income_expenditure_statements", "arrangements", "instalments", "audit_log")

# Accounts read per query while looking for debtors to give plans to.
CANDIDATE_CHUNK = 2_000
MAX_DEBTS = 4  # a plan covers at most this many invoices (the debtor's oldest)
MAX_DEBTS_TEAM_LEADER = 8  # ... or this many when it has to reach the team-leader total
_MONITOR_TIME = time(6, 0)  # the daily monitor's cron (shared/jobs/cron_config.py)
# Stands for the plan's id in the monitor's words (wording.payment_missed, ...) until the
# plan is written and has one.
PLAN_ID = "{id}"
_DAYS_APART = {"weekly": 7, "fortnightly": 14, "four_weekly": 28}
_PLAN_MONTHS = {"weekly": 52 / 12, "fortnightly": 26 / 12, "four_weekly": 13 / 12, "monthly": 1}
# How often debtors choose to pay (monthly most, as most are paid monthly).
_FREQUENCIES = (("monthly", 60), ("fortnightly", 20), ("weekly", 10), ("four_weekly", 10))
_APPROVAL_NOTES = (
    None,
    None,
    "Agreed on the phone with the debtor",
    "Affordable on the income and expenditure statement",
    "Debtor has kept to previous arrangements",
)


def quotas(debtors: int) -> dict[str, int]:
    """How many plans of each kind a batch of `debtors` gets."""
    return {kind: int(debtors * share + 0.5) for kind, share in PLAN_SHARES.items()}


def _looked_for(debtors: int) -> dict[str, int]:
    """quotas(), with the first active card plan looked for as the showcase."""
    wanted = quotas(debtors)
    if wanted[ACTIVE_CARD] == 0:
        return wanted
    wanted[ACTIVE_CARD] -= 1
    return {SHOWCASE: 1, **wanted}


@dataclass(frozen=True)
class Debt:
    invoice_id: int
    department_id: int
    issue_date: date
    due_date: date
    outstanding_pence: int
    stage: str
    stage_since: date | None
    last_allocated: date | None  # the day of the latest allocation to it, if any


@dataclass(frozen=True)
class Candidate:
    account_id: int
    may_pay_online: bool  # demo_bills would offer its bills: an email on file, not vulnerable
    debts: tuple[Debt, ...]  # what it still owes, oldest due first


@dataclass(frozen=True)
class Settings:
    """The plan settings of the app being seeded (the monitor reads the same ones)."""

    tolerance_days: int = 7
    misses_to_break: int = 2
    due_reminder_days: int = 3

    @classmethod
    def from_config(cls, config) -> Settings:
        return cls(
            int(config.get("PLAN_MISSED_TOLERANCE_DAYS", 7)),
            int(config.get("PLAN_MISSES_TO_BREAK", 2)),
            int(config.get("PLAN_DUE_REMINDER_DAYS", 3)),
        )


@dataclass
class _Event:
    """A timeline entry, with the audit row written alongside it if any."""

    at: datetime
    summary: str | None = None
    detail: str | None = None
    staff_id: int | None = None  # None: the system (a job) did it
    action: str | None = None
    audit_object: str = "arrangement"  # or "income_expenditure_statement"
    before: dict | None = None
    after: dict | None = None


@dataclass
class _Plan:
    """One plan's facts, before it is given ids and turned into rows."""

    account_id: int
    status: str
    frequency: str
    route: str
    debts: list[Debt]
    total: int
    terms: Terms  # the terms in force (the officer's, once counter-offered)
    schedule: list[schedules.ScheduledInstalment]
    proposed_at: datetime
    proposer: int
    outcome: str
    rules: list[dict]
    needs_leader: bool
    statement: dict[str, int] | None = None
    decided_by: int | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    original_terms: dict | None = None
    counter_by: int | None = None
    counter_at: datetime | None = None
    activated_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    # (paid_pence, paid_on, missed_on, reminded_at) by sequence, as the monitor left them.
    readings: dict[int, tuple] = field(default_factory=dict)
    payments: list[tuple[datetime, int]] = field(default_factory=list)
    events: list[_Event] = field(default_factory=list)


@dataclass
class _Monitored:
    """What replaying the daily monitor over a plan's life found."""

    readings: dict[int, list]
    events: list[tuple[date, str, int, int]]  # (day, "missed" | "due", sequence, pence)
    ended: str | None  # "broken" | "completed" | None (still active)
    ended_on: date | None
    missed: int
    unpaid_pence: int
    missed_now: int  # instalments missed on the last day replayed


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value.isoformat()


def _json(value) -> str | None:
    return None if value is None else json.dumps(value)


class PlanMaker:
    """Builds plans for candidate debtors and collects their rows, a chunk at a time."""

    def __init__(
        self,
        rng: Random,
        today: date,
        staff_ids: dict[str, int],
        policies: dict[int, tuple[plan_policy.PlanPolicy, int]],
        settings: Settings,
        next_ids: dict[str, int],
    ):
        self.rng = rng
        self.today = today
        self.officer = staff_ids["officer"]
        self.leaders = (staff_ids["team_leader"], staff_ids["team_leader_2"])
        self.policies = policies
        self.settings = settings
        self.next_ids = next_ids
        self.rows: dict[str, list[tuple]] = {table: [] for table in PLAN_TABLES}
        # The smallest of each department's limits, for choosing debts and terms;
        # every plan is then checked against its own departments' policies.
        values = [p for p, _ in policies.values()] or [plan_policy.DEFAULT_POLICY]
        self.max_months = min(p.max_length_months for p in values)
        self.min_instalment = max(p.min_instalment_pence for p in values)
        self.team_leader_above = min((t for _, t in policies.values()), default=300_000)
        self.ie_above = min(p.income_expenditure_above_pence for p in values)
        self.auto_approve_up_to = min(p.max_auto_approve_pence for p in values)
        self.next_proposal_small = True

    # -- helpers -------------------------------------------------------------------------

    def next_id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def office_time(self, day: date) -> datetime:
        """A moment in office hours on `day`."""
        return datetime.combine(day, time(9)) + timedelta(
            minutes=self.rng.randrange(7 * 60), seconds=self.rng.randrange(60)
        )

    def frequency(self) -> str:
        names = [name for name, _ in _FREQUENCIES]
        return self.rng.choices(names, weights=[w for _, w in _FREQUENCIES])[0]

    def max_count(self, frequency: str, months: int | None = None) -> int:
        """Instalments in `months` (default: the longest plan policy approves)."""
        return math.floor((months or self.max_months) * _PLAN_MONTHS[frequency] + 1e-9)

    def debts_at(
        self,
        candidate: Candidate,
        day: date,
        min_total: int,
        max_total: int,
        most: int = MAX_DEBTS,
    ) -> list[Debt] | None:
        """The debts a plan proposed on `day` covers (oldest first), or None.

        Only debts whose story already stood on that day: issued before it, last
        paid towards before it (so the monitor will not count that money as the
        plan's), and at the recovery stage they have now (recovery pauses while a
        plan is live, so a later stage would contradict the plan)."""
        chosen: list[Debt] = []
        total = 0
        for debt in candidate.debts:
            if len(chosen) == most:
                break
            if debt.issue_date >= day:
                continue
            if debt.stage_since is not None and debt.stage_since >= day:
                continue
            if debt.last_allocated is not None and debt.last_allocated >= day:
                continue
            if total + debt.outstanding_pence > max_total:
                continue
            chosen.append(debt)
            total += debt.outstanding_pence
        return chosen if chosen and total >= min_total else None

    def evaluate(self, debts: Sequence[Debt], schedule, frequency: str, statement):
        """Every department's rules, as shared/services/plans/reads.py evaluates a proposal:
        (outcome, rules, needs an I&E statement, needs a team leader)."""
        total = sum(d.outstanding_pence for d in debts)
        proposal = plan_policy.Proposal.for_schedule(
            schedule,
            frequency,
            months_since_broken_plan=None,  # a new batch's debtors have never had a plan
            legal_referral=any(d.stage in reads.LEGAL_STAGES for d in debts),
            statement=None if statement is None else Statement.from_amounts(statement),
        )
        policies = [self.policies[i] for i in sorted({d.department_id for d in debts})]
        e = plan_policy.evaluate(policies, proposal, total)
        return e.outcome, e.rules, e.needs_income_expenditure, e.needs_team_leader

    def statement(self, disposable_pence: int) -> dict[str, int]:
        """A household's monthly figures (whole pounds) leaving `disposable_pence` over."""
        rng = self.rng

        def pounds(low: int, high: int) -> int:
            return rng.randint(low, high) * 100

        costs: dict[str, int] = {}
        housing = rng.random()
        if housing < 0.6:
            costs["rent"] = pounds(350, 850)
        elif housing < 0.8:
            costs["mortgage"] = pounds(450, 1_100)
        costs["council_tax"] = pounds(90, 180)
        costs["gas"] = pounds(40, 95)
        costs["electricity"] = pounds(50, 120)
        costs["water"] = pounds(25, 50)
        costs["tv_licence"] = 1_413  # £169.50 a year
        if rng.random() < 0.3:
            costs["insurance"] = pounds(15, 40)
        if rng.random() < 0.15:
            costs["childcare"] = pounds(200, 600)
        costs["communications_leisure"] = pounds(40, 90)
        costs["food_housekeeping"] = pounds(250, 550)
        costs["personal_costs"] = pounds(30, 90)
        costs["travel"] = pounds(50, 180)
        if rng.random() < 0.2:
            costs["council_tax_arrears"] = pounds(20, 60)
        if rng.random() < 0.1:
            costs["energy_arrears"] = pounds(10, 40)
        income = sum(costs.values()) + disposable_pence
        items = dict(costs)
        r = rng.random()
        if r < 0.1:
            items["pensions"] = income
        elif r < 0.55:
            benefits = min(income, pounds(80, 400) if rng.random() < 0.5 else 0)
            items["wages"], items["benefits"] = income - benefits, benefits
        else:
            items["benefits"] = income
        return Statement.from_amounts(items).as_dict()

    def affordable(self, schedule, frequency: str) -> dict[str, int]:
        """A statement that leaves a little more over than the plan asks for each month."""
        monthly = instalment_monthly_pence(schedules.regular_instalment_pence(schedule), frequency)
        return self.statement(math.ceil(monthly / 100) * 100 + self.rng.randint(1, 120) * 100)

    def build(self, total: int, frequency: str, start: date, count: int, by_amount: bool):
        """(terms, schedule): `count` payments, or payments of a round amount that many
        payments would need (the debtor's own figure, ending with a smaller one)."""
        if by_amount:
            each = max(self.min_instalment, math.ceil(total / count / 100) * 100)
            if each < total:
                terms = Terms(frequency, start, instalment_pence=each)
                return terms, self._schedule(total, terms)
        terms = Terms(frequency, start, count=count)
        return terms, self._schedule(total, terms)

    @staticmethod
    def _schedule(total: int, terms: Terms):
        return schedules.build_schedule(
            total,
            terms.frequency,
            terms.start,
            instalment_pence=terms.instalment_pence,
            count=terms.count,
        )

    def start_for(self, frequency: str, sequence: int, due: date) -> date:
        """The first payment date that puts payment `sequence` on `due`."""
        if frequency == "monthly":
            return schedules.add_months(due, -(sequence - 1))
        return due - timedelta(days=_DAYS_APART[frequency] * (sequence - 1))

    # -- the plans, kind by kind ---------------------------------------------------------

    def make(self, kind: str, candidate: Candidate) -> _Plan | None:
        """A plan of this kind for this debtor, or None if their debts do not suit it."""
        if kind in ACTIVE_KINDS:
            return self._active(kind, candidate)
        return {
            COMPLETED: self._completed,
            BROKEN: self._broken,
            PROPOSED: self._proposed,
            PROPOSED_FOR_TEAM_LEADER: self._proposed,
            COUNTER_OFFERED: self._counter_offered,
            REJECTED: self._rejected,
        }[kind](kind, candidate)

    def _active(self, kind: str, candidate: Candidate) -> _Plan | None:
        """Paying: instalments so far paid on time (or one missed and reminded, in
        arrears), the next one due within a fortnight. Card-paid plans' next
        payment is just beyond the monitor's pay-link reminder, which the demo
        cannot show as sent (it sends nothing), so the monitor's first run has
        nothing to do."""
        rng, today, settings = self.rng, self.today, self.settings
        arrears = kind == ACTIVE_IN_ARREARS
        if arrears and settings.misses_to_break < 2:
            return None  # one miss would already break it
        showcase = kind == SHOWCASE
        if showcase and not candidate.may_pay_online:
            return None
        card = kind in (ACTIVE_CARD, SHOWCASE) or (arrears and rng.random() < 0.5)
        route = "card" if card else "direct_debit"
        frequency = "monthly" if arrears else self.frequency()
        paid_before = rng.randint(1, {"weekly": 12, "fortnightly": 6}.get(frequency, 4))
        anchor_sequence = paid_before + 1
        if arrears:
            # Missed long enough ago to have been reminded about, recently enough that
            # the next monthly payment is still to come, within about a fortnight.
            latest = settings.tolerance_days + 2
            earliest = max(latest, 25)
            anchor_due = today - timedelta(
                days=rng.randint(min(max(latest, 17), earliest), earliest)
            )
        else:
            first = settings.due_reminder_days + 1 if route == "card" else 1
            gap = _DAYS_APART.get(frequency, 28)
            anchor_due = today + timedelta(days=rng.randint(first, max(first, min(14, gap))))
        start = self.start_for(frequency, anchor_sequence, anchor_due)
        proposed = start - timedelta(days=rng.randint(7, 25))
        debts = self.debts_at(
            candidate, proposed, max(10_000, (anchor_sequence + 1) * self.min_instalment), 300_000
        )
        if debts is None:
            return None
        if showcase and not any(
            d not in debts and d.outstanding_pence >= SHOWCASE_BILL_PENCE for d in candidate.debts
        ):
            return None
        total = sum(d.outstanding_pence for d in debts)
        most = min(self.max_count(frequency), total // self.min_instalment)
        if most < anchor_sequence + 1:
            return None
        count = rng.randint(anchor_sequence + 1, most)
        terms, schedule = self.build(total, frequency, start, count, rng.random() < 0.5)
        if len(schedule) <= anchor_sequence:
            return None
        plan = self._propose(candidate, debts, terms, schedule, route, proposed)
        if plan is None or not self._decide(plan):
            return None
        # Every instalment before the anchor is paid; in arrears the anchor is missed.
        plan.payments = [self._payment(plan, i) for i in schedule[: anchor_sequence - 1]]
        monitored = self._monitor(plan, today)
        if monitored.ended is not None or monitored.missed_now != (1 if arrears else 0):
            return None
        if self._pay_link_due(plan, monitored, today):
            return None
        self._record_monitoring(plan, monitored)
        return plan

    def _completed(self, kind: str, candidate: Candidate) -> _Plan | None:
        """Paid in full some weeks ago: the monitor completed it the morning after."""
        rng, today = self.rng, self.today
        frequency = "monthly" if rng.random() < 0.8 else "fortnightly"
        count = rng.randint(3, 6) if frequency == "monthly" else rng.randint(4, 10)
        last_due = today - timedelta(days=rng.randint(self.settings.tolerance_days + 2, 75))
        start = self.start_for(frequency, count, last_due)
        proposed = start - timedelta(days=rng.randint(7, 25))
        debts = self.debts_at(candidate, proposed, max(6_000, count * self.min_instalment), 80_000)
        if debts is None:
            return None
        total = sum(d.outstanding_pence for d in debts)
        terms, schedule = self.build(total, frequency, start, count, by_amount=False)
        route = "card" if rng.random() < 0.5 else "direct_debit"
        plan = self._propose(candidate, debts, terms, schedule, route, proposed)
        if plan is None or not self._decide(plan):
            return None
        plan.payments = [self._payment(plan, i) for i in schedule]
        monitored = self._monitor(plan, today)
        if monitored.ended != "completed":
            return None
        self._record_monitoring(plan, monitored)
        return plan

    def _broken(self, kind: str, candidate: Candidate) -> _Plan | None:
        """Paid for a while, then missed payments until the monitor broke it, within
        the last fortnight; no officer has reviewed it yet."""
        rng, today, settings = self.rng, self.today, self.settings
        frequency = "monthly" if rng.random() < 0.7 else "fortnightly"
        paid_before = rng.randint(1, 3)
        last_missed = paid_before + settings.misses_to_break
        broke_on = today - timedelta(days=rng.randint(1, 14))
        last_missed_due = broke_on - timedelta(days=settings.tolerance_days + 1)
        start = self.start_for(frequency, last_missed, last_missed_due)
        proposed = start - timedelta(days=rng.randint(7, 25))
        debts = self.debts_at(
            candidate, proposed, max(15_000, (last_missed + 1) * self.min_instalment), 300_000
        )
        if debts is None:
            return None
        total = sum(d.outstanding_pence for d in debts)
        most = min(self.max_count(frequency), total // self.min_instalment)
        if most < last_missed + 1:
            return None
        count = rng.randint(last_missed + 1, most)
        terms, schedule = self.build(total, frequency, start, count, rng.random() < 0.5)
        if len(schedule) <= last_missed:
            return None
        route = "card" if rng.random() < 0.5 else "direct_debit"
        plan = self._propose(candidate, debts, terms, schedule, route, proposed)
        if plan is None or not self._decide(plan):
            return None
        plan.payments = [self._payment(plan, i) for i in schedule[:paid_before]]
        monitored = self._monitor(plan, today)
        if monitored.ended != "broken":
            return None
        self._record_monitoring(plan, monitored)
        return plan

    def _proposed(self, kind: str, candidate: Candidate) -> _Plan | None:
        """Sent in the last week or so and referred by policy to the officers' queue;
        over the team-leader total only a team leader may decide it."""
        rng, today = self.rng, self.today
        leader = kind == PROPOSED_FOR_TEAM_LEADER
        proposed = today - timedelta(days=rng.randint(1, 12 if leader else 9))
        # Proposals for an officer take turns: one small enough to need no I&E statement,
        # sent without one, then one sent with one, so the queue shows both.
        small = not leader and self.next_proposal_small
        if leader:
            debts = self.debts_at(
                candidate, proposed, self.team_leader_above + 1, 1_500_000, MAX_DEBTS_TEAM_LEADER
            )
        else:
            most = self.ie_above if small else self.team_leader_above
            debts = self.debts_at(candidate, proposed, 3_000, most)
        if debts is None:
            return None
        total = sum(d.outstanding_pence for d in debts)
        start = min(
            proposed + timedelta(days=30),
            max(today + timedelta(days=1), proposed + timedelta(days=rng.randint(7, 21))),
        )
        frequency = self.frequency()
        shape = rng.random()
        statement = None
        if leader or total > self.auto_approve_up_to:
            # Over the limit for automatic approval: ordinary terms, referred anyway.
            months = rng.randint(6, 2 * self.max_months if leader else self.max_months)
            most = max(1, min(self.max_count(frequency, months), total // self.min_instalment))
            terms, schedule = self.build(total, frequency, start, most, rng.random() < 0.5)
            unaffordable = shape < 0.25
        elif total <= (self.max_months + 1) * self.min_instalment:
            # Too little owed for a plan longer than policy allows to pay the minimum:
            # an offer below the minimum payment (a pound or two a month).
            frequency = "monthly"
            each = rng.randint(1, max(1, self.min_instalment // 100 - 1)) * 100
            if each >= total:
                return None
            terms = Terms(frequency, start, instalment_pence=each)
            schedule = self._schedule(total, terms)
            unaffordable = False
        elif small or shape < 0.5:
            # Longer than policy allows: a small amount each month.
            months = rng.randint(self.max_months + 3, 2 * self.max_months)
            frequency = "monthly"
            count = max(1, min(months, total // self.min_instalment))
            terms, schedule = self.build(total, frequency, start, count, by_amount=True)
            unaffordable = False
        else:
            # Within the limits, but more than the household has left over each month.
            frequency = "monthly"
            count = max(1, min(rng.randint(3, self.max_months), total // self.min_instalment))
            terms, schedule = self.build(total, frequency, start, count, rng.random() < 0.5)
            unaffordable = True
        if unaffordable:
            monthly = instalment_monthly_pence(
                schedules.regular_instalment_pence(schedule), frequency
            )
            statement = self.statement(max(0, monthly // 100 - rng.randint(5, 60)) * 100)
        route = "direct_debit" if rng.random() < 0.5 else "card"
        plan = self._propose(
            candidate,
            debts,
            terms,
            schedule,
            route,
            proposed,
            statement,
            voluntary_ie=0 if small else 1,
        )
        if plan is None or plan.status != "proposed" or plan.needs_leader != leader:
            return None
        if not leader:
            self.next_proposal_small = not small
        return plan

    def _counter_offered(self, kind: str, candidate: Candidate) -> _Plan | None:
        """The debtor asked for longer than policy allows; an officer offered the
        longest plan it does allow, within what the household has left over, and
        the debtor has not answered yet."""
        rng, today = self.rng, self.today
        proposed = today - timedelta(days=rng.randint(3, 14))
        debts = self.debts_at(candidate, proposed, 10_000, self.team_leader_above)
        if debts is None:
            return None
        total = sum(d.outstanding_pence for d in debts)
        months = min(self.max_months, total // self.min_instalment)
        if months < 2:
            return None
        asked_start = proposed + timedelta(days=rng.randint(7, 28))
        asked_terms, asked = self.build(
            total, "monthly", asked_start, rng.randint(2 * months, 3 * months), by_amount=True
        )
        # A day or three later (before today); the officer's first payment date must be
        # within 30 days of the offer and, the debtor not having answered, still to come.
        offered_on = min(proposed + timedelta(days=rng.randint(1, 3)), today - timedelta(days=1))
        offered_at = self.office_time(offered_on)
        start = asked_start
        if not (today < start <= offered_on + timedelta(days=30)):
            start = today + timedelta(days=rng.randint(3, 10))
        terms = Terms("monthly", start, count=months)
        schedule = self._schedule(total, terms)
        statement = None
        if total > self.ie_above or rng.random() < 0.3:
            statement = self.affordable(schedule, "monthly")
        route = "direct_debit" if rng.random() < 0.5 else "card"
        plan = self._propose(
            candidate, debts, asked_terms, asked, route, proposed, statement, voluntary_ie=0
        )
        if plan is None or plan.status != "proposed":
            return None
        left_over = ""
        if statement is not None:
            disposable = Statement.from_amounts(statement).disposable_income_pence
            left_over = (
                f"your statement leaves {format_gbp(disposable)} a month after essential "
                "spending, so "
            )
        reason = (
            f"We agree plans of up to {months} months for these bills: "
            f"{left_over}we can offer {wording.schedule_words(schedule, 'monthly')}"
        )
        staff = rng.choice(self.leaders) if plan.needs_leader else self.officer
        original = asked_terms.as_dict()
        plan.events.append(
            _Event(
                offered_at,
                wording.counter_offer_made(wording.schedule_words(schedule, "monthly")),
                reason,
                staff,
                "plan.counter_offered",
                before={"status": "proposed", "terms": original},
                after={"status": "counter_offered", "terms": terms.as_dict(), "reason": reason},
            )
        )
        plan.status = "counter_offered"
        plan.terms, plan.schedule = terms, schedule
        plan.original_terms = original
        plan.counter_by, plan.counter_at = staff, offered_at
        plan.decision_reason = reason
        return plan

    def _rejected(self, kind: str, candidate: Candidate) -> _Plan | None:
        """An offer that would take years, rejected by an officer (now cancelled)."""
        rng, today = self.rng, self.today
        proposed = today - timedelta(days=rng.randint(15, 60))
        debts = self.debts_at(candidate, proposed, 5_000, self.team_leader_above)
        if debts is None:
            return None
        total = sum(d.outstanding_pence for d in debts)
        months = rng.randint(3 * self.max_months, 5 * self.max_months)
        count = min(months, total // self.min_instalment)
        if count <= self.max_months:
            return None
        start = proposed + timedelta(days=rng.randint(7, 28))
        terms, schedule = self.build(total, "monthly", start, count, by_amount=True)
        route = "direct_debit" if rng.random() < 0.5 else "card"
        plan = self._propose(candidate, debts, terms, schedule, route, proposed, voluntary_ie=0.3)
        if plan is None or plan.status != "proposed":
            return None
        reason = (
            f"The plan would take {len(schedule)} months to clear the bills; we agree plans "
            f"of up to {self.max_months} months. Please propose higher payments, or call us "
            "to talk about what you can afford."
        )
        decided = self.office_time(proposed + timedelta(days=rng.randint(1, 4)))
        staff = rng.choice(self.leaders) if plan.needs_leader else self.officer
        plan.events.append(
            _Event(
                decided,
                wording.plan_rejected(total),
                reason,
                staff,
                "plan.rejected",
                before={"status": "proposed"},
                after={"status": "cancelled", "reason": reason},
            )
        )
        plan.status = "cancelled"
        plan.decided_by, plan.decided_at, plan.decision_reason = staff, decided, reason
        plan.ended_at, plan.end_reason = decided, wording.rejected_end_reason(reason)
        return plan

    # -- the steps every plan shares ------------------------------------------------------

    def _propose(
        self,
        candidate: Candidate,
        debts: list[Debt],
        terms: Terms,
        schedule,
        route: str,
        day: date,
        statement: dict[str, int] | None = None,
        *,
        voluntary_ie: float = 0.25,
    ) -> _Plan | None:
        """An officer proposes the plan on the debtor's behalf (on the phone), with an
        I&E statement where policy asks for one; policy approves it at once or refers it.
        None when the start date would not have been accepted."""
        if not day <= terms.start <= day + timedelta(days=30):
            return None
        frequency = terms.frequency
        total = sum(d.outstanding_pence for d in debts)
        _, _, needs_ie, _ = self.evaluate(debts, schedule, frequency, None)
        if statement is None and (needs_ie or self.rng.random() < voluntary_ie):
            statement = self.affordable(schedule, frequency)
        outcome, rules, _, needs_leader = self.evaluate(debts, schedule, frequency, statement)
        at = self.office_time(day)
        plan = _Plan(
            account_id=candidate.account_id,
            status="proposed",
            frequency=frequency,
            route=route,
            debts=debts,
            total=total,
            terms=terms,
            schedule=schedule,
            proposed_at=at,
            proposer=self.officer,
            outcome=outcome,
            rules=rules,
            needs_leader=needs_leader,
            statement=statement,
        )
        if statement is not None:
            disposable = Statement.from_amounts(statement).disposable_income_pence
            plan.events.append(
                _Event(
                    at - timedelta(minutes=self.rng.randint(3, 20)),
                    wording.statement_sent(disposable),
                    staff_id=self.officer,
                    action="income_expenditure.submitted",
                    audit_object="income_expenditure_statement",
                    after={
                        "disposable_pence": disposable,
                        "income_pence": Statement.from_amounts(statement).income_pence,
                    },
                )
            )
        failed = [r["explanation"] for r in rules if not r["passed"]]
        plan.events.append(
            _Event(
                at,
                action="plan.proposed",
                staff_id=self.officer,
                after={
                    "total_pence": total,
                    "terms": terms.as_dict(),
                    "invoice_ids": [d.invoice_id for d in debts],
                    "policy_outcome": outcome,
                    "failed_rules": failed,
                },
            )
        )
        words = wording.schedule_words(schedule, frequency)
        if outcome == plan_policy.APPROVE and not needs_leader:
            plan.events.append(
                _Event(
                    at,
                    wording.plan_set_up(total, words),
                    wording.APPROVED_AUTOMATICALLY_DETAIL,
                    self.officer,
                )
            )
            self._activate(plan, at, None, wording.APPROVED_AUTOMATICALLY)
        else:
            plan.events.append(
                _Event(
                    at,
                    wording.plan_proposed(total, words),
                    wording.referred_detail(failed),
                    self.officer,
                )
            )
        return plan

    def _decide(self, plan: _Plan) -> bool:
        """A referred plan is approved by an officer (a team leader over the team-leader
        total) a day or three later, before its first payment falls due."""
        if plan.status == "active":
            return True
        staff = self.rng.choice(self.leaders) if plan.needs_leader else self.officer
        day = plan.proposed_at.date() + timedelta(days=self.rng.randint(1, 3))
        if day >= plan.terms.start:
            return False
        at = self.office_time(day)
        note = self.rng.choice(_APPROVAL_NOTES)
        plan.events.append(_Event(at, wording.plan_approved(plan.total), note, staff))
        plan.decision_reason = note
        self._activate(plan, at, staff, wording.APPROVED_BY_OFFICER)
        return True

    def _activate(self, plan: _Plan, at: datetime, staff: int | None, reason: str) -> None:
        plan.status = "active"
        plan.activated_at = plan.decided_at = at
        plan.decided_by = staff
        plan.decision_reason = plan.decision_reason or reason
        plan.events.append(
            _Event(
                at,
                action="plan.activated",
                staff_id=staff if staff is not None else self.officer,
                after={"status": "active", "reason": reason},
            )
        )

    def _payment(self, plan: _Plan, instalment) -> tuple[datetime, int]:
        """(when, pence): one instalment paid in full, by Direct Debit on its due date, by
        card up to two days early or three late (within the tolerance). Never before the
        plan was active, nor on the seed's own day."""
        day = instalment.due_date
        if plan.route == "card":
            late = min(3, self.settings.tolerance_days)
            day += timedelta(days=self.rng.randint(-2, late))
        first = plan.activated_at.date() + timedelta(days=1)
        day = min(max(day, first), self.today - timedelta(days=1))
        return self.office_time(day), instalment.amount_pence

    def _pay_link_due(self, plan: _Plan, monitored: _Monitored, day: date) -> bool:
        """Whether the monitor would send a card-paid plan a "payment due soon" pay link
        on `day`. It looks for an earlier one in the outbox, where the demo has none, so
        a plan that would get one is not made (its first run would send it again)."""
        if plan.route != "card":
            return False
        window = self.settings.due_reminder_days
        return any(
            0 <= (i.due_date - day).days <= window
            and monitored.readings[i.sequence][0] < i.amount_pence
            for i in plan.schedule
        )

    def _monitor(self, plan: _Plan, last_day: date) -> _Monitored:
        """Replay the daily monitor (shared/services/plan_monitor.py) from the first
        morning the plan was active to `last_day`, on every day something could change.

        It sees a payment the morning after it was made, as the 06:00 run does."""
        payments = plan.payments
        settings = self.settings
        first_run = plan.activated_at.date() + timedelta(days=1)
        days = {first_run, last_day}
        for instalment in plan.schedule:
            days.add(instalment.due_date + timedelta(days=settings.tolerance_days + 1))
            days.add(
                max(instalment.due_date - timedelta(days=settings.due_reminder_days), first_run)
            )
        days.update(at.date() + timedelta(days=1) for at, _ in payments)
        readings = {i.sequence: [0, None, None, None] for i in plan.schedule}
        due_sent: set[int] = set()
        events: list[tuple[date, str, int, int]] = []
        result = _Monitored(readings, events, None, None, 0, plan.total, 0)
        for on in sorted(d for d in days if first_run <= d <= last_day):
            paid = sum(amount for at, amount in payments if at.date() < on)
            assessment = assess(
                plan.schedule,
                paid,
                on,
                tolerance_days=settings.tolerance_days,
                misses_to_break=settings.misses_to_break,
                reminded={s for s, r in readings.items() if r[3] is not None},
            )
            for state in assessment.instalments:
                reading = readings[state.sequence]
                reading[0] = state.paid_pence
                reading[1] = (reading[1] or on) if state.state == PAID else None
                reading[2] = (reading[2] or on) if state.state == MISSED else None
            result.missed_now = assessment.missed
            result.unpaid_pence = sum(s.owed_pence for s in assessment.instalments)
            if assessment.completed or assessment.broken:
                result.ended = "completed" if assessment.completed else "broken"
                result.ended_on, result.missed = on, assessment.missed
                break
            for sequence in assessment.reminders_due:
                readings[sequence][3] = on
                amount = next(i.amount_pence for i in plan.schedule if i.sequence == sequence)
                events.append((on, "missed", sequence, amount))
            if plan.route == "card":
                for state in assessment.instalments:
                    if (
                        state.state in (DUE, PART_PAID)
                        and 0 <= (state.due_date - on).days <= settings.due_reminder_days
                        and state.sequence not in due_sent
                    ):
                        due_sent.add(state.sequence)
                        events.append((on, "due", state.sequence, state.owed_pence))
        return result

    def _record_monitoring(self, plan: _Plan, monitored: _Monitored) -> None:
        """The monitor's readings, timeline entries and ending, at its morning run."""
        for sequence, (paid, paid_on, missed_on, reminded_on) in monitored.readings.items():
            reminded_at = None
            if reminded_on is not None:
                reminded_at = datetime.combine(reminded_on, _MONITOR_TIME)
            plan.readings[sequence] = (paid, paid_on, missed_on, reminded_at)
        by_sequence = {i.sequence: i for i in plan.schedule}
        for day, what, sequence, pence in monitored.events:
            at = datetime.combine(day, _MONITOR_TIME)
            due = by_sequence[sequence].due_date
            if what == "missed":
                plan.events.append(
                    _Event(
                        at,
                        wording.payment_missed(PLAN_ID, sequence, pence, due),
                        wording.MISSED_REMINDER_SENT,
                    )
                )
            else:
                plan.events.append(
                    _Event(
                        at,
                        wording.payment_due_reminder(PLAN_ID, sequence, pence, due),
                        wording.DUE_REMINDER_SENT,
                    )
                )
        if monitored.ended is None:
            return
        at = datetime.combine(monitored.ended_on, _MONITOR_TIME)
        plan.status, plan.ended_at = monitored.ended, at
        if monitored.ended == "completed":
            plan.end_reason = wording.PAID_IN_FULL
            plan.events.append(
                _Event(
                    at,
                    wording.plan_completed(PLAN_ID, plan.total),
                    action="plan.completed",
                    before={"status": "active"},
                    after={"status": "completed"},
                )
            )
            return
        reason = wording.broken_reason(monitored.missed)
        plan.end_reason = reason
        plan.events.append(
            _Event(
                at,
                wording.plan_broken(PLAN_ID, plan.total, reason),
                wording.broken_detail(monitored.unpaid_pence),
                action="plan.broken",
                before={"status": "active"},
                # The debts were at these stages all along (debts_at), so none is restored.
                after={
                    "status": "broken",
                    "reason": reason,
                    "unpaid_pence": monitored.unpaid_pence,
                    "stages_restored": {},
                },
            )
        )

    # -- rows ----------------------------------------------------------------------------

    def add(self, plan: _Plan) -> None:
        """Give the plan its ids and turn it into rows."""
        rows = self.rows
        arrangement_id = self.next_id("arrangements")
        statement_id = None
        if plan.statement is not None:
            statement_id = self.next_id("income_expenditure_statements")
            submitted = min(e.at for e in plan.events if e.audit_object != "arrangement")
            rows["income_expenditure_statements"].append(
                (
                    statement_id,
                    plan.account_id,
                    None,
                    self.officer,
                    _json(plan.statement),
                    _iso(submitted),
                    _iso(submitted),
                    _iso(submitted),
                )
            )
        updated = max(
            t for t in (plan.proposed_at, plan.activated_at, plan.counter_at, plan.ended_at) if t
        )
        rows["arrangements"].append(
            (
                arrangement_id,
                plan.account_id,
                plan.status,
                plan.frequency,
                plan.total,
                _iso(plan.terms.start),
                plan.route,
                None,
                plan.proposer,
                plan.decided_by,
                _iso(plan.decided_at),
                plan.decision_reason,
                plan.terms.instalment_pence,
                plan.terms.count,
                statement_id,
                plan.outcome,
                _json(plan.rules),
                int(plan.needs_leader),
                _json(plan.original_terms),
                plan.counter_by,
                _iso(plan.counter_at),
                _iso(plan.activated_at),
                _iso(plan.ended_at),
                plan.end_reason,
                None,
                None,
                _iso(plan.proposed_at),
                _iso(updated),
            )
        )
        rows["arrangement_debts"].extend(
            (arrangement_id, d.invoice_id, d.outstanding_pence, d.stage) for d in plan.debts
        )
        for instalment in plan.schedule:
            paid, paid_on, missed_on, reminded_at = plan.readings.get(
                instalment.sequence, (0, None, None, None)
            )
            rows["instalments"].append(
                (
                    self.next_id("instalments"),
                    arrangement_id,
                    instalment.sequence,
                    _iso(instalment.due_date),
                    instalment.amount_pence,
                    paid,
                    _iso(paid_on),
                    _iso(missed_on),
                    _iso(reminded_at),
                )
            )
        self._add_payments(plan)
        for event in sorted(plan.events, key=lambda e: e.at):
            stamp = _iso(event.at)
            if event.summary is not None:
                kind = "system" if event.staff_id is None else "note"
                rows["contact_events"].append(
                    (
                        self.next_id("contact_events"),
                        plan.account_id,
                        stamp,
                        kind,
                        event.summary.replace(PLAN_ID, str(arrangement_id)),
                        event.detail,
                        None,
                        None,
                        event.staff_id,
                        stamp,
                    )
                )
            if event.action is not None:
                object_id = arrangement_id if event.audit_object == "arrangement" else statement_id
                rows["audit_log"].append(
                    (
                        self.next_id("audit_log"),
                        stamp,
                        "system" if event.staff_id is None else "staff",
                        event.staff_id,
                        event.action,
                        event.audit_object,
                        str(object_id),
                        plan.account_id,
                        _json(event.before),
                        _json(event.after),
                        None,
                    )
                )

    def _add_payments(self, plan: _Plan) -> None:
        """Each instalment paid is a payment allocated to the plan's debts, oldest due
        first, as the rest of the demo's payments are (no timeline entry of its own)."""
        owed = {d.invoice_id: d.outstanding_pence for d in plan.debts}
        order = [d.invoice_id for d in sorted(plan.debts, key=lambda d: (d.due_date, d.invoice_id))]
        method = "card" if plan.route == "card" else "direct_debit"
        for at, amount in sorted(plan.payments):
            entry_id = self.next_id("ledger_entries")
            stamp = _iso(at)
            self.rows["ledger_entries"].append(
                (
                    entry_id,
                    plan.account_id,
                    "payment",
                    -amount,
                    None,
                    method,
                    f"demo-pay-{entry_id}",
                    None,
                    _iso(at.date()),
                    None,
                    stamp,
                )
            )
            left = amount
            for invoice_id in order:
                share = min(left, owed[invoice_id])
                if share <= 0:
                    continue
                owed[invoice_id] -= share
                left -= share
                self.rows["allocations"].append(
                    (self.next_id("allocations"), entry_id, invoice_id, share, None, stamp)
                )
                if left == 0:
                    break

    def take_rows(self) -> dict[str, list[tuple]]:
        rows, self.rows = self.rows, {table: [] for table in PLAN_TABLES}
        return rows


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


def seed_plans(
    writer,
    *,
    debtors: int,
    first_account_id: int,
    last_account_id: int,
    rng: Random,
    today: date,
    staff_ids: dict[str, int],
    settings: Settings,
    next_ids: dict[str, int],
) -> dict[str, int]:
    """Give a share of the batch's debtors plans (see the module docstring); returns rows
    written per table. `next_ids` holds the next free id per table and is moved on."""
    counts = {table: 0 for table in PLAN_TABLES}
    wanted = {kind: n for kind, n in _looked_for(debtors).items() if n > 0}
    if not wanted or last_account_id < first_account_id:
        return counts
    for table in NEW_ID_TABLES:
        next_ids.setdefault(table, writer.max_id(table) + 1)
    writer.rollback()
    maker = PlanMaker(rng, today, staff_ids, load_policies(), settings, next_ids)
    db.session.close()
    for candidates in candidate_chunks(rng, first_account_id, last_account_id):
        for candidate in candidates.values():
            for kind in [k for k, n in wanted.items() if n > 0]:
                plan = maker.make(kind, candidate)
                if plan is not None:
                    maker.add(plan)
                    wanted[kind] -= 1
                    break
        rows = maker.take_rows()
        for table, columns in PLAN_TABLES.items():
            writer.write(table, columns, rows[table])
            counts[table] += len(rows[table])
        writer.commit({t: next_ids[t] - 1 for t in PLAN_TABLES if t in next_ids})
        if not any(wanted.values()):
            break
    return counts
