"""Direct Debit: the collections whose entry day falls in a period (sent to Bacs, paid,
returned, not yet posted), the returns among them by ARUDD reason, the mandates by
status today, and the mandates set up and cancelled in the period.

Definitions (said again under the tables):
- A collection is counted by its entry day (the day the payer's account is debited).
  "In a Bacs file" is every collection that went into a file: paid + returned + not yet
  posted = in a Bacs file, by count and by value. Paid means posted on its entry day and
  not returned so far: a return reported later (ARUDD, or an indemnity claim months on)
  moves it to returned, so a past period's figures can still change.
- A re-presentation (transaction code 18) of a "refer to payer" return is a collection
  of its own, so a debit returned and then paid is counted twice, once in each column.
- Department: an invoice's collection is its department's; an instalment's is the
  department its plan is counted under in the payment plans report (the one owing most
  of the plan).
- Mandates belong to the debtor's account, not to a department: with a department
  chosen, the mandate tables count the mandates of accounts with that department's
  invoices.
"""

from __future__ import annotations

from typing import Any

from shared.domain.bacs.reasons import ARUDD, DDIC
from shared.domain.reporting import rate_basis_points
from shared.reports.arrangements import (
    department_id,
    department_names,
    ids_by_name,
    period_bounds,
    period_words,
    plan_department_sql,
    run,
    with_data,
)
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

# The collections with an entry day in the period, each with its department.
_COLLECTIONS_CTE = f"""
WITH coll AS (
    SELECT c.status, c.amount_pence, c.return_reason, c.transaction_code,
           COALESCE(inv.department_id, {plan_department_sql("ins.arrangement_id")})
               AS department_id
    FROM dd_collections c
    LEFT JOIN invoices inv ON inv.id = c.invoice_id
    LEFT JOIN instalments ins ON ins.id = c.instalment_id
    WHERE c.collection_date >= :day_from AND c.collection_date <= :day_to
)
"""
_IN_FILE = "status IN ('submitted', 'collected', 'returned')"

_COLLECTIONS_SQL = (
    _COLLECTIONS_CTE
    + f"""
SELECT department_id, transaction_code,
       SUM(CASE WHEN {_IN_FILE} THEN 1 ELSE 0 END) AS in_file,
       SUM(CASE WHEN {_IN_FILE} THEN amount_pence ELSE 0 END) AS in_file_value,
       SUM(CASE WHEN status = 'collected' THEN 1 ELSE 0 END) AS paid,
       SUM(CASE WHEN status = 'collected' THEN amount_pence ELSE 0 END) AS paid_value,
       SUM(CASE WHEN status = 'returned' THEN 1 ELSE 0 END) AS returned,
       SUM(CASE WHEN status = 'returned' THEN amount_pence ELSE 0 END) AS returned_value,
       SUM(CASE WHEN status = 'submitted' THEN 1 ELSE 0 END) AS pending,
       SUM(CASE WHEN status = 'submitted' THEN amount_pence ELSE 0 END) AS pending_value,
       SUM(CASE WHEN status = 'scheduled' THEN 1 ELSE 0 END) AS scheduled,
       SUM(CASE WHEN status = 'scheduled' THEN amount_pence ELSE 0 END) AS scheduled_value
FROM coll
WHERE 1 = 1 /*department*/
GROUP BY department_id, transaction_code
"""
)

_RETURNS_SQL = (
    _COLLECTIONS_CTE
    + """
SELECT return_reason, COUNT(*) AS n, SUM(amount_pence) AS pence
FROM coll
WHERE status = 'returned' /*department*/
GROUP BY return_reason
"""
)
_COLLECTION_IN_DEPARTMENT = "AND department_id = :dept"

# Mandates of the accounts owing the chosen department something (see the docstring).
_MANDATE_IN_DEPARTMENT = (
    "AND EXISTS (SELECT 1 FROM invoices inv WHERE inv.account_id = m.account_id "
    "AND inv.department_id = :dept)"
)
_MANDATES_SQL = """
SELECT m.status, m.source, COUNT(*) AS n,
       SUM(CASE WHEN m.created_at >= :start AND m.created_at < :end THEN 1 ELSE 0 END) AS new,
       SUM(CASE WHEN m.cancelled_at >= :start AND m.cancelled_at < :end THEN 1 ELSE 0 END)
           AS cancelled_in_period
FROM mandates m
WHERE 1 = 1 /*department*/
GROUP BY m.status, m.source
"""

