"""Payment plans (arrangements): how many are being paid today, how many started, were
completed, broke or were cancelled in a period, the share of those started that were
kept, the money still to pay under them and the money paid through them, by service
department and by the route each plan pays by.

Definitions (said again under the tables, so a reader need not come here):
- A plan counts once it became active (an officer or policy agreed it); proposals and
  counter-offers still waiting are not arrangements yet.
- Each plan belongs to ONE department: the one whose debts make up most of it (a tie
  goes to the lower department id). So every row adds up to the totals, and the
  department filter shows the same plans as that department's row.
- Started: became active in the period. Completed, broken, cancelled: ended so in the
  period (whenever they started). Active today: being paid now, whatever the period;
  "in arrears" when the monitor's last reading has an instalment missed.
- Kept: of the plans started in the period, those completed, or still active with no
  instalment missed, judged today. Share kept = kept / started.
- Still to pay: each active plan's total less what has been allocated to its debts
  since it began (the plan monitor's reading of the ledger), never below nothing.
- Collected through plans: payments allocated to a plan's debts in the period while the
  plan was running (net of payments taken back, such as returned Direct Debits), by the
  way the money came (shared/domain/reporting.channel_of).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from shared import clock
from shared.domain.reporting import CHANNELS, channel_of, rate_basis_points
from shared.extensions import db
from shared.formatting import long_date
from shared.reports.base import (
    Chart,
    Column,
    Figure,
    Report,
    ReportFilters,
    ReportResult,
    ReportTable,
    Series,
)
from shared.reports.registry import register

ROUTES = (("card", "Card"), ("direct_debit", "Direct Debit"), ("other", "Other"))
ROUTE_LABELS = dict(ROUTES)


# The one department each plan belongs to: the one owing most of it (ties: lower id).
# The department owing most of plan `{plan}` (ties: the lower id). A correlated
# subquery, so each plan reads its own few debts by key: a join of every plan's debts
# to the invoices makes PostgreSQL scan all invoices (a million at scale).
def plan_department_sql(plan: str) -> str:
    return f"""(SELECT inv.department_id
        FROM arrangement_debts ad JOIN invoices inv ON inv.id = ad.invoice_id
        WHERE ad.arrangement_id = {plan}
        GROUP BY inv.department_id
        ORDER BY SUM(ad.amount_pence) DESC, inv.department_id
        LIMIT 1)"""


# Every plan that became active, with its department, when it began and ended.
_PLANS_SQL = f"""
WITH agreed AS (
    SELECT a.id, {plan_department_sql("a.id")} AS department_id, a.payment_route AS route,
           a.status, a.total_pence,
           COALESCE(a.activated_at, a.decided_at, a.created_at) AS began_at,
           COALESCE(a.ended_at, a.updated_at) AS ended_at
    FROM arrangements a
    WHERE a.status IN ('active', 'completed', 'broken')
       OR (a.status = 'cancelled' AND a.activated_at IS NOT NULL)
),
plans AS (SELECT * FROM agreed pd WHERE 1 = 1 /*department*/)
"""

_PLAN_IN_DEPARTMENT = "AND pd.department_id = :dept"

_COUNTS_SQL = (
    _PLANS_SQL
    + """,
