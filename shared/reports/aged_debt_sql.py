"""The aged-debt report's SQL: what each invoice still owed as at a date, its age and
its recovery stage, summed by department, stage and age bucket in one grouped query.

As at today (or later) the figures are the books as they stand: every invoice, less
every allocation, at the stage the invoice is at now; the grand total is the
reconciliation's sum of outstanding invoice balances (shared/reports/reconciliation.py).

As at an earlier date D the figures are the books as they were on D:
- an invoice counts once its invoice ledger entry is effective on or before D;
- an allocation (which has only a created_at) counts from the latest of its credit
  entry's effective date, its invoice's effective date and the English business day it
  was made on. Dating it no earlier than both entries is what keeps each account's
  identity true on every date: what its invoices owe as at D equals its ledger balance
  as at D (the entries effective on or before D) plus its credit unallocated as at D
  (`unallocated_by_account`), the reconciliation's identity with dates;
- the stage is the invoice's stage now if it was set on or before D (or never dated);
  otherwise the furthest stage the records show it had reached by D: a dunning move
  counts from its run's date (a move without a run from the day it was made) and a
  referral to legal or enforcement from the day it was referred. An invoice with no
  such record by D was not yet on the ladder ("none"). (A broken plan puts its debts
  back at the stage they had when it began without a record of its own, so as at a
  date between the two such a debt shows the further stage.)

Every date cut-off is worked out in Python and passed as a parameter, so the same
statement text runs on SQLite and PostgreSQL. The dated statement never joins every
allocation to its credit entry: it sums the allocations made by the date, then takes
back those (made by the date) of credits post-dated beyond it, entered by the date with
a later effective date. An allocation is written after its credit entry (rows are
append-only and stamped when written), so no other credit can be effective after the
date and still have an allocation made by it; the post-dated ones are few, found through
ix_ledger_entries_effective_date without touching the table, and so are the invoices
effective after the date, which the statement leaves out
(bench/bench_report_aged_debt.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from shared.clock import day_starts
from shared.domain.reporting import AGE_BUCKETS
from shared.extensions import db

# The ladder's stages in the order a debt climbs them (rank 0: not on it).
STAGE_ORDER = (
    "none",
    "reminder",
    "final_demand",
    "pre_action",
    "referred_legal",
    "referred_enforcement",
)
# The stage a referral moves its invoices to (shared.domain.referrals.STAGE_FOR).
_REFERRAL_RANK = "CASE er.destination WHEN 'legal' THEN 4 ELSE 5 END"


def _rank_of(column: str) -> str:
    whens = " ".join(f"WHEN '{s}' THEN {n}" for n, s in enumerate(STAGE_ORDER) if n)
    return f"CASE {column} {whens} ELSE 0 END"


def _stage_of_rank(column: str) -> str:
    whens = " ".join(f"WHEN {n} THEN '{s}'" for n, s in enumerate(STAGE_ORDER) if n)
    return f"CASE {column} {whens} ELSE 'none' END"


def _bucket_sql(column: str) -> str:
    """CASE giving the bucket key from the due date and the :b_<key> cut-offs."""
    whens = " ".join(
        f"WHEN {column} >= :b_{key} THEN '{key}'"
        for key, _label, _first, last in AGE_BUCKETS
        if last is not None
    )
    return f"CASE {whens} ELSE '{AGE_BUCKETS[-1][0]}' END"


@dataclass(frozen=True)
class AsAt:
    """The date figures are as at, with the cut-offs its statements need."""

    day: date
    current: bool  # today or later: the books as they stand, no cut-offs

    @classmethod
    def of(cls, day: date, today: date) -> AsAt:
        return cls(day=day, current=day >= today)

    @property
    def made_before(self) -> datetime:
        """Stored timestamps (naive UTC) before this were made on or before the day."""
        return day_starts(self.day + timedelta(days=1))

    def params(self) -> dict:
        # A bucket's first due date: due on or after day - last is at most `last` days
        # past due (current: due today or later).
        buckets = {
            f"b_{key}": self.day - timedelta(days=last)
            for key, _label, _first, last in AGE_BUCKETS
            if last is not None
        }
        return {"as_at": self.day, "made_before": self.made_before, **buckets}


_DATE_PARAMS = ("as_at", *(f"b_{b[0]}" for b in AGE_BUCKETS if b[3] is not None))


def statement(sql: str) -> sa.TextClause:
    """The statement with its dates typed, so SQLite compares them as SQLAlchemy stores them."""
    clause = sa.text(sql)
    binds = [sa.bindparam(name, type_=sa.Date) for name in _DATE_PARAMS if f":{name}" in sql]
    if ":made_before" in sql:
        binds.append(sa.bindparam("made_before", type_=sa.DateTime))
    return clause.bindparams(*binds) if binds else clause


def owed_ctes(at: AsAt, where: str = "") -> str:
    """The WITH clauses ending in `owed`: one row per invoice owing anything as at the
    date (id, account_id, department_id, due_date, stage, outstanding, bucket).
    `where` adds conditions on the invoice `i` (a department, say)."""
    extra = f" AND {where}" if where else ""
    if at.current:
        return f"""