COLLECTION_KEYS = (
    "in_file",
    "in_file_value",
    "paid",
    "paid_value",
    "returned",
    "returned_value",
    "pending",
    "pending_value",
    "scheduled",
    "scheduled_value",
)
TRANSACTION_CODES = (
    ("01", "First collection (01)"),
    ("17", "Regular collection (17)"),
    ("18", "Re-presentation (18)"),
    ("19", "Final collection (19)"),
)
MANDATE_STATUSES = (
    ("pending_submission", "Waiting to be lodged"),
    ("submitted", "Lodging in a file waiting for release"),
    ("active", "Active"),
    ("cancelled", "Cancelled"),
    ("failed", "Rejected by AUDDIS"),
)
MANDATE_SOURCES = (("portal", "Online"), ("phone", "By phone"), ("paper", "Paper"))


def reason_words(code: str | None) -> str:
    """An ARUDD reason code (or DDIC) in words, as the returns queue shows it."""
    code = (code or "").strip().upper()
    if code == "DDIC":
        return DDIC.words
    if code in ARUDD:
        return ARUDD[code].words
    return f"A reason the service does not recognise ({code or 'none'})"


def _empty() -> dict[str, int]:
    return {key: 0 for key in COLLECTION_KEYS}


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    row["return_rate"] = rate_basis_points(row["returned"], row["in_file"])
    row["return_rate_value"] = rate_basis_points(row["returned_value"], row["in_file_value"])
    return row


def dd_figures(filters: ReportFilters) -> dict[str, Any]:
    """The report's numbers: collections by department and by transaction code, returns
    by reason, mandates by status and source."""
    dept = department_id(filters.department_code)
    params = {
        **period_bounds(filters),
        "day_from": filters.date_from,
        "day_to": filters.date_to,
        "dept": dept,
    }
    departments: dict[int | None, dict[str, int]] = {}
    codes = {code: _empty() for code, _ in TRANSACTION_CODES}
    for row in run(_COLLECTIONS_SQL, params, _COLLECTION_IN_DEPARTMENT):
        by_dept = departments.setdefault(row.department_id, _empty())
        by_code = codes.setdefault(row.transaction_code, _empty())
        for key in COLLECTION_KEYS:
            value = int(getattr(row, key) or 0)
            by_dept[key] += value
            by_code[key] += value
    returns = [
        {
            "code": row.return_reason or "",
            "reason": reason_words(row.return_reason),
            "returned": int(row.n),
            "returned_value": int(row.pence or 0),
        }
        for row in run(_RETURNS_SQL, params, _COLLECTION_IN_DEPARTMENT)
    ]
    returns.sort(key=lambda r: (-r["returned"], r["code"]))
    mandates: dict[tuple[str, str], dict[str, int]] = {}
    for row in run(_MANDATES_SQL, params, _MANDATE_IN_DEPARTMENT):
        mandates[(row.status, row.source)] = {
            "now": int(row.n),
            "new": int(row.new or 0),
            "cancelled": int(row.cancelled_in_period or 0),
        }
    return {
        "departments": {k: _finish(v) for k, v in departments.items()},
        "codes": {k: _finish(v) for k, v in codes.items()},
        "returns": returns,
        "mandates": mandates,
    }


def _total(rows: list[dict[str, Any]], label_key: str) -> dict[str, Any]:
    total = {key: sum(r[key] for r in rows) for key in COLLECTION_KEYS}
    total[label_key] = "Total"
    return _finish(total)


_COLLECTION_COLUMNS = (
    Column("in_file", "In a Bacs file", "count"),
    Column("in_file_value", "Value in a Bacs file", "money"),
    Column("paid", "Paid", "count"),
    Column("paid_value", "Value paid", "money"),
    Column("returned", "Returned", "count"),
    Column("returned_value", "Value returned", "money"),
    Column("pending", "Not yet posted", "count"),
    Column("pending_value", "Value not yet posted", "money"),
    Column("return_rate", "Returned (share of count)", "percent"),
    Column("scheduled", "Scheduled, not yet in a file", "count"),
    Column("scheduled_value", "Value scheduled", "money"),
)
NOTE = (
    "Collections are counted by entry day, the day the payer's account is debited. Paid, "
    "returned and not yet posted add up to what went in a Bacs file. A return reported "
    "after the period (or an indemnity claim months later) still counts against the "
    "collection's entry day, so these figures can change. A re-presented debit is a "
    "collection of its own. A plan's collections are its department's, as in the payment "
    "plans report."
)
MANDATE_NOTE = (
    "Mandates today, and those signed up or cancelled in the period. A mandate is the "
    "debtor's, not a department's: with a department chosen, these are the mandates of "
    "accounts with that department's invoices."
)