arrears AS (
    SELECT DISTINCT ins.arrangement_id FROM instalments ins
    JOIN plans p ON p.id = ins.arrangement_id
    WHERE p.status = 'active' AND ins.missed_on IS NOT NULL
),
paid AS (
    SELECT ad.arrangement_id, SUM(al.amount_pence) AS pence
    FROM plans p
    JOIN arrangement_debts ad ON ad.arrangement_id = p.id
    JOIN allocations al ON al.invoice_id = ad.invoice_id
    WHERE p.status = 'active' AND al.created_at >= p.began_at
    GROUP BY ad.arrangement_id
),
facts AS (
    SELECT p.department_id, p.route, p.status, p.total_pence,
           CASE WHEN p.began_at >= :start AND p.began_at < :end THEN 1 ELSE 0 END AS started,
           CASE WHEN p.status <> 'active' AND p.ended_at >= :start AND p.ended_at < :end
                THEN 1 ELSE 0 END AS ended,
           CASE WHEN ar.arrangement_id IS NULL THEN 0 ELSE 1 END AS in_arrears,
           CASE WHEN COALESCE(pd.pence, 0) <= 0 THEN p.total_pence
                WHEN pd.pence >= p.total_pence THEN 0
                ELSE p.total_pence - pd.pence END AS to_pay
    FROM plans p
    LEFT JOIN arrears ar ON ar.arrangement_id = p.id
    LEFT JOIN paid pd ON pd.arrangement_id = p.id
)
SELECT department_id, route,
       SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END) AS active,
       SUM(CASE WHEN status = 'active' THEN in_arrears ELSE 0 END) AS in_arrears,
       SUM(started) AS started,
       SUM(CASE WHEN status = 'completed' THEN ended ELSE 0 END) AS completed,
       SUM(CASE WHEN status = 'broken' THEN ended ELSE 0 END) AS broken,
       SUM(CASE WHEN status = 'cancelled' THEN ended ELSE 0 END) AS cancelled,
       SUM(CASE WHEN started = 1 AND status = 'completed' THEN 1 ELSE 0 END)
           AS started_completed,
       SUM(CASE WHEN started = 1 AND status = 'active' AND in_arrears = 0 THEN 1 ELSE 0 END)
           AS started_up_to_date,
       SUM(CASE WHEN started = 1 AND status = 'active' AND in_arrears = 1 THEN 1 ELSE 0 END)
           AS started_in_arrears,
       SUM(CASE WHEN started = 1 AND status = 'broken' THEN 1 ELSE 0 END) AS started_broken,
       SUM(CASE WHEN started = 1 AND status = 'cancelled' THEN 1 ELSE 0 END)
           AS started_cancelled,
       SUM(CASE WHEN status = 'active' THEN total_pence ELSE 0 END) AS active_value,
       SUM(CASE WHEN status = 'active' THEN to_pay ELSE 0 END) AS to_pay
FROM facts
GROUP BY department_id, route
"""
)

# Payments allocated to a plan's debts in the period while the plan ran, by method.
_COLLECTED_SQL = (
    _PLANS_SQL
    + """
SELECT p.department_id, p.route, pay.method, SUM(al.amount_pence) AS pence
FROM plans p
JOIN arrangement_debts ad ON ad.arrangement_id = p.id
JOIN allocations al ON al.invoice_id = ad.invoice_id
JOIN ledger_entries pay ON pay.id = al.credit_entry_id AND pay.kind = 'payment'
WHERE al.created_at >= p.began_at
  AND (p.status = 'active' OR al.created_at <= p.ended_at)
  AND al.created_at >= :start AND al.created_at < :end
GROUP BY p.department_id, p.route, pay.method
"""
)

COUNT_KEYS = (
    "active",
    "in_arrears",
    "started",
    "completed",
    "broken",
    "cancelled",
    "started_completed",
    "started_up_to_date",
    "started_in_arrears",
    "started_broken",
    "started_cancelled",
)
# What became of the plans started in the period, as they stand today.
STARTED_STATES = (
    ("started_completed", "Completed"),
    ("started_up_to_date", "Active, up to date"),
    ("started_in_arrears", "Active, in arrears"),
    ("started_broken", "Broken"),
    ("started_cancelled", "Cancelled"),
)
MONEY_KEYS = ("active_value", "to_pay", "collected")


def department_id(code: str | None) -> int | None:
    """The id of the department with this code (None: every department)."""
    if code is None:
        return None
    return db.session.scalar(
        sa.text("SELECT id FROM service_departments WHERE UPPER(code) = :code"),
        {"code": code.upper()},
    )


def department_names() -> dict[int, str]:
    return dict(db.session.execute(sa.text("SELECT id, name FROM service_departments")).all())


def period_bounds(filters: ReportFilters) -> dict[str, Any]:
    """The period as stored-timestamp moments: from the start of its first English day
    to the start of the day after its last (shared/clock.day_starts)."""
    return {
        "start": clock.day_starts(filters.date_from),
        "end": clock.day_starts(filters.date_to + timedelta(days=1)),
    }


def period_words(filters: ReportFilters) -> str:
    return f"{long_date(filters.date_from)} to {long_date(filters.date_to)}"


def run(sql: str, params: dict[str, Any], department_sql: str = "") -> list[sa.Row]:
    """`sql` with its /*department*/ marker made `department_sql` when a department is
    chosen (params["dept"]), and the period's bounds typed for the dialect."""
    if params.get("dept") is not None:
        sql = sql.replace("/*department*/", department_sql)
    types = {
        "start": sa.DateTime(),
        "end": sa.DateTime(),
        "day_from": sa.Date(),
        "day_to": sa.Date(),
    }
    statement = sa.text(sql).bindparams(
        *(sa.bindparam(name, type_=t) for name, t in types.items() if f":{name}" in sql)
    )
    used = {name: value for name, value in params.items() if f":{name}" in sql}
    return db.session.execute(statement, used).all()


