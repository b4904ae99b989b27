"""The aged-debt report: what is owed as at any date, by service department and by
recovery stage, in the age buckets a council reports (days past the due date as at
that date), and the drill-down from any money cell to the accounts behind it.

The figures come from the ledger (shared/reports/aged_debt_sql.py says exactly how a
past date is worked out), so a date before later payments gives the figure as it was
then. The grand total is the sum of the invoices' outstanding balances; unallocated
credit is not netted off (each account's total is its ledger balance plus its
unallocated credit).
"""

from __future__ import annotations

import re
from collections import defaultdict

import sqlalchemy as sa

from shared.domain.names import display_name
from shared.domain.reporting import AGE_BUCKET_KEYS, AGE_BUCKET_LABELS, rate_basis_points
from shared.extensions import db
from shared.formatting import long_date
from shared.models import ServiceDepartment
from shared.reports import aged_debt_sql as q
from shared.reports.base import (
    Chart,
    Column,
    Figure,
    Report,
    ReportFilters,
    ReportRefused,
    ReportResult,
    ReportTable,
    Series,
)
from shared.reports.registry import register
from shared.reports.values import format_value

DRILL_DOWN = "aged-debt-accounts"
PAGE_SIZE = 100
OVER_90 = ("91_180", "181_365", "over_365")

STAGE_LABELS = {
    "none": "Not on the ladder",
    "reminder": "Reminder",
    "final_demand": "Final demand",
    "pre_action": "Letter before action",
    "referred_legal": "Referred to legal",
    "referred_enforcement": "Referred to enforcement agents",
}

_AS_AT_NOTE = (
    "Outstanding is what each invoice still owed as at the date: invoices effective by "
    "then, less the payments, credit notes and write-offs allocated to them by then. "
    "Age is days past the due date as at that date. Unallocated credit is not taken off."
)
_STAGE_NOTE = (
    "The stage as at a past date is the invoice's stage now if it was set by then; "
    "otherwise the furthest stage its dunning runs and referrals had reached by then."
)


def _departments(code: str | None) -> list[tuple[int, str, str]]:
    """(id, code, name) of every department, or of the one asked for, by name."""
    stmt = sa.select(ServiceDepartment.id, ServiceDepartment.code, ServiceDepartment.name)
    if code:
        stmt = stmt.where(sa.func.upper(ServiceDepartment.code) == code.upper())
    return [tuple(r) for r in db.session.execute(stmt.order_by(ServiceDepartment.name))]


def _scope(filters: ReportFilters, departments: list[tuple[int, str, str]]) -> str:
    scope = f"as at {long_date(filters.as_at)}"
    if filters.department_code and departments:
        scope += f", {departments[0][2]}"
    return scope


def _link(filters: ReportFilters, **cell: str) -> dict[str, str]:
    """url_for arguments of the drill-down for a cell."""
    link = {"key": DRILL_DOWN, "as_at": filters.as_at.isoformat()}
    if filters.department_code:
        link["department"] = filters.department_code
    link.update(cell)
    return link


def _bucket_columns(first: Column, *, link: bool) -> tuple[Column, ...]:
    endpoint = "backoffice.report_page" if link else None
    return (
        first,
        *(Column(k, AGE_BUCKET_LABELS[k], "money", link=endpoint) for k in AGE_BUCKET_KEYS),
        Column("total", "Total", "money", link=endpoint),
    )


def _add_links(filters: ReportFilters, row: dict, cell: dict[str, str]) -> None:
    """Link each money cell that is not zero to the accounts behind it."""
    for bucket in (*AGE_BUCKET_KEYS, "total"):
        if row[bucket]:
            extra = {} if bucket == "total" else {"bucket": bucket}
            row[f"{bucket}__link"] = _link(filters, **cell, **extra)


