"""The payment plans and Direct Debit a signed-in debtor's account page shows.

Every live plan (waiting for an officer, an offer waiting for the debtor, or being
paid) is its own block, headed by its state, with the invoices it covers; what
the page says about paying a plan by Direct Debit comes from the account's
mandate, so a plan is never "paid by Direct Debit" when none is set up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from shared.models import (
    Arrangement,
    ArrangementDebt,
    ArrangementStatus,
    DebtorAccount,
    Instalment,
    Invoice,
    Mandate,
    MandateStatus,
)
from shared.models.plans import LIVE_ARRANGEMENT_STATUSES
from shared.services import reads

FREQUENCY_WORDS = {
    "weekly": "Every week",
    "fortnightly": "Every 2 weeks",
    "four_weekly": "Every 4 weeks",
    "monthly": "Every month",
}

MANDATE_STATUS_WORDS = {
    MandateStatus.PENDING_SUBMISSION: "Being set up",
    MandateStatus.SUBMITTED: "Being set up",
    MandateStatus.ACTIVE: "Active",
}

# Each plan's heading says its state first, so two plans never read as one.
PLAN_HEADINGS = {
    ArrangementStatus.ACTIVE: "Active payment plan",
    ArrangementStatus.PROPOSED: "Payment plan waiting for a decision",
    ArrangementStatus.COUNTER_OFFERED: "Payment plan offer waiting for your answer",
}
# The page shows the plans being paid first, then those waiting on someone.
_ORDER = {
    ArrangementStatus.ACTIVE: 0,
    ArrangementStatus.COUNTER_OFFERED: 1,
    ArrangementStatus.PROPOSED: 2,
}


@dataclass(frozen=True)
class MandateView:
    reference: str
    status: str
    account_ending: str
    id: int | None = None  # for the change and cancel links

    @property
    def active(self) -> bool:
        return self.status == MANDATE_STATUS_WORDS[MandateStatus.ACTIVE]


@dataclass(frozen=True)
class PlanView:
    """One live plan as the debtor sees it."""

    id: int
    status: ArrangementStatus
    frequency: str
    total_pence: int
    start_date: date
    by_direct_debit: bool
    next_due_date: date | None
    next_amount_pence: int | None
    invoice_numbers: tuple[str, ...] = ()

    @property
    def heading(self) -> str:
        return PLAN_HEADINGS[self.status]

    @property
    def active(self) -> bool:
        return self.status == ArrangementStatus.ACTIVE


@dataclass(frozen=True)
class LivePlans:
    plans: list[PlanView]  # active first, then waiting; newest first within each
    covered_invoice_ids: frozenset[int]  # in any live plan: no new plan may take them
    active_invoice_ids: frozenset[int]  # in a plan being paid: not "overdue" to the debtor


_NEXT_DUE = (
    sa.select(Instalment.due_date, Instalment.amount_pence)
    .where(
        Instalment.arrangement_id == Arrangement.id,
        Instalment.due_date >= sa.bindparam("today"),
    )
    .order_by(Instalment.due_date, Instalment.sequence)
    .limit(1)
    .correlate(Arrangement)
)
_PLAN_COLUMNS = (
    Arrangement.id.label("plan_id"),
    Arrangement.status.label("plan_status"),
    Arrangement.frequency.label("plan_frequency"),
    Arrangement.total_pence.label("plan_total"),
    Arrangement.start_date.label("plan_start"),
    Arrangement.payment_route.label("plan_route"),
    _NEXT_DUE.with_only_columns(Instalment.due_date).scalar_subquery().label("plan_next_due"),
    _NEXT_DUE.with_only_columns(Instalment.amount_pence)
    .scalar_subquery()
    .label("plan_next_amount"),
)
# Every live plan on the account, one row per invoice it covers (on the primary keys of
# arrangement_debts and invoices), in one statement. Read from the plans' side, not
# the invoices': a plan shows even if it covers none of the account's invoices.
_LIVE_PLANS = (
    sa.select(*_PLAN_COLUMNS, Invoice.id, Invoice.number)
    .outerjoin(ArrangementDebt, ArrangementDebt.arrangement_id == Arrangement.id)
    .outerjoin(Invoice, Invoice.id == ArrangementDebt.invoice_id)
    .where(
        Arrangement.account_id == sa.bindparam("account_id"),
        Arrangement.status.in_(LIVE_ARRANGEMENT_STATUSES),
    )
    .order_by(Arrangement.id.desc(), Invoice.due_date, Invoice.id)
)


def live_plans(account_id: int, today: date) -> LivePlans:
    """The account's live plans with the invoices each covers (one statement)."""
    plans: dict[int, tuple] = {}
    covered, active = set(), set()
    for row in reads.rows(_LIVE_PLANS, {"account_id": account_id, "today": today}):
        status = ArrangementStatus(row.plan_status)
        numbers = plans.setdefault(row.plan_id, (row, status, []))[2]
        if row.id is None:
            continue
        numbers.append(row.number)
        covered.add(row.id)
        if status == ArrangementStatus.ACTIVE:
            active.add(row.id)
    views = [_plan_view(row, status, numbers) for row, status, numbers in plans.values()]
    views.sort(key=lambda p: _ORDER[p.status])  # stable: newest first within a state
    return LivePlans(views, frozenset(covered), frozenset(active))


def _plan_view(row, status: ArrangementStatus, numbers: list[str]) -> PlanView:
    return PlanView(
        id=row.plan_id,
        status=status,
        frequency=FREQUENCY_WORDS.get(str(row.plan_frequency), str(row.plan_frequency)),
        total_pence=int(row.plan_total),
        start_date=row.plan_start,
        by_direct_debit=str(row.plan_route) == "direct_debit",
        next_due_date=row.plan_next_due,
        next_amount_pence=None if row.plan_next_amount is None else int(row.plan_next_amount),
        invoice_numbers=tuple(numbers),
    )


def _newest_mandate(column):
    return (
        sa.select(column)
        .where(
            Mandate.account_id == DebtorAccount.id,
            Mandate.status.in_(list(MANDATE_STATUS_WORDS)),
        )
        .order_by(Mandate.id.desc())
        .limit(1)
        .correlate(DebtorAccount)
        .scalar_subquery()
    )


# The account's newest live mandate as columns of the page's head statement (four
# lookups on mandates' account_id index).
MANDATE_COLUMNS = (
    _newest_mandate(Mandate.reference).label("mandate_reference"),
    _newest_mandate(Mandate.status).label("mandate_status"),
    _newest_mandate(Mandate.account_ending).label("mandate_account_ending"),
    _newest_mandate(Mandate.id).label("mandate_id"),
)


def mandate_view(row) -> MandateView | None:
    if row.mandate_reference is None:
        return None
    return MandateView(
        reference=row.mandate_reference,
        status=MANDATE_STATUS_WORDS[MandateStatus(row.mandate_status)],
        account_ending=row.mandate_account_ending,
        id=row.mandate_id,
    )