def route_key(route: str | None) -> str:
    return route if route in ROUTE_LABELS and route != "other" else "other"


def _empty() -> dict[str, int]:
    return {key: 0 for key in (*COUNT_KEYS, *MONEY_KEYS)}


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    row["kept"] = row["started_completed"] + row["started_up_to_date"]
    row["share_kept"] = rate_basis_points(row["kept"], row["started"])
    return row


def plan_figures(filters: ReportFilters) -> dict[str, Any]:
    """The report's numbers: {"departments": {id: row}, "routes": {key: row},
    "channels": {key: pence}, "by_department_channel": {(id, key): pence}}."""
    params = {**period_bounds(filters), "dept": department_id(filters.department_code)}
    departments: dict[int, dict[str, int]] = {}
    routes = {key: _empty() for key, _ in ROUTES}
    for row in run(_COUNTS_SQL, params, _PLAN_IN_DEPARTMENT):
        dept = departments.setdefault(row.department_id, _empty())
        route = routes[route_key(row.route)]
        for key in (*COUNT_KEYS, "active_value", "to_pay"):
            value = int(getattr(row, key) or 0)
            dept[key] += value
            route[key] += value
    channels = {key: 0 for key, _ in CHANNELS}
    by_department_channel: dict[tuple[int, str], int] = {}
    for row in run(_COLLECTED_SQL, params, _PLAN_IN_DEPARTMENT):
        pence = int(row.pence or 0)
        channel = channel_of(row.method)
        departments.setdefault(row.department_id, _empty())["collected"] += pence
        routes[route_key(row.route)]["collected"] += pence
        channels[channel] += pence
        key = (row.department_id, channel)
        by_department_channel[key] = by_department_channel.get(key, 0) + pence
    return {
        "departments": {k: _finish(v) for k, v in departments.items()},
        "routes": {k: _finish(v) for k, v in routes.items()},
        "channels": channels,
        "by_department_channel": by_department_channel,
    }


def _total(rows: list[dict[str, Any]], label_key: str) -> dict[str, Any]:
    total = {key: sum(r[key] for r in rows) for key in (*COUNT_KEYS, *MONEY_KEYS)}
    total[label_key] = "Total"
    return _finish(total)


_COUNT_COLUMNS = (
    Column("active", "Active today", "count"),
    Column("in_arrears", "Of which in arrears", "count"),
    Column("started", "Started", "count"),
    Column("completed", "Completed", "count"),
    Column("broken", "Broken", "count"),
    Column("cancelled", "Cancelled", "count"),
    Column("share_kept", "Share kept", "percent"),
)
_MONEY_COLUMNS = (
    Column("active_value", "Agreed value of active plans", "money"),
    Column("to_pay", "Still to pay on active plans", "money"),
    Column("collected", "Collected through plans", "money"),
)
_STARTED_COLUMNS = (
    Column("started", "Started", "count"),
    *(Column(key, label, "count") for key, label in STARTED_STATES),
    Column("kept", "Kept", "count"),
    Column("share_kept", "Share kept", "percent"),
)

NOTE = (
    "A plan counts once it was agreed. Each plan is counted under the one department whose "
    "debts make up most of it. Started, completed, broken and cancelled are in the period; "
    "active today and still to pay are as they stand today. Kept: of the plans started in "
    "the period, those completed or still active with no instalment missed, judged today; "
    "the share kept is kept divided by started. Collected through plans: payments applied "
    "to a plan's debts in the period while it ran, less any taken back."
)


