"""The demo's plans (shared/demo/plans.py): the kinds and how many of each, the rows' columns,
and the facts a plan is built from."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time

from shared.demo.generate import TABLES
from shared.domain import schedules
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
MONITOR_TIME = time(6, 0)  # the daily monitor's cron (shared/jobs/cron_config.py)
# Stands for the plan's id in the monitor's words (wording.payment_missed, ...) until the
# plan is written and has one.
PLAN_ID = "{id}"
# Plans that ended (broken, rejected) ended at least this many days before the seed's
# today: before the demo ladder's first run (shared/demo/recovery.py, RUN_DAYS_BACK),
# so no run moved a debt while a plan still covered it.
ENDED_BEFORE_LADDER = 29
DAYS_APART = {"weekly": 7, "fortnightly": 14, "four_weekly": 28}
PLAN_MONTHS = {"weekly": 52 / 12, "fortnightly": 26 / 12, "four_weekly": 13 / 12, "monthly": 1}
# How often debtors choose to pay (monthly most, as most are paid monthly).
FREQUENCIES = (("monthly", 60), ("fortnightly", 20), ("weekly", 10), ("four_weekly", 10))
APPROVAL_NOTES = (
    None,
    None,
    "Agreed on the phone with the debtor",
    "Affordable on the income and expenditure statement",
    "Debtor has kept to previous arrangements",
)


def quotas(debtors: int) -> dict[str, int]:
    """How many plans of each kind a batch of `debtors` gets."""
    return {kind: int(debtors * share + 0.5) for kind, share in PLAN_SHARES.items()}


def looked_for(debtors: int) -> dict[str, int]:
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
class Event:
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
class Plan:
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
    events: list[Event] = field(default_factory=list)


@dataclass
class Monitored:
    """What replaying the daily monitor over a plan's life found."""

    readings: dict[int, list]
    events: list[tuple[date, str, int, int]]  # (day, "missed" | "due", sequence, pence)
    ended: str | None  # "broken" | "completed" | None (still active)
    ended_on: date | None
    missed: int
    unpaid_pence: int
    missed_now: int  # instalments missed on the last day replayed


def iso_text(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value.isoformat()


def json_text(value) -> str | None:
    return None if value is None else json.dumps(value)
