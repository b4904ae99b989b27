"""What a debtor is told while proposing a plan: which payments the department's
rules would approve straight away, and what an officer would need to look at.

Read-only, and only guidance: the plan is checked again when it is sent, and a
proposal outside the rules is referred to an officer, never refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from shared.domain import plan_policy
from shared.models import Frequency
from shared.services.plans import policy, reads
from shared.services.plans.reads import LEGAL_STAGES, Preview
from shared.services.plans.terms import START_WITHIN_DAYS


@dataclass(frozen=True)
class PlanHints:
    # The payments approved straight away at the chosen frequency; None when no plan
    # for these bills can be (they come to less than the smallest payment allowed).
    quick: plan_policy.QuickTerms | None
    min_instalment_pence: int  # the smallest regular payment the rules allow
    # Why an officer will look at any plan for these bills, whatever its payments.
    standing: list[str]
    # Whether the debtor will be asked for their income and spending, and above what.
    needs_income_expenditure: bool
    income_expenditure_above_pence: int


@dataclass(frozen=True)
class ProposalHints:
    """A whole proposal, as the check page tells it before it is sent."""

    approved_at_once: bool
    reasons: list[str]  # why an officer would need to look at it (empty if approved)
    quick: plan_policy.QuickTerms | None  # what would approve at once, from its start
    # Only its payments stand in the way: paying more, or sooner, would approve it.
    payments_can_change_it: bool


def _policies(debts) -> list[plan_policy.PlanPolicy]:
    return [rules for rules, _ in policy.rules_for([d.department_id for d in debts])]


def for_bills(
    account_id: int, invoice_ids: Sequence[int], frequency: str, today: date
) -> PlanHints:
    """The hints for a plan covering these bills, paid at `frequency`, before its
    payments and first date are chosen (so whichever date in the next
    START_WITHIN_DAYS it starts on). Raises InvalidRequest if the bills cannot be planned."""
    debts = reads._chosen(account_id, invoice_ids)
    total = sum(d.outstanding_pence for d in debts)
    policies = _policies(debts)
    starts = [today + timedelta(days=n) for n in range(START_WITHIN_DAYS + 1)]
    return PlanHints(
        quick=plan_policy.quick_terms(policies, total, Frequency(frequency).value, starts),
        min_instalment_pence=max(p.min_instalment_pence for p in policies),
        standing=plan_policy.standing_reasons(
            policies,
            total,
            months_since_broken_plan=reads._months_since_broken_plan(account_id, today),
            legal_referral=any(d.recovery_stage in LEGAL_STAGES for d in debts),
        ),
        needs_income_expenditure=any(
            plan_policy.needs_income_expenditure(p, total) for p in policies
        ),
        income_expenditure_above_pence=min(p.income_expenditure_above_pence for p in policies),
    )


def for_proposal(
    account_id: int, preview: Preview, *, ie_statement_id: int | None, today: date
) -> ProposalHints:
    """The hints for a proposal whose preview (reads.preview) has been made: whether it
    would be approved at once and, if not, why, in the debtor's words."""
    policies = _policies(preview.debts)
    proposal = plan_policy.Proposal.for_schedule(
        preview.schedule,
        preview.frequency,
        months_since_broken_plan=reads._months_since_broken_plan(account_id, today),
        legal_referral=any(d.recovery_stage in LEGAL_STAGES for d in preview.debts),
        statement=reads.submitted_statement(ie_statement_id, account_id),
    )
    quick = plan_policy.quick_terms(
        policies, preview.total_pence, preview.frequency, [preview.schedule[0].due_date]
    )
    reasons = plan_policy.officer_reasons(policies, proposal)
    return ProposalHints(
        approved_at_once=preview.outcome == plan_policy.APPROVE,
        reasons=[r.words for r in reasons],
        quick=quick,
        payments_can_change_it=quick is not None
        and bool(reasons)
        and all(r.rule in plan_policy.AMOUNT_RULES for r in reasons),
    )
