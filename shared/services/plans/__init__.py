"""Instalment plans: proposing, deciding, counter-offering, accepting and ending them.

Lifecycle: proposed -> (counter_offered) -> active -> completed | broken | cancelled.
A plan covers whole debts (each invoice's outstanding amount when proposed).
Policy (shared/domain/plan_policy.py, one row per service department in
plan_policies) approves a proposal automatically or refers it to an officer; it
never refuses. A plan covering debts of several departments must pass every
department's rules. Every outcome keeps the rules that decided it. The daily
monitor (shared/services/plan_monitor.py) completes and breaks active plans.

The modules, by who uses them:
- terms.py: how a plan is to be paid (Terms) and the schedule the terms make;
- reads.py: the portal's reads (plannable debts, a proposal's preview, a debtor's plan);
- commands.py: the debtor's changes (propose, the I&E statement, answering a counter-offer);
- decisions.py: an officer's decisions (approve, reject, counter-offer, review a broken plan);
- queues.py: the officers' queues and the plan page;
- policy.py: each department's plan policy, as admins edit it and proposals meet it;
- wording.py: every sentence a plan event is told in (the demo data uses it too);
- _common.py: look-ups and steps the others share.

Code in the product names the module it uses (`from shared.services.plans import
commands`). The names below are re-exported for one reason: the test suite reads
the plans services as one `plans` module (`plans.propose`, `plans.Terms`, ...) in
hundreds of lines that other work edits at the same time, and a facade keeps those
lines as they are. Settings a test patches (queues.QUEUE_PAGE_SIZE) are not
re-exported, so a patch of the facade fails loudly instead of changing nothing.
"""

from shared.services.plans.commands import (
    accept_counter_offer,
    decline_counter_offer,
    propose,
    save_statement,
)
from shared.services.plans.decisions import approve, counter_offer, reject, review_broken
from shared.services.plans.policy import (
    DepartmentPolicy,
    PolicyValues,
    department_policies,
    department_policy,
    policy_problems,
    save_policy,
)
from shared.services.plans.queues import (
    PlanPage,
    PlanQueuePage,
    QueuedPlan,
    awaiting_decision,
    broken_to_review,
    parse_queue_cursor,
    plan_page,
)
from shared.services.plans.reads import (
    Debt,
    Preview,
    debtor_plan,
    income_expenditure_needed,
    latest_draft,
    live_plan_covering,
    plannable_debts,
    preview,
    submitted_statement,
)
from shared.services.plans.terms import START_WITHIN_DAYS, Terms

__all__ = [
    "START_WITHIN_DAYS",
    "Debt",
    "DepartmentPolicy",
    "PlanPage",
    "PlanQueuePage",
    "PolicyValues",
    "Preview",
    "QueuedPlan",
    "Terms",
    "accept_counter_offer",
    "approve",
    "awaiting_decision",
    "broken_to_review",
    "counter_offer",
    "decline_counter_offer",
    "department_policies",
    "department_policy",
    "debtor_plan",
    "income_expenditure_needed",
    "latest_draft",
    "live_plan_covering",
    "parse_queue_cursor",
    "plan_page",
    "plannable_debts",
    "policy_problems",
    "preview",
    "propose",
    "reject",
    "review_broken",
    "save_policy",
    "save_statement",
    "submitted_statement",
]