def _grid_rows(
    filters: ReportFilters,
    key: str,
    labels: list[tuple[str, str, dict[str, str]]],
    sums: dict[tuple[str, str], int],
) -> tuple[list[dict], dict]:
    """One row per (row value, label, drill-down arguments), a column per bucket and
    the total, each money cell linking to the accounts behind it; then the totals row."""
    rows = []
    for value, label, cell in labels:
        row: dict = {key: label}
        for bucket in AGE_BUCKET_KEYS:
            row[bucket] = sums.get((value, bucket), 0)
        row["total"] = sum(row[b] for b in AGE_BUCKET_KEYS)
        _add_links(filters, row, cell)
        rows.append(row)
    totals: dict = {key: "Total"}
    for bucket in (*AGE_BUCKET_KEYS, "total"):
        totals[bucket] = sum(r[bucket] for r in rows)
    _add_links(filters, totals, {})
    return rows, totals


def build(filters: ReportFilters) -> ReportResult:
    departments = _departments(filters.department_code)
    at = q.AsAt.of(filters.as_at, filters.today)
    department_id = departments[0][0] if filters.department_code and departments else None
    aged = q.aged(at, department_id)

    by_department: dict[tuple[int, str], int] = defaultdict(int)
    by_stage: dict[tuple[str, str], int] = defaultdict(int)
    for c in aged.cells:
        by_department[(c.department_id, c.bucket)] += c.outstanding_pence
        by_stage[(c.stage, c.bucket)] += c.outstanding_pence

    dept_rows, dept_totals = _grid_rows(
        filters,
        "department",
        [(d_id, name, {"department": code}) for d_id, code, name in departments],
        by_department,
    )
    for row, (d_id, _code, _name) in zip(dept_rows, departments, strict=True):
        row["accounts"] = aged.accounts_by_department.get(d_id, 0)
    dept_totals["accounts"] = aged.accounts
    stage_rows, stage_totals = _grid_rows(
        filters,
        "stage",
        [(s, STAGE_LABELS[s], {"stage": s}) for s in q.STAGE_ORDER],
        by_stage,
    )

    total = dept_totals["total"]
    over_90 = sum(dept_totals[b] for b in OVER_90)
    bucket_labels = tuple(AGE_BUCKET_LABELS[k] for k in AGE_BUCKET_KEYS)
    shown = [r for r in dept_rows if r["total"]] or dept_rows[:1]
    charts = [
        Chart(
            title="Outstanding by age and department",
            categories=bucket_labels,
            series=tuple(
                Series(r["department"], tuple(r[k] for k in AGE_BUCKET_KEYS)) for r in shown
            ),
            kind="stacked",
        ),
        Chart(
            title="Outstanding by age and recovery stage",
            categories=bucket_labels,
            series=tuple(
                Series(r["stage"], tuple(r[k] for k in AGE_BUCKET_KEYS))
                for r in stage_rows
                if r["total"]
            )
            or (Series(STAGE_LABELS["none"], (0,) * len(AGE_BUCKET_KEYS)),),
            kind="stacked",
        ),
    ]
    tables = [
        ReportTable(
            key="by_department",
            caption="Outstanding by service department and days past due",
            columns=(
                *_bucket_columns(Column("department", "Department"), link=True),
                Column("accounts", "Accounts in debt", "count"),
            ),
            rows=dept_rows,
            totals=dept_totals,
            note=_AS_AT_NOTE + " An account owing on more than one department's invoices "
            "counts once in the total.",
        ),
        ReportTable(
            key="by_stage",
            caption="Outstanding by recovery stage and days past due",
            columns=_bucket_columns(Column("stage", "Recovery stage"), link=True),
            rows=stage_rows,
            totals=stage_totals,
            note=_STAGE_NOTE if not at.current else None,
        ),
    ]
    return ReportResult(
        title="Aged debt",
        description=(
            "What is owed as at a date, by service department and recovery stage, "
            "aged by days past the due date, from the ledger as it stood on that date."
        ),
        figures=[
            Figure("Total outstanding", total, "money"),
            Figure("Over 90 days past due", over_90, "money"),
            Figure(
                "Share over 90 days past due", rate_basis_points(over_90, total) or 0, "percent"
            ),
            Figure("Accounts in debt", aged.accounts, "count"),
        ],
        charts=charts,
        tables=tables,
        scope=_scope(filters, departments),
    )


