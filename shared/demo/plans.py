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
running it on the day of seeding changes nothing. Plans that ended (broken, completed)
were paid by card: the demo's Direct Debit book (direct_debit.py) begins after them, and
no plan is paid by Direct Debit without a mandate.

In parts: plan_values.py (the kinds, columns and facts), plan_candidates.py (reading the
batch), plan_kinds.py (each kind's story), plan_rows.py (the rows); PlanMaker here holds
the steps every plan shares and the monitor's replay.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from random import Random

from shared.demo.plan_candidates import (
    candidate_chunks,
    in_live_plan,
    load_candidates,
    load_policies,
)
from shared.demo.plan_kinds import PlanKinds
from shared.demo.plan_rows import PlanRows
from shared.demo.plan_values import (
    ACTIVE_CARD,
    ACTIVE_DIRECT_DEBIT,
    ACTIVE_IN_ARREARS,
    APPROVAL_NOTES,
    BROKEN,
    COMPLETED,
    COUNTER_OFFERED,
    DAYS_APART,
    FREQUENCIES,
    MAX_DEBTS,
    MONITOR_TIME,
    NEW_ID_TABLES,
    PLAN_ID,
    PLAN_MONTHS,
    PLAN_TABLES,
    PROPOSED,
    PROPOSED_FOR_TEAM_LEADER,
    REJECTED,
    Candidate,
    Debt,
    Event,
    Monitored,
    Plan,
    Settings,
    looked_for,
    quotas,
)
from shared.domain import plan_policy, schedules
from shared.domain.income_expenditure import Statement, instalment_monthly_pence
from shared.domain.plan_monitoring import DUE, MISSED, PAID, PART_PAID, assess
from shared.extensions import db
from shared.services.plans import reads, wording
from shared.services.plans.terms import Terms

__all__ = [
    "ACTIVE_CARD",
    "ACTIVE_DIRECT_DEBIT",
    "ACTIVE_IN_ARREARS",
    "BROKEN",
    "COMPLETED",
    "COUNTER_OFFERED",
    "NEW_ID_TABLES",
    "PLAN_TABLES",
    "PROPOSED",
    "PROPOSED_FOR_TEAM_LEADER",
    "REJECTED",
    "PlanMaker",
    "Settings",
    "in_live_plan",
    "load_candidates",
    "quotas",
    "seed_plans",
]


class PlanMaker(PlanKinds, PlanRows):
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
        names = [name for name, _ in FREQUENCIES]
        return self.rng.choices(names, weights=[w for _, w in FREQUENCIES])[0]

    def max_count(self, frequency: str, months: int | None = None) -> int:
        """Instalments in `months` (default: the longest plan policy approves)."""
        return math.floor((months or self.max_months) * PLAN_MONTHS[frequency] + 1e-9)

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
        return due - timedelta(days=DAYS_APART[frequency] * (sequence - 1))

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
    ) -> Plan | None:
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
        plan = Plan(
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
                Event(
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
            Event(
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
                Event(
                    at,
                    wording.plan_set_up(total, words),
                    wording.APPROVED_AUTOMATICALLY_DETAIL,
                    self.officer,
                )
            )
            self._activate(plan, at, None, wording.APPROVED_AUTOMATICALLY)
        else:
            plan.events.append(
                Event(
                    at,
                    wording.plan_proposed(total, words),
                    wording.referred_detail(failed),
                    self.officer,
                )
            )
        return plan

    def _decide(self, plan: Plan) -> bool:
        """A referred plan is approved by an officer (a team leader over the team-leader
        total) a day or three later, before its first payment falls due."""
        if plan.status == "active":
            return True
        staff = self.rng.choice(self.leaders) if plan.needs_leader else self.officer
        day = plan.proposed_at.date() + timedelta(days=self.rng.randint(1, 3))
        if day >= plan.terms.start:
            return False
        at = self.office_time(day)
        note = self.rng.choice(APPROVAL_NOTES)
        plan.events.append(Event(at, wording.plan_approved(plan.total), note, staff))
        plan.decision_reason = note
        self._activate(plan, at, staff, wording.APPROVED_BY_OFFICER)
        return True

    def _activate(self, plan: Plan, at: datetime, staff: int | None, reason: str) -> None:
        plan.status = "active"
        plan.activated_at = plan.decided_at = at
        plan.decided_by = staff
        plan.decision_reason = plan.decision_reason or reason
        plan.events.append(
            Event(
                at,
                action="plan.activated",
                staff_id=staff if staff is not None else self.officer,
                after={"status": "active", "reason": reason},
            )
        )

    def _payment(self, plan: Plan, instalment) -> tuple[datetime, int]:
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

    def _pay_link_due(self, plan: Plan, monitored: Monitored, day: date) -> bool:
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

    def _monitor(self, plan: Plan, last_day: date) -> Monitored:
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
        result = Monitored(readings, events, None, None, 0, plan.total, 0)
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

    def _record_monitoring(self, plan: Plan, monitored: Monitored) -> None:
        """The monitor's readings, timeline entries and ending, at its morning run."""
        for sequence, (paid, paid_on, missed_on, reminded_on) in monitored.readings.items():
            reminded_at = None
            if reminded_on is not None:
                reminded_at = datetime.combine(reminded_on, MONITOR_TIME)
            plan.readings[sequence] = (paid, paid_on, missed_on, reminded_at)
        by_sequence = {i.sequence: i for i in plan.schedule}
        for day, what, sequence, pence in monitored.events:
            at = datetime.combine(day, MONITOR_TIME)
            due = by_sequence[sequence].due_date
            if what == "missed":
                plan.events.append(
                    Event(
                        at,
                        wording.payment_missed(PLAN_ID, sequence, pence, due),
                        wording.MISSED_REMINDER_SENT,
                    )
                )
            else:
                plan.events.append(
                    Event(
                        at,
                        wording.payment_due_reminder(PLAN_ID, sequence, pence, due),
                        wording.DUE_REMINDER_SENT,
                    )
                )
        if monitored.ended is None:
            return
        at = datetime.combine(monitored.ended_on, MONITOR_TIME)
        plan.status, plan.ended_at = monitored.ended, at
        if monitored.ended == "completed":
            plan.end_reason = wording.PAID_IN_FULL
            plan.events.append(
                Event(
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
            Event(
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
    wanted = {kind: n for kind, n in looked_for(debtors).items() if n > 0}
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