WITH alloc AS (
    SELECT invoice_id, SUM(amount_pence) AS allocated FROM allocations GROUP BY invoice_id
),
owed AS (
    SELECT i.id, i.account_id, i.department_id, i.due_date,
           i.recovery_stage AS stage,
           i.total_pence - COALESCE(a.allocated, 0) AS outstanding,
           {_bucket_sql("i.due_date")} AS bucket
    FROM invoices i
    LEFT JOIN alloc a ON a.invoice_id = i.id
    WHERE i.total_pence - COALESCE(a.allocated, 0) <> 0{extra}
)"""
    return f"""
WITH alloc AS (
    SELECT al.invoice_id, SUM(al.amount_pence) AS allocated
    FROM allocations al
    WHERE al.created_at < :made_before
    GROUP BY al.invoice_id
),
postdated AS (
    SELECT al.invoice_id, SUM(al.amount_pence) AS allocated
    FROM ledger_entries c JOIN allocations al ON al.credit_entry_id = c.id
    WHERE c.effective_date > :as_at AND c.created_at < :made_before
      AND al.created_at < :made_before
    GROUP BY al.invoice_id
),
moved AS (
    SELECT invoice_id, MAX(rank) AS rank FROM (
        SELECT m.invoice_id, {_rank_of("m.to_stage")} AS rank
        FROM dunning_moves m LEFT JOIN dunning_runs r ON r.id = m.run_id
        WHERE (m.run_id IS NOT NULL AND r.run_date <= :as_at)
           OR (m.run_id IS NULL AND m.moved_at < :made_before)
        UNION ALL
        SELECT ri.invoice_id, {_REFERRAL_RANK} AS rank
        FROM referral_invoices ri
        JOIN enforcement_referrals er ON er.id = ri.referral_id
        WHERE er.referred_on <= :as_at
    ) ev
    GROUP BY invoice_id
),
owed AS (
    SELECT i.id, i.account_id, i.department_id, i.due_date,
           CASE WHEN i.recovery_stage_at IS NULL OR i.recovery_stage_at < :made_before
                THEN i.recovery_stage
                ELSE {_stage_of_rank("mv.rank")} END AS stage,
           i.total_pence - COALESCE(a.allocated, 0) + COALESCE(p.allocated, 0) AS outstanding,
           {_bucket_sql("i.due_date")} AS bucket
    FROM invoices i
    LEFT JOIN alloc a ON a.invoice_id = i.id
    LEFT JOIN postdated p ON p.invoice_id = i.id
    LEFT JOIN moved mv ON mv.invoice_id = i.id
    WHERE i.total_pence - COALESCE(a.allocated, 0) + COALESCE(p.allocated, 0) <> 0{extra}
      AND NOT EXISTS (SELECT 1 FROM ledger_entries ie WHERE ie.invoice_id = i.id
                      AND ie.kind = 'invoice' AND ie.effective_date > :as_at)
)"""


@dataclass(frozen=True)
class Cell:
    department_id: int
    stage: str
    bucket: str
    outstanding_pence: int
    invoices: int


@dataclass(frozen=True)
class Aged:
    cells: list[Cell]
    accounts_by_department: dict[int, int]  # accounts owing on the department's invoices
    accounts: int  # accounts owing anything (each once)


_IN_DEBT = "COUNT(DISTINCT CASE WHEN outstanding > 0 THEN account_id END)"


def _without_jit(at: AsAt) -> None:
    """PostgreSQL compiles a statement this size with JIT, which took longer (1.4 s today,
    3.6 s as at a past date, on 1M invoices) than it saved; off for this transaction only.
    As at a past date its per-invoice sums (half a million groups on 1M invoices) would
    spill out of the default 4MB of work_mem and the planner would give up its hash
    joins: 64MB, for this transaction only (today's statement streams in invoice order
    and is faster without it)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL jit = off"))
        if not at.current:
            db.session.execute(sa.text("SET LOCAL work_mem = '64MB'"))