_AFTER = re.compile(r"^\d{1,18}$")


def _cell_query(filters: ReportFilters) -> tuple[q.CellQuery, int | None, str]:
    """The cell a drill-down asks for, and where its page starts; refuses a bad one."""
    params = filters.params
    bucket = (params.get("bucket") or "").strip() or None
    if bucket is not None and bucket not in AGE_BUCKET_KEYS:
        raise ReportRefused(
            "bucket", "Choose an age from the aged-debt report: " + ", ".join(AGE_BUCKET_KEYS)
        )
    stage = (params.get("stage") or "").strip() or None
    if stage is not None and stage not in q.STAGE_ORDER:
        raise ReportRefused(
            "stage",
            "Choose a recovery stage from the aged-debt report: " + ", ".join(q.STAGE_ORDER),
        )
    after_text = (params.get("after") or "").strip()
    if after_text and not _AFTER.match(after_text):
        raise ReportRefused("after", "The page to start after must be an account number")
    department_id, words = None, "every department"
    if filters.department_code:
        found = _departments(filters.department_code)
        if not found:
            raise ReportRefused("department", "There is no such department")
        department_id, words = found[0][0], found[0][2]
    parts = [words]
    if bucket:
        parts.append(
            AGE_BUCKET_LABELS[bucket].lower() + " past due"
            if bucket != "current"
            else "not yet past due"
        )
    if stage:
        parts.append(f"at {STAGE_LABELS[stage].lower()}")
    return (
        q.CellQuery(department_id, bucket, stage),
        int(after_text) if after_text else None,
        ", ".join(parts),
    )


def build_accounts(filters: ReportFilters) -> ReportResult:
    cell, after, words = _cell_query(filters)
    at = q.AsAt.of(filters.as_at, filters.today)
    found = q.accounts_in_cell(at, cell, after=after, limit=PAGE_SIZE + 1)
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    pence, accounts = q.cell_total(at, cell)
    rows = [
        {
            "reference": a.reference,
            "reference__link": {"reference": a.reference},
            "name": display_name(a.kind, a.title, a.forename, a.surname, a.organisation_name),
            "outstanding": a.outstanding_pence,
            "invoices": a.invoices,
            "oldest_due": a.oldest_due,
        }
        for a in found
    ]
    note = f"{accounts:,} accounts owe {format_value(pence, 'money')} in this cell"
    if after or more:
        note += (
            f"; this page shows up to {PAGE_SIZE}, by account, and the total is the whole cell's"
        )
    return ReportResult(
        title="Aged debt: the accounts behind a figure",
        description=f"The accounts owing on invoices in {words}, as at {long_date(filters.as_at)}.",
        figures=[
            Figure("Outstanding in this cell", pence, "money"),
            Figure("Accounts", accounts, "count"),
        ],
        tables=[
            ReportTable(
                key="accounts",
                caption=f"Accounts: {words}",
                columns=(
                    Column("reference", "Account", link="backoffice.case_view"),
                    Column("name", "Name"),
                    Column("outstanding", "Outstanding in this cell", "money"),
                    Column("invoices", "Invoices", "count"),
                    Column("oldest_due", "Oldest due date", "date"),
                ),
                rows=rows,
                totals={
                    "reference": "Total",
                    "outstanding": pence,
                    "invoices": sum(r["invoices"] for r in rows),
                }
                if not more and not after
                else None,
                note=note,
                next_after=str(found[-1].account_id) if more else None,
            )
        ],
        scope=f"as at {long_date(filters.as_at)}, {words}",
    )


register(
    Report(
        key="aged-debt",
        title="Aged debt",
        description=(
            "Outstanding debt as at any date by service department and recovery stage, "
            "aged by days past due, with the accounts behind each figure."
        ),
        build=build,
        uses=frozenset({"as_at", "department"}),
        in_pack=True,
    )
)
register(
    Report(
        key=DRILL_DOWN,
        title="Aged debt: accounts",
        description="The accounts behind a figure of the aged-debt report.",
        build=build_accounts,
        uses=frozenset({"as_at", "department"}),
        listed=False,
    )
)
