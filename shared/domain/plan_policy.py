"""Whether an instalment plan can be approved straight away or needs an officer.

Pure: no Flask, no SQLAlchemy. Each service department has its own PlanPolicy
(stored in the database later). A proposal is never refused here: anything
outside the policy is referred to an officer, who may still agree it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from shared.domain import schedules
from shared.domain.income_expenditure import Statement, instalment_monthly_pence
from shared.domain.schedules import (
    ScheduledInstalment,
    plan_length_months,
    regular_instalment_pence,
)
from shared.formatting import format_gbp

APPROVE, REFER = "approve", "refer"

# Rule names, in the order they are checked and listed.
LENGTH = "length"
MIN_INSTALMENT = "min_instalment"
AUTO_APPROVE_LIMIT = "auto_approve_limit"
BROKEN_PLAN = "broken_plan"
LEGAL = "legal"
INCOME_EXPENDITURE = "income_expenditure"
AFFORDABILITY = "affordability"
RULES = (
    LENGTH,
    MIN_INSTALMENT,
    AUTO_APPROVE_LIMIT,
    BROKEN_PLAN,
    LEGAL,
    INCOME_EXPENDITURE,
    AFFORDABILITY,
)


@dataclass(frozen=True)
class PlanPolicy:
    max_length_months: int
    min_instalment_pence: int
    max_auto_approve_pence: int  # plans for more than this need an officer
    no_broken_plan_within_months: int  # 0: a broken plan never counts against them
    refer_if_legal: bool
    income_expenditure_above_pence: int  # ask for I&E when the plan is for more than this
    department: str = "this service"  # as it reads in "the limit for Trade waste is ..."

    def __post_init__(self) -> None:
        if self.max_length_months < 1:
            raise ValueError("max_length_months must be 1 or more")
        for name in (
            "min_instalment_pence",
            "max_auto_approve_pence",
            "no_broken_plan_within_months",
            "income_expenditure_above_pence",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more")


DEFAULT_POLICY = PlanPolicy(
    max_length_months=12,
    min_instalment_pence=500,
    max_auto_approve_pence=100_000,
    no_broken_plan_within_months=12,
    refer_if_legal=True,
    income_expenditure_above_pence=50_000,
)


@dataclass(frozen=True)
class Proposal:
    """The facts about a proposed plan that the policy is checked against."""

    total_pence: int
    length_months: int  # schedules.plan_length_months
    # The smallest instalment apart from the last, which only carries the
    # remainder (schedules.regular_instalment_pence).
    regular_instalment_pence: int
    monthly_equivalent_pence: int  # the regular instalment per month
    months_since_broken_plan: int | None  # None: never broke a plan
    legal_referral: bool  # any covered debt is with legal or enforcement
    income_expenditure_supplied: bool
    disposable_income_pence: int | None = None

    @classmethod
    def for_schedule(
        cls,
        schedule: Sequence[ScheduledInstalment],
        frequency: str,
        *,
        months_since_broken_plan: int | None,
        legal_referral: bool,
        statement: Statement | None,
    ) -> Proposal:
        """The facts for a schedule from schedules.build_schedule."""
        regular = regular_instalment_pence(schedule)
        disposable = None if statement is None else statement.disposable_income_pence
        return cls(
            total_pence=sum(i.amount_pence for i in schedule),
            length_months=plan_length_months(schedule, frequency),
            regular_instalment_pence=regular,
            monthly_equivalent_pence=instalment_monthly_pence(regular, frequency),
            months_since_broken_plan=months_since_broken_plan,
            legal_referral=legal_referral,
            income_expenditure_supplied=statement is not None,
            disposable_income_pence=disposable,
        )


@dataclass(frozen=True)
class RuleResult:
    rule: str  # one of RULES
    passed: bool
    explanation: str  # plain English, for the officer


@dataclass(frozen=True)
class Decision:
    outcome: str  # APPROVE or REFER
    rules: list[RuleResult]

    @property
    def failed(self) -> list[RuleResult]:
        return [r for r in self.rules if not r.passed]


def needs_income_expenditure(policy: PlanPolicy, total_pence: int) -> bool:
    """Whether to ask for an income and expenditure statement before the plan is submitted."""
    return total_pence > policy.income_expenditure_above_pence


def _months(n: int) -> str:
    return f"{n} month{'' if n == 1 else 's'}"


def decide(policy: PlanPolicy, proposal: Proposal) -> Decision:
    """Approve only if every rule passes, otherwise refer; every rule checked is listed."""
    p, dept = proposal, policy.department
    rules = [
        RuleResult(
            LENGTH,
            p.length_months <= policy.max_length_months,
            f"Plan lasts {_months(p.length_months)}; "
            f"the limit for {dept} is {_months(policy.max_length_months)}",
        ),
        RuleResult(
            MIN_INSTALMENT,
            p.regular_instalment_pence >= policy.min_instalment_pence,
            f"Regular payments are {format_gbp(p.regular_instalment_pence)}; "
            f"the minimum for {dept} is {format_gbp(policy.min_instalment_pence)}",
        ),
        RuleResult(
            AUTO_APPROVE_LIMIT,
            p.total_pence <= policy.max_auto_approve_pence,
            f"Plan is for {format_gbp(p.total_pence)}; {dept} approves plans "
            f"up to {format_gbp(policy.max_auto_approve_pence)} without an officer",
        ),
        _broken_plan_rule(policy, p),
        _legal_rule(policy, p),
        _income_expenditure_rule(policy, p),
        _affordability_rule(p),
    ]
    outcome = APPROVE if all(r.passed for r in rules) else REFER
    return Decision(outcome, rules)


@dataclass(frozen=True)
class Evaluation:
    """A plan checked against the policy of every department whose bills it covers."""

    outcome: str  # APPROVE only if every department's rules pass
    rules: list[dict]  # each rule, with its department, as stored on the plan
    needs_income_expenditure: bool
    needs_team_leader: bool


def evaluate(
    policies: Iterable[tuple[PlanPolicy, int]], proposal: Proposal, total_pence: int
) -> Evaluation:
    """Check `proposal` (for `total_pence`) against each (policy, team-leader threshold
    in pence) of the departments whose bills it covers."""
    outcome, rules, needs_ie, needs_leader = APPROVE, [], False, False
    for policy, team_leader_above in policies:
        decision = decide(policy, proposal)
        if decision.outcome != APPROVE:
            outcome = REFER
        needs_ie = needs_ie or needs_income_expenditure(policy, total_pence)
        needs_leader = needs_leader or total_pence > team_leader_above
        rules.extend(
            {
                "department": policy.department,
                "rule": r.rule,
                "passed": r.passed,
                "explanation": r.explanation,
            }
            for r in decision.rules
        )
    return Evaluation(outcome, rules, needs_ie, needs_leader)


def _broken_plan_rule(policy: PlanPolicy, p: Proposal) -> RuleResult:
    since, within = p.months_since_broken_plan, policy.no_broken_plan_within_months
    if since is None:
        return RuleResult(BROKEN_PLAN, True, "No broken plan on record")
    ago = "this month" if since == 0 else f"{_months(since)} ago"
    if within == 0:
        return RuleResult(
            BROKEN_PLAN,
            True,
            f"Last plan broke {ago}; {policy.department} does not refer for broken plans",
        )
    return RuleResult(
        BROKEN_PLAN,
        since >= within,
        f"Last plan broke {ago}; {policy.department} refers anyone whose plan broke "
        f"in the last {_months(within)}",
    )


def _legal_rule(policy: PlanPolicy, p: Proposal) -> RuleResult:
    if not p.legal_referral:
        return RuleResult(LEGAL, True, "No debt in the plan is with legal or enforcement")
    if not policy.refer_if_legal:
        return RuleResult(
            LEGAL,
            True,
            f"A debt in the plan is with legal or enforcement; {policy.department} "
            "does not refer these",
        )
    return RuleResult(
        LEGAL,
        False,
        f"A debt in the plan is with legal or enforcement; {policy.department} "
        "refers these to an officer",
    )


def _income_expenditure_rule(policy: PlanPolicy, p: Proposal) -> RuleResult:
    if p.income_expenditure_supplied:
        return RuleResult(INCOME_EXPENDITURE, True, "Income and expenditure statement supplied")
    needed = needs_income_expenditure(policy, p.total_pence)
    words = "is needed" if needed else "is not needed"
    return RuleResult(
        INCOME_EXPENDITURE,
        not needed,
        f"No income and expenditure statement; one {words} for a plan of "
        f"{format_gbp(p.total_pence)} ({policy.department} asks for one above "
        f"{format_gbp(policy.income_expenditure_above_pence)})",
    )


def _affordability_rule(p: Proposal) -> RuleResult:
    # Only a supplied statement can show an offer is unaffordable; with none,
    # the income_expenditure rule decides whether one was needed.
    if not p.income_expenditure_supplied or p.disposable_income_pence is None:
        return RuleResult(
            AFFORDABILITY, True, "No income and expenditure statement to check the offer against"
        )
    offer, left = p.monthly_equivalent_pence, p.disposable_income_pence
    if offer > left:
        return RuleResult(
            AFFORDABILITY,
            False,
            f"The offer of {format_gbp(offer)} a month is more than the disposable income "
            f"of {format_gbp(left)} a month",
        )
    return RuleResult(
        AFFORDABILITY,
        True,
        f"The offer of {format_gbp(offer)} a month is within the disposable income "
        f"of {format_gbp(left)} a month",
    )


# --- what a debtor is told before sending a plan ---------------------------------------
#
# The same rules, read the other way: before a proposal is sent, what would be approved
# at once and what an officer would need to look at, in the debtor's words. Only
# guidance: a proposal outside these is sent and referred, never refused.


@dataclass(frozen=True)
class QuickTerms:
    """The payments a plan for `total_pence` at one frequency needs to be approved
    without an officer, as far as its amounts go (the strictest department's rules)."""

    total_pence: int
    min_instalment_pence: int  # the smallest regular payment the rules allow
    max_length_months: int  # the longest plan the rules allow
    max_payments: int  # the most payments that both fit and keep to the minimum
    smallest_payment_pence: int  # each payment at least this: the minimum, and enough in time


def payments_within(frequency: str, months: int, start: date) -> int:
    """The most payments at `frequency` from `start` that plan_length_months counts as
    no more than `months` (12 monthly, 26 fortnightly, 13 four-weekly, 52 weekly)."""
    if frequency == schedules.MONTHLY:
        return months
    days_apart = (schedules.due_date(start, frequency, 2) - start).days
    # The plan ends when the payment after the last would fall due.
    return (schedules.add_months(start, months) - start).days // days_apart


def quick_terms(
    policies: Sequence[PlanPolicy], total_pence: int, frequency: str, starts: Iterable[date]
) -> QuickTerms | None:
    """What approves at once whichever of `starts` the first payment is on; None when no
    plan for this total can be (the total is less than the smallest payment allowed)."""
    min_instalment = max(p.min_instalment_pence for p in policies)
    max_months = min(p.max_length_months for p in policies)
    if total_pence < min_instalment or total_pence <= 0:
        return None
    fit = min(payments_within(frequency, max_months, start) for start in starts)
    max_payments = max(1, min(fit, total_pence // min_instalment))
    # Paying X each time takes ceil(total / X) payments.
    in_time = -(-total_pence // max(fit, 1))
    smallest = min(max(min_instalment, in_time), total_pence)
    return QuickTerms(total_pence, min_instalment, max_months, max_payments, smallest)


def _strictest(failing: Sequence[PlanPolicy], rule: str) -> PlanPolicy:
    """Of the departments whose `rule` failed, the one with the tightest limit."""
    key = {
        LENGTH: lambda p: p.max_length_months,
        MIN_INSTALMENT: lambda p: -p.min_instalment_pence,
        AUTO_APPROVE_LIMIT: lambda p: p.max_auto_approve_pence,
        BROKEN_PLAN: lambda p: -p.no_broken_plan_within_months,
        INCOME_EXPENDITURE: lambda p: p.income_expenditure_above_pence,
    }.get(rule)
    return min(failing, key=key) if key else failing[0]


def _debtor_words(rule: str, policy: PlanPolicy, p: Proposal) -> str:
    if rule == LENGTH:
        return (
            f"It would take {_months(p.length_months)} to pay. We can agree plans of up to "
            f"{_months(policy.max_length_months)} straight away"
        )
    if rule == MIN_INSTALMENT:
        return (
            f"Each payment of {format_gbp(p.regular_instalment_pence)} is less than "
            f"{format_gbp(policy.min_instalment_pence)}, the smallest payment we can agree "
            "straight away"
        )
    if rule == AUTO_APPROVE_LIMIT:
        return (
            f"The plan is for {format_gbp(p.total_pence)}. An officer looks at every plan "
            f"for more than {format_gbp(policy.max_auto_approve_pence)}"
        )
    if rule == BROKEN_PLAN:
        return (
            "A payment plan of yours ended early because payments were missed, in the "
            f"last {_months(policy.no_broken_plan_within_months)}"
        )
    if rule == LEGAL:
        return "One of the bills is with our legal team or enforcement agents"
    if rule == INCOME_EXPENDITURE:
        return (
            "We need to know your income and spending for a plan of more than "
            f"{format_gbp(policy.income_expenditure_above_pence)}"
        )
    return (
        f"Your payments come to {format_gbp(p.monthly_equivalent_pence)} a month, more than "
        f"the {format_gbp(p.disposable_income_pence or 0)} a month you have left over after "
        "your spending"
    )


# The rules a proposal's payments decide: changing how much or how often can pass them.
AMOUNT_RULES = (LENGTH, MIN_INSTALMENT)


@dataclass(frozen=True)
class Reason:
    rule: str  # one of RULES
    words: str  # one sentence, for the debtor


def officer_reasons(policies: Sequence[PlanPolicy], proposal: Proposal) -> list[Reason]:
    """Why an officer would need to look at this proposal, in the debtor's words: one
    sentence for each rule it fails (with the tightest department's limit), in RULES
    order; empty when it would be approved straight away."""
    failing: dict[str, list[PlanPolicy]] = {}
    for policy in policies:
        for result in decide(policy, proposal).failed:
            failing.setdefault(result.rule, []).append(policy)
    return [
        Reason(rule, _debtor_words(rule, _strictest(failing[rule], rule), proposal))
        for rule in RULES
        if rule in failing
    ]


# The rules a proposal's amounts cannot change.
_STANDING_RULES = (AUTO_APPROVE_LIMIT, BROKEN_PLAN, LEGAL)


def standing_reasons(
    policies: Sequence[PlanPolicy],
    total_pence: int,
    *,
    months_since_broken_plan: int | None,
    legal_referral: bool,
) -> list[str]:
    """Why an officer will look at any plan for these bills, whatever its payments (a
    plan this big, a recent broken plan, a debt with legal), in the debtor's words."""
    # A proposal whose amounts pass every rule, so only the standing ones can fail.
    proposal = Proposal(
        total_pence=total_pence,
        length_months=1,
        regular_instalment_pence=total_pence,
        monthly_equivalent_pence=0,
        months_since_broken_plan=months_since_broken_plan,
        legal_referral=legal_referral,
        income_expenditure_supplied=True,
    )
    reasons = []
    for rule in _STANDING_RULES:
        failing = [p for p in policies if rule in {r.rule for r in decide(p, proposal).failed}]
        if failing:
            reasons.append(_debtor_words(rule, _strictest(failing, rule), proposal))
    return reasons