def aged_sql(at: AsAt, where: str = "") -> str:
    """The grouped statement: a row per department, stage and bucket (level 0), the
    accounts in debt per department (level 1) and overall (level 2)."""
    return f"""{owed_ctes(at, where)}
SELECT 0 AS level, department_id, stage, bucket, SUM(outstanding) AS pence,
       COUNT(*) AS invoices, 0 AS accounts
FROM owed GROUP BY department_id, stage, bucket
UNION ALL
SELECT 1, department_id, NULL, NULL, 0, 0, {_IN_DEBT} FROM owed GROUP BY department_id
UNION ALL
SELECT 2, NULL, NULL, NULL, 0, 0, {_IN_DEBT} FROM owed
"""


def aged(at: AsAt, department_id: int | None = None) -> Aged:
    """Outstanding as at the date by department, stage and bucket, with the number of
    accounts in debt overall and per department: one statement."""
    params = at.params()
    where = ""
    if department_id is not None:
        where, params["department_id"] = "i.department_id = :department_id", department_id
    cells, by_department, accounts = [], {}, 0
    _without_jit(at)
    for r in db.session.execute(statement(aged_sql(at, where)), params):
        if r.level == 0:
            stage = getattr(r.stage, "value", r.stage)
            cells.append(Cell(r.department_id, stage, r.bucket, int(r.pence), r.invoices))
        elif r.level == 1:
            by_department[r.department_id] = int(r.accounts)
        else:
            accounts = int(r.accounts or 0)
    return Aged(cells, by_department, accounts)


@dataclass(frozen=True)
class CellQuery:
    """The invoices behind one cell of the report (None: any)."""

    department_id: int | None = None
    bucket: str | None = None
    stage: str | None = None

    def where(self, params: dict) -> str:
        parts = []
        if self.department_id is not None:
            parts.append("department_id = :department_id")
            params["department_id"] = self.department_id
        if self.bucket is not None:
            parts.append("bucket = :bucket")
            params["bucket"] = self.bucket
        if self.stage is not None:
            parts.append("stage = :stage")
            params["stage"] = self.stage
        return " AND ".join(parts) or "1 = 1"

    def invoice_where(self, params: dict) -> str:
        if self.department_id is None:
            return ""
        params["department_id"] = self.department_id
        return "i.department_id = :department_id"


@dataclass(frozen=True)
class AccountInCell:
    account_id: int
    reference: str
    kind: str
    title: str | None
    forename: str | None
    surname: str | None
    organisation_name: str | None
    outstanding_pence: int
    invoices: int
    oldest_due: date


def accounts_in_cell(
    at: AsAt, cell: CellQuery, *, after: int | None, limit: int
) -> list[AccountInCell]:
    """The accounts behind a cell, by account id after `after`, at most `limit`."""
    params = at.params()
    invoice_where = cell.invoice_where(params)
    where = cell.where(params)
    params["after"], params["limit"] = after or 0, limit
    sql = f"""{owed_ctes(at, invoice_where)},
per_account AS (
    SELECT account_id, SUM(outstanding) AS pence, COUNT(*) AS invoices,
           MIN(due_date) AS oldest_due
    FROM owed WHERE {where} AND account_id > :after
    GROUP BY account_id
    ORDER BY account_id
    LIMIT :limit
)
SELECT p.account_id, d.reference, d.kind, d.title, d.forename, d.surname,
       d.organisation_name, p.pence, p.invoices, p.oldest_due
FROM per_account p JOIN debtor_accounts d ON d.id = p.account_id
ORDER BY p.account_id
"""
    stmt = statement(sql).columns(oldest_due=sa.Date)
    _without_jit(at)
    return [
        AccountInCell(
            r.account_id,
            r.reference,
            getattr(r.kind, "value", r.kind),
            r.title,
            r.forename,
            r.surname,
            r.organisation_name,
            int(r.pence),
            r.invoices,
            r.oldest_due,
        )
        for r in db.session.execute(stmt, params)
    ]


