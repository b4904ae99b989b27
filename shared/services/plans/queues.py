"""The officers' side of plans, read-only: the queue of plans referred to an officer,
the queue of broken plans no one has reviewed, and the plan page an officer decides
from (debts, schedule, every policy rule and the I&E statement)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from shared import clock
from shared.domain import schedules
from shared.domain.income_expenditure import (
    IncomeExpenditureError,
    Statement,
    instalment_monthly_pence,
    offer_share,
)
from shared.extensions import db
from shared.models import (
    Arrangement,
    ArrangementDebt,
    ArrangementStatus,
    DebtorAccount,
    Frequency,
    IncomeExpenditureStatement,
    Instalment,
    Invoice,
)
from shared.services import keyset
from shared.services.plans import _common, wording

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


def _summary(arrangement: Arrangement, instalments: Sequence[Instalment]) -> str:
    return wording.summary_words(instalments, Frequency(arrangement.frequency).value)


def _failed_rules(arrangement: Arrangement) -> int:
    return sum(1 for r in arrangement.policy_rules or [] if not r.get("passed"))


def _queued(arrangement: Arrangement, account: DebtorAccount, since: datetime, today: date):
    return QueuedPlan(
        id=arrangement.id,
        account_reference=account.reference,
        account_name=account.display_name,
        total_pence=arrangement.total_pence,
        summary=_summary(arrangement, arrangement.instalments),
        needs_team_leader=arrangement.needs_team_leader,
        failed_rules=_failed_rules(arrangement),
        since=since,
        # `since` is a stored UTC timestamp; its age is counted in business days.
        age_days=max((today - clock.london_day(since)).days, 0),
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


# --- the plan page ---------------------------------------------------------------------------


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
    arrangement = _common.arrangement(arrangement_id)
    account = _common.account(arrangement.account_id)
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
        summary=_summary(arrangement, instalments),
        failed_rules=_failed_rules(arrangement),
        income_expenditure=_income_expenditure_summary(arrangement, instalments),
    )