def build(filters: ReportFilters) -> ReportResult:
    figures = dd_figures(filters)
    names = department_names()
    dept_ids = ids_by_name(figures["departments"], names)
    dept_rows = [
        {"department": names.get(i, "No department"), **figures["departments"][i]} for i in dept_ids
    ]
    total = _total(dept_rows, "department")
    code_rows = [
        {"kind": label, **figures["codes"][code]}
        for code, label in TRANSACTION_CODES
        if any(figures["codes"][code][k] for k in COLLECTION_KEYS)
    ]
    returns = figures["returns"]
    mandates = figures["mandates"]
    status_rows = []
    for status, label in MANDATE_STATUSES:
        row: dict[str, Any] = {"status": label}
        for source, _ in MANDATE_SOURCES:
            row[source] = mandates.get((status, source), {}).get("now", 0)
        row["total"] = sum(row[source] for source, _ in MANDATE_SOURCES)
        status_rows.append(row)
    status_total = {"status": "Total"} | {
        key: sum(r[key] for r in status_rows) for key in (*dict(MANDATE_SOURCES), "total")
    }
    movement_rows = [
        {
            "source": label,
            "new": sum(v["new"] for (_, s), v in mandates.items() if s == source),
            "cancelled": sum(v["cancelled"] for (_, s), v in mandates.items() if s == source),
        }
        for source, label in MANDATE_SOURCES
    ]
    movement_total = {
        "source": "Total",
        "new": sum(r["new"] for r in movement_rows),
        "cancelled": sum(r["cancelled"] for r in movement_rows),
    }
    active_mandates = next(r["total"] for r in status_rows if r["status"] == "Active")
    return ReportResult(
        title="Direct Debit",
        description=(
            "Direct Debit collections with an entry day in the period (paid, returned, not "
            "yet posted), returns by reason, and mandates by status, signed up and cancelled."
        ),
        figures=[
            Figure("Paid by Direct Debit", total["paid_value"], "money"),
            Figure("Returned unpaid", total["returned_value"], "money"),
            Figure("Collections returned", total["return_rate"] or 0, "percent"),
            Figure("Active mandates today", active_mandates, "count"),
            Figure("New mandates in the period", movement_total["new"], "count"),
        ],
        charts=with_data(
            Chart(
                title="Direct Debit collections by department: paid, returned, not yet posted",
                categories=tuple(r["department"] for r in dept_rows),
                series=tuple(
                    Series(label, tuple(r[key] for r in dept_rows))
                    for key, label in (
                        ("paid_value", "Paid"),
                        ("returned_value", "Returned"),
                        ("pending_value", "Not yet posted"),
                    )
                ),
                value_kind="money",
                kind="stacked",
            ),
            Chart(
                title="Returned collections by reason",
                categories=tuple(r["reason"] for r in returns),
                series=(Series("Returned", tuple(r["returned"] for r in returns)),),
                value_kind="count",
            ),
            Chart(
                title="Mandates today by status",
                categories=tuple(r["status"] for r in status_rows),
                series=tuple(
                    Series(label, tuple(r[source] for r in status_rows))
                    for source, label in MANDATE_SOURCES
                ),
                value_kind="count",
                kind="stacked",
            ),
        ),
        tables=[
            ReportTable(
                key="collections",
                caption="Direct Debit collections by department",
                columns=(Column("department", "Department"), *_COLLECTION_COLUMNS),
                rows=dept_rows,
                totals=total,
                note=NOTE,
            ),
            ReportTable(
                key="kinds",
                caption="Direct Debit collections by kind",
                columns=(Column("kind", "Kind of collection"), *_COLLECTION_COLUMNS),
                rows=code_rows,
                totals=_total(code_rows, "kind"),
            ),
            ReportTable(
                key="returns",
                caption="Returned collections by reason",
                columns=(
                    Column("code", "Reason code"),
                    Column("reason", "Reason"),
                    Column("returned", "Returned", "count"),
                    Column("returned_value", "Value returned", "money"),
                ),
                rows=returns,
                totals={
                    "code": "Total",
                    "reason": "",
                    "returned": sum(r["returned"] for r in returns),
                    "returned_value": sum(r["returned_value"] for r in returns),
                },
                note="ARUDD reason codes as Bacs gives them; DDIC is an indemnity claim.",
            ),
            ReportTable(
                key="mandates",
                caption="Mandates today by status and how they were taken",
                columns=(
                    Column("status", "Status"),
                    *(Column(source, label, "count") for source, label in MANDATE_SOURCES),
                    Column("total", "Total", "count"),
                ),
                rows=status_rows,
                totals=status_total,
                note=MANDATE_NOTE,
            ),
            ReportTable(
                key="mandate_changes",
                caption="Mandates signed up and cancelled in the period",
                columns=(
                    Column("source", "Taken"),
                    Column("new", "Signed up", "count"),
                    Column("cancelled", "Cancelled", "count"),
                ),
                rows=movement_rows,
                totals=movement_total,
            ),
        ],
        scope=period_words(filters),
    )


register(
    Report(
        key="direct-debit",
        title="Direct Debit",
        description="Collections paid and returned, returns by reason, and mandates by "
        "status, signed up and cancelled.",
        build=build,
        uses=frozenset({"from", "to", "department"}),
    )
)
