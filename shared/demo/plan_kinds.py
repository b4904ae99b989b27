"""The demo's plans kind by kind (shared/demo/plans.py): how an active, completed,
broken, proposed, counter-offered or rejected plan came to be, each in its own words."""

from __future__ import annotations

from datetime import timedelta

from shared.demo.plan_values import (
    ACTIVE_CARD,
    ACTIVE_IN_ARREARS,
    ACTIVE_KINDS,
    BROKEN,
    COMPLETED,
    COUNTER_OFFERED,
    DAYS_APART,
    ENDED_BEFORE_LADDER,
    MAX_DEBTS_TEAM_LEADER,
    PROPOSED,
    PROPOSED_FOR_TEAM_LEADER,
    REJECTED,
    SHOWCASE,
    SHOWCASE_BILL_PENCE,
    Candidate,
    Event,
    Plan,
)
from shared.domain import schedules
from shared.domain.income_expenditure import Statement, instalment_monthly_pence
from shared.money import format_gbp
from shared.services.plans import wording
from shared.services.plans.terms import Terms


class PlanKinds:
    """The kinds of plan, for PlanMaker (which has the steps every plan shares)."""

    # -- the plans, kind by kind ---------------------------------------------------------

    def make(self, kind: str, candidate: Candidate) -> Plan | None:
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

    def _active(self, kind: str, candidate: Candidate) -> Plan | None:
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
            gap = DAYS_APART.get(frequency, 28)
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

    def _completed(self, kind: str, candidate: Candidate) -> Plan | None:
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
        # Paid by card: a plan paid by Direct Debit needs a mandate, and the demo's
        # Direct Debit book (direct_debit.py) begins after this plan's payments did.
        route = "card"
        plan = self._propose(candidate, debts, terms, schedule, route, proposed)
        if plan is None or not self._decide(plan):
            return None
        plan.payments = [self._payment(plan, i) for i in schedule]
        monitored = self._monitor(plan, today)
        if monitored.ended != "completed":
            return None
        self._record_monitoring(plan, monitored)
        return plan

    def _broken(self, kind: str, candidate: Candidate) -> Plan | None:
        """Paid for a while, then missed payments until the monitor broke it, within
        the last fortnight; no officer has reviewed it yet."""
        rng, today, settings = self.rng, self.today, self.settings
        frequency = "monthly" if rng.random() < 0.7 else "fortnightly"
        paid_before = rng.randint(1, 3)
        last_missed = paid_before + settings.misses_to_break
        # Before the demo ladder's first run (recovery.RUN_DAYS_BACK), which then found its
        # debts out of any plan, as they were.
        broke_on = today - timedelta(
            days=rng.randint(ENDED_BEFORE_LADDER, ENDED_BEFORE_LADDER + 13)
        )
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
        # Paid by card: a plan paid by Direct Debit needs a mandate, and the demo's
        # Direct Debit book (direct_debit.py) begins after this plan's payments did.
        route = "card"
        plan = self._propose(candidate, debts, terms, schedule, route, proposed)
        if plan is None or not self._decide(plan):
            return None
        plan.payments = [self._payment(plan, i) for i in schedule[:paid_before]]
        monitored = self._monitor(plan, today)
        if monitored.ended != "broken":
            return None
        self._record_monitoring(plan, monitored)
        return plan

    def _proposed(self, kind: str, candidate: Candidate) -> Plan | None:
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

    def _counter_offered(self, kind: str, candidate: Candidate) -> Plan | None:
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
            Event(
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

    def _rejected(self, kind: str, candidate: Candidate) -> Plan | None:
        """An offer that would take years, rejected by an officer (now cancelled)."""
        rng, today = self.rng, self.today
        # Decided (within four days) before the demo ladder's first run, as broken plans are.
        proposed = today - timedelta(days=rng.randint(ENDED_BEFORE_LADDER + 4, 60))
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
            Event(
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