def cell_total(at: AsAt, cell: CellQuery) -> tuple[int, int]:
    """(outstanding, number of accounts) of the whole cell, every page of it."""
    params = at.params()
    invoice_where = cell.invoice_where(params)
    where = cell.where(params)
    sql = f"""{owed_ctes(at, invoice_where)}
SELECT COALESCE(SUM(outstanding), 0) AS pence, COUNT(DISTINCT account_id) AS accounts
FROM owed WHERE {where}
"""
    _without_jit(at)
    row = db.session.execute(statement(sql), params).one()
    return int(row.pence), int(row.accounts)


def past_due_beyond(at: AsAt, days: int) -> int:
    """What invoices owed as at the date more than `days` days past their due date, as
    the report counts it (90: its "over 90 days past due"); `days` is a bucket's edge."""
    assert any(last == days for _key, _label, _first, last in AGE_BUCKETS), days
    params = {**at.params(), "past_cut": at.day - timedelta(days=days + 1)}
    sql = f"""{owed_ctes(at, "i.due_date <= :past_cut")}
SELECT COALESCE(SUM(outstanding), 0) FROM owed
"""
    _without_jit(at)
    stmt = statement(sql).bindparams(sa.bindparam("past_cut", type_=sa.Date))
    return int(db.session.execute(stmt, params).scalar_one())


def outstanding_by_account(at: AsAt) -> dict[int, int]:
    """What each account's invoices owed as at the date (accounts owing nothing left out)."""
    params = at.params()
    sql = f"""{owed_ctes(at)}
SELECT account_id, SUM(outstanding) AS pence FROM owed GROUP BY account_id
"""
    return {r.account_id: int(r.pence) for r in db.session.execute(statement(sql), params)}


def unallocated_by_account(at: AsAt) -> dict[int, int]:
    """Each account's credit not allocated as at the date: every credit entry effective by
    then, less what was allocated from it (dated as `owed_ctes` dates allocations),
    refunded or transferred out of it and reversed, by then. Not clipped at zero, so the
    identity outstanding - unallocated = balance holds exactly, as in the reconciliation."""
    params = at.params()
    dated = "" if at.current else "AND x.effective_date <= :as_at"
    alloc_dated = (
        ""
        if at.current
        else """JOIN ledger_entries ie
                  ON ie.invoice_id = al.invoice_id AND ie.kind = 'invoice'
                 AND ie.effective_date <= :as_at
                WHERE al.created_at < :made_before"""
    )
    sql = f"""
SELECT e.account_id,
       SUM(-e.amount_pence - COALESCE(a.allocated, 0) - COALESCE(d.drawn, 0)
           - COALESCE(r.reversed, 0)) AS pence
FROM ledger_entries e
LEFT JOIN (SELECT al.credit_entry_id, SUM(al.amount_pence) AS allocated
           FROM allocations al {alloc_dated}
           GROUP BY al.credit_entry_id) a ON a.credit_entry_id = e.id
LEFT JOIN (SELECT x.source_entry_id, SUM(x.amount_pence) AS drawn
           FROM ledger_entries x WHERE x.source_entry_id IS NOT NULL {dated}
           GROUP BY x.source_entry_id) d ON d.source_entry_id = e.id
LEFT JOIN (SELECT x.reverses_entry_id, SUM(x.amount_pence) AS reversed
           FROM ledger_entries x WHERE x.reverses_entry_id IS NOT NULL {dated}
           GROUP BY x.reverses_entry_id) r ON r.reverses_entry_id = e.id
WHERE (e.kind IN ('payment', 'credit_note', 'write_off')
       OR (e.kind = 'adjustment' AND e.amount_pence < 0))
  {"" if at.current else "AND e.effective_date <= :as_at"}
GROUP BY e.account_id
"""
    return {
        r.account_id: int(r.pence)
        for r in db.session.execute(statement(sql), params)
        if int(r.pence) != 0
    }