def build(filters: ReportFilters) -> ReportResult:
    figures = plan_figures(filters)
    names = department_names()
    dept_ids = ids_by_name(figures["departments"], names)
    dept_rows = [
        {"department": names.get(i, "No department"), **figures["departments"][i]} for i in dept_ids
    ]
    route_rows = [
        {"route": label, **figures["routes"][key]}
        for key, label in ROUTES
        if key != "other" or any(figures["routes"]["other"].values())
    ]
    dept_total = _total(dept_rows, "department")
    route_total = _total(route_rows, "route")
    channel_rows = [
        {"channel": label, "collected": figures["channels"][key]}
        for key, label in CHANNELS
        if figures["channels"][key]
    ]
    categories = tuple(r["department"] for r in dept_rows)
    charts = [
        Chart(
            title="Plans started in the period, by department and how they stand today",
            categories=categories,
            series=tuple(
                Series(label, tuple(r[key] for r in dept_rows)) for key, label in STARTED_STATES
            ),
            value_kind="count",
            kind="stacked",
        ),
        Chart(
            title="Plans by department: active today, and ended in the period",
            categories=categories,
            series=tuple(
                Series(label, tuple(r[key] for r in dept_rows))
                for key, label in (
                    ("active", "Active today"),
                    ("completed", "Completed"),
                    ("broken", "Broken"),
                    ("cancelled", "Cancelled"),
                )
            ),
            value_kind="count",
            kind="stacked",
        ),
        Chart(
            title="Collected through plans in the period, by department and how it was paid",
            categories=categories,
            series=tuple(
                Series(
                    label,
                    tuple(
                        figures["by_department_channel"].get((dept_id, key), 0)
                        for dept_id in dept_ids
                    ),
                )
                for key, label in CHANNELS
                if figures["channels"][key]
            ),
            value_kind="money",
            kind="stacked",
        ),
    ]
    return ReportResult(
        title="Payment plans",
        description=(
            "Payment plans active today and started, completed, broken or cancelled in the "
            "period, the share kept, and the money under and through them, by department "
            "and by how each plan pays."
        ),
        figures=[
            Figure("Plans active today", dept_total["active"], "count"),
            Figure("Plans started in the period", dept_total["started"], "count"),
            _share_kept_figure(dept_total),
            Figure("Still to pay on active plans", dept_total["to_pay"], "money"),
            Figure("Collected through plans in the period", dept_total["collected"], "money"),
        ],
        charts=with_data(*charts),
        tables=[
            ReportTable(
                key="departments",
                caption="Payment plans by department",
                columns=(Column("department", "Department"), *_COUNT_COLUMNS, *_MONEY_COLUMNS),
                rows=dept_rows,
                totals=dept_total,
                note=NOTE,
            ),
            ReportTable(
                key="started",
                caption="Plans started in the period, by department and how they stand today",
                columns=(Column("department", "Department"), *_STARTED_COLUMNS),
                rows=dept_rows,
                totals=dept_total,
                note="Kept: completed, or still active with no instalment missed.",
            ),
            ReportTable(
                key="routes",
                caption="Payment plans by how they pay",
                columns=(Column("route", "Paid by"), *_COUNT_COLUMNS, *_MONEY_COLUMNS),
                rows=route_rows,
                totals=route_total,
                note="The route is the one agreed for the plan; how the money actually came "
                "is in the next table.",
            ),
            ReportTable(
                key="channels",
                caption="Collected through plans in the period, by how it was paid",
                columns=(Column("channel", "Paid by"), Column("collected", "Collected", "money")),
                rows=channel_rows,
                totals={"channel": "Total", "collected": dept_total["collected"]},
            ),
        ],
        scope=period_words(filters),
    )


def with_data(*charts: Chart) -> list[Chart]:
    """The charts with something to draw (an empty one says nothing the table does not)."""
    return [c for c in charts if c.categories and c.series and any(any(s.values) for s in c.series)]


def _share_kept_figure(total: dict[str, Any]) -> Figure:
    if total["share_kept"] is None:  # nothing started: no share to give
        return Figure("Plans started and kept", 0, "count")
    return Figure("Share of plans started that were kept", total["share_kept"], "percent")


def ids_by_name(departments: dict[int, Any], names: dict[int, str]) -> list[int]:
    """The department ids in the order their rows are shown: by name."""
    return sorted(departments, key=lambda i: (names.get(i, "No department"), i or 0))


register(
    Report(
        key="arrangements",
        title="Payment plans",
        description="Plans active, started, completed and broken, the share kept, and the "
        "money under and through them, by department and by how they pay.",
        build=build,
        uses=frozenset({"from", "to", "department"}),
        in_pack=True,
    )
)
