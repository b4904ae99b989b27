"""The team leader's dashboard: today's queues, each with its count (and value where it
is money) and the page that works it, and the headline figures with their trend.

The queue counts are the queues' own definitions, read as one count (and sum) each
through the index the queue page itself reads by, so the dashboard costs a few
index scans however large the book; tests/views/test_dashboard.py checks each
against the queue's own service. The headline figures read the ledger by effective
date, as the collection report does (collected: payments less reversed payments;
raised: invoices less credit notes), over the two short periods they compare, and
the debt over 90 days as the aged-debt report works it out as at each date
(shared/reports/aged_debt_sql.py). The sums by effective date read
ix_ledger_entries_effective_date, not the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from shared.clock import day_starts, utcnow
from shared.domain.permissions import Permission
from shared.extensions import db
from shared.formatting import long_date
from shared.reports import aged_debt_sql as aged_sql
from shared.reports.base import Chart, Figure, Series

OVERDUE_DAYS = 90  # "debt over 90 days": 91 or more days past its due date
CHART_WEEKS = 12


@dataclass(frozen=True)
class QueueCount:
    key: str
    label: str
    count: int
    endpoint: str  # the queue's page
    permission: Permission  # who may open that page (others see the number unlinked)
    value_pence: int | None = None  # for a queue of money
    hint: str = ""


@dataclass(frozen=True)
class Dashboard:
    today: date
    queues: list[QueueCount]
    figures: list[Figure]
    chart: Chart


# --- the queues --------------------------------------------------------------------------------


def typed(sql: str, params: dict) -> sa.TextClause:
    """`sql` with its date and timestamp parameters typed, so SQLite gets them in the
    form SQLAlchemy stores them (PostgreSQL would cope either way)."""
    kinds = {datetime: sa.DateTime(), date: sa.Date()}
    return sa.text(sql).bindparams(
        *(
            sa.bindparam(name, type_=kinds[type(value)])
            for name, value in params.items()
            if type(value) in kinds and f":{name}" in sql
        )
    )


def _run(sql: str, **params) -> sa.Row:
    return db.session.execute(typed(sql, params), params).one()


def _one(sql: str, **params) -> tuple[int, int]:
    count, value = _run(sql, **params)
    return int(count or 0), int(value or 0)


def _queues(today: date) -> list[QueueCount]:
    q: list[QueueCount] = []

    def add(key, label, count_value, endpoint, permission, *, money=True, hint=""):
        count, value = count_value
        q.append(
            QueueCount(key, label, count, endpoint, permission, value if money else None, hint)
        )

    # shared/services/plans/queues.py: proposed, and broken not yet reviewed.
    add(
        "plans_to_decide",
        "Payment plans waiting for a decision",
        _one("SELECT COUNT(*), SUM(total_pence) FROM arrangements WHERE status = 'proposed'"),
        "backoffice.plan_queue",
        Permission.VIEW_CASES,
    )
    add(
        "broken_plans",
        "Broken payment plans to review",
        _one(
            "SELECT COUNT(*), SUM(total_pence) FROM arrangements "
            "WHERE status = 'broken' AND broken_reviewed_at IS NULL"
        ),
        "backoffice.broken_plans",
        Permission.VIEW_CASES,
    )
    # shared/services/directdebit/returns_queue.py waiting_count.
    add(
        "bacs_returns",
        "Direct Debit returns to work",
        _one(
            "SELECT COUNT(*), SUM(amount_pence) FROM bacs_report_items "
            "WHERE needs_officer AND resolved_at IS NULL"
        ),
        "backoffice.bacs_returns_queue",
        Permission.WORK_BACS_REPORTS,
    )
    # shared/services/unallocated.py queue_page totals.
    add(
        "unallocated",
        "Unallocated payments",
        _one("SELECT COUNT(*), SUM(unallocated_pence) FROM unallocated_credits"),
        "backoffice.unallocated_queue",
        Permission.VIEW_CASES,
    )
    # shared/services/approval_queues.py pending_queue.
    add(
        "approvals",
        "Refunds, write-offs and credit notes waiting for approval",
        _one(
            "SELECT COUNT(*), SUM(amount_pence) FROM approval_requests WHERE status = 'pending' "
            "AND kind IN ('refund', 'write_off', 'credit_note')"
        ),
        "backoffice.approval_queue",
        Permission.APPROVE,
    )
    # shared/services/contacts.py due_follow_ups, for every officer at once.
    due = """
        SELECT COUNT(*), 0 FROM contact_events e
        WHERE e.staff_id IS NOT NULL AND e.follow_up_date IS NOT NULL AND {when}
          AND NOT EXISTS (SELECT 1 FROM contact_events later
                          WHERE later.account_id = e.account_id
                            AND later.staff_id = e.staff_id AND later.id > e.id)
    """
    add(
        "follow_ups_overdue",
        "Diary follow-ups overdue",
        _one(due.format(when="e.follow_up_date < :today"), today=today),
        "backoffice.diary",
        Permission.WORK_CASES,
        money=False,
        hint="Everyone's; each officer's diary lists their own",
    )
    add(
        "follow_ups_due",
        "Diary follow-ups due today",
        _one(due.format(when="e.follow_up_date = :today"), today=today),
        "backoffice.diary",
        Permission.WORK_CASES,
        money=False,
        hint="Everyone's; each officer's diary lists their own",
    )
    # shared/services/messages/print_batch_reads.py batch_in_play and waiting_filter.
    add(
        "print_batch",
        "Letters in the print batch waiting for release",
        _one("SELECT SUM(letter_count), 0 FROM print_batches WHERE status = 'built'"),
        "backoffice.print_batches_page",
        Permission.RELEASE_PRINT_BATCHES,
        money=False,
    )
    add(
        "letters_waiting",
        "Letters waiting for the next print batch",
        _one(
            "SELECT COUNT(*), 0 FROM outbox_messages WHERE channel = 'letter' "
            "AND status = 'pending' AND print_batch_id IS NULL AND created_at <= :now "
            "AND (not_before IS NULL OR not_before <= :now)",
            now=utcnow(),
        ),
        "backoffice.print_batches_page",
        Permission.RELEASE_PRINT_BATCHES,
        money=False,
    )
    # shared/services/invoices/reads.py waiting_count.
    add(
        "invoice_checks",
        "Invoices waiting to be checked",
        _one("SELECT COUNT(*), 0 FROM invoice_drafts WHERE status = 'awaiting_check'"),
        "backoffice.invoice_checking_queue",
        Permission.CHECK_INVOICES,
        money=False,
    )
    # shared/services/card_event_refusals.py recent_refusals (nothing settles them).
    add(
        "refused_card_events",
        "Card payments refused for a wrong amount or currency",
        _one("SELECT COUNT(*), SUM(expected_amount_pence) FROM refused_card_events"),
        "backoffice.refused_card_events",
        Permission.VIEW_CASES,
    )
    return q


def queues(today: date) -> list[QueueCount]:
    """Today's queues, each with its count (and value where it is money): the dashboard's,
    and the team's totals on a team leader's back-office home (shared/services/work_list.py)."""
    return _queues(today)


# --- the headline figures ----------------------------------------------------------------------


def month_back(day: date) -> date:
    """The same day a month earlier (that month's last day when it has no such day)."""
    last_of_before = day.replace(day=1) - timedelta(days=1)
    return last_of_before.replace(day=min(day.day, last_of_before.day))


# Collected: payments less reversals of payments; raised: invoices less credit notes
# (and plus reversed credit notes). Both by effective date, as the collection report.
# The entries themselves come from ix_ledger_entries_effective_date alone; only the few
# reversals are joined to what they reverse (a join for every entry would hash the
# whole ledger).
_MONEY_SQL = """
SELECT SUM(collected) AS collected, SUM(raised) AS raised FROM (
  SELECT SUM(CASE WHEN e.kind = 'payment' THEN -e.amount_pence ELSE 0 END) AS collected,
         SUM(CASE WHEN e.kind <> 'payment' THEN e.amount_pence ELSE 0 END) AS raised
  FROM ledger_entries e
  WHERE e.kind IN ('payment', 'invoice', 'credit_note')
    AND e.effective_date >= :start AND e.effective_date <= :end
  UNION ALL
  SELECT SUM(CASE WHEN s.kind = 'payment' THEN -e.amount_pence ELSE 0 END),
         SUM(CASE WHEN s.kind = 'credit_note' THEN e.amount_pence ELSE 0 END)
  FROM ledger_entries e JOIN ledger_entries s ON s.id = e.reverses_entry_id
  WHERE e.kind = 'reversal' AND e.effective_date >= :start AND e.effective_date <= :end
) x
"""

_BROKEN_SQL = """
SELECT COUNT(*) FROM arrangements
WHERE status = 'broken' AND ended_at >= :start AND ended_at < :end
"""


def _money(start: date, end: date) -> tuple[int, int]:
    row = _run(_MONEY_SQL, start=start, end=end)
    return int(row.collected or 0), int(row.raised or 0)


def _broken(start: date, end: date) -> int:
    return int(
        _run(_BROKEN_SQL, start=day_starts(start), end=day_starts(end + timedelta(days=1)))[0] or 0
    )


def debt_over_90(now: date, then: date) -> tuple[int, int]:
    """Debt more than 90 days past due as at `now` (today) and as at `then` (an earlier
    day): the aged-debt report's figure, worked out by its statements (today's first:
    the dated one tunes the rest of the transaction for itself)."""
    over_now = aged_sql.past_due_beyond(aged_sql.AsAt.of(now, now), OVERDUE_DAYS)
    over_then = aged_sql.past_due_beyond(aged_sql.AsAt.of(then, now), OVERDUE_DAYS)
    return over_now, over_then


def _figures(today: date) -> list[Figure]:
    month_start = today.replace(day=1)
    back = month_back(today)
    last_start = back.replace(day=1)
    same_days = f"1 to {back.day} {back:%B}"
    collected, raised = _money(month_start, today)
    collected_before, raised_before = _money(last_start, back)
    over_now, over_then = debt_over_90(today, back)
    return [
        Figure(
            "Collected this month",
            collected,
            "money",
            collected_before,
            same_days,
            href_report="collection",
        ),
        Figure(
            "New debt raised this month",
            raised,
            "money",
            raised_before,
            same_days,
            href_report="collection",
        ),
        Figure(
            "Payment plans broken this month",
            _broken(month_start, today),
            "count",
            _broken(last_start, back),
            same_days,
            href_report="arrangements",
        ),
        Figure(
            "Debt over 90 days past due",
            over_now,
            "money",
            over_then,
            f"{long_date(back)}",
            href_report="aged-debt",
        ),
    ]


def weeks(today: date, count: int = CHART_WEEKS) -> list[tuple[date, date]]:
    """The last `count` weeks, Monday to Sunday, oldest first; the last is this week
    (to today)."""
    monday = today - timedelta(days=today.weekday())
    starts = [monday - timedelta(weeks=n) for n in range(count - 1, -1, -1)]
    return [(start, min(start + timedelta(days=6), today)) for start in starts]


_WEEKLY_SQL = """
SELECT day, SUM(pence) AS pence FROM (
  SELECT e.effective_date AS day, SUM(-e.amount_pence) AS pence
  FROM ledger_entries e
  WHERE e.kind = 'payment' AND e.effective_date >= :start AND e.effective_date <= :end
  GROUP BY e.effective_date
  UNION ALL
  SELECT e.effective_date, SUM(-e.amount_pence)
  FROM ledger_entries e JOIN ledger_entries s ON s.id = e.reverses_entry_id
  WHERE e.kind = 'reversal' AND s.kind = 'payment'
    AND e.effective_date >= :start AND e.effective_date <= :end
  GROUP BY e.effective_date
) x
GROUP BY day
"""


def _chart(today: date) -> Chart:
    spans = weeks(today)
    params = {"start": spans[0][0], "end": today}
    by_day: dict[date, int] = {}
    for day, pence in db.session.execute(typed(_WEEKLY_SQL, params), params):
        by_day[day if isinstance(day, date) else date.fromisoformat(str(day))] = int(pence or 0)
    totals = tuple(
        sum(pence for day, pence in by_day.items() if start <= day <= end) for start, end in spans
    )
    return Chart(
        title=f"Collected each week, the last {CHART_WEEKS} weeks",
        categories=tuple(f"{start.day} {start:%b}" for start, _end in spans),
        series=(Series("Collected", totals),),
        value_kind="money",
        kind="bar",
    )


def dashboard(today: date) -> Dashboard:
    """Today's queues and the headline figures with their trend, and the weekly chart."""
    return Dashboard(
        today=today, queues=_queues(today), figures=_figures(today), chart=_chart(today)
    )
