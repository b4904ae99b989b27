"""The collection report's SQL: three grouped statements over the ledger (what was
raised; cash by payment method; cash by department through the allocations), each
cutting the period and the financial year into disjoint date slices at every month and
period edge, so one pass serves the period's tables and the twelve months. `Ledger`
adds up the few slices a row covers (sums of sums, never rows).

Dates are compared with parameters computed here (no dialect date functions), so the
same SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from shared.domain.reporting import CHANNELS, channel_of
from shared.extensions import db

# --- the statements ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Slices:
    """The timeline cut at every edge: slice i is [edges[i], edges[i + 1])."""

    edges: tuple[date, ...]
    spans: tuple[tuple[date, date], ...]  # what to read: merged [start, end) intervals

    @classmethod
    def cut(cls, ranges: list[tuple[date, date]]) -> Slices:
        """Slices for inclusive (first, last) day ranges."""
        halfopen = sorted((a, b + timedelta(days=1)) for a, b in ranges)
        edges = sorted({d for r in halfopen for d in r})
        spans: list[list[date]] = []
        for a, b in halfopen:
            if spans and a <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], b)
            else:
                spans.append([a, b])
        return cls(tuple(edges), tuple((a, b) for a, b in spans))

    def covering(self, first: date, last: date) -> set[int]:
        """The slices that make up the inclusive range (which is made of whole slices)."""
        end = last + timedelta(days=1)
        return {i for i in range(len(self.edges) - 1) if first <= self.edges[i] < end}

    def sql(self, column: str) -> tuple[str, str, dict[str, date]]:
        """(slice index expression, WHERE condition, parameters) over a date column."""
        params: dict[str, date] = {}
        whens = []
        for i, edge in enumerate(self.edges[1:-1], start=1):
            params[f"edge{i}"] = edge
            whens.append(f"WHEN {column} < :edge{i} THEN {i - 1}")
        index = f"CASE {' '.join(whens)} ELSE {len(self.edges) - 2} END" if whens else "0"
        conditions = []
        for i, (a, b) in enumerate(self.spans):
            params[f"span{i}a"], params[f"span{i}b"] = a, b
            conditions.append(f"({column} >= :span{i}a AND {column} < :span{i}b)")
        return index, "(" + " OR ".join(conditions) + ")", params


def _run(sql: str, params: dict) -> list[sa.Row]:
    if db.session.get_bind().dialect.name == "postgresql":
        # PostgreSQL would spend longer compiling this one statement with JIT (its cost
        # estimate is over jit_optimize_above_cost) than running it: seconds, measured
        # by bench/bench_report_collection.py. Only for this transaction.
        db.session.execute(sa.text("SET LOCAL jit = off"))
    dates = [sa.bindparam(k, type_=sa.Date) for k, v in params.items() if isinstance(v, date)]
    return db.session.execute(sa.text(sql).bindparams(*dates), params).all()


def movements(slices: Slices, department_id: int | None) -> list[sa.Row]:
    """One statement: (slice, kind, subject, method, department_id, amount) for
    - the period's invoices and credit notes, and reversals of credit notes (subject
      "credit_note"), by the invoice's department;
    - payments, their reversals (subject "payment"), refunds and returned refunds
      (adjustments with subject "refund") by method, for all departments only: money
      on no invoice belongs to no department;
    - kind "allocated": what each payment of the period paid to each department's
      invoices (its allocations before any reversal), and "taken_back": what each
      reversal of the period took back from them.
    Entries that are not collection (write-offs and their reversals, credit transfers)
    come back too and are left out when the rows are added up. Each branch groups by
    day first (the planner knows those columns), then the few rows go into slices."""
    index, _, params = slices.sql("x.d")
    _, where_e, _ = slices.sql("e.effective_date")
    _, where_r, _ = slices.sql("r.effective_date")
    if department_id is None:
        kinds = "'invoice', 'credit_note', 'reversal', 'payment', 'refund', 'adjustment'"
        scope = ""
    else:
        kinds = "'invoice', 'credit_note', 'reversal'"
        scope = "AND i.department_id = :department_id"
    sql = f"""
        SELECT {index} AS slice, x.kind, x.subject, x.method, x.department_id,
               SUM(x.amount) AS amount
        FROM (
            SELECT e.effective_date AS d, e.kind, s.kind AS subject,
                   COALESCE(e.method, s.method) AS method, i.department_id,
                   SUM(e.amount_pence) AS amount
            FROM ledger_entries e
            LEFT JOIN invoices i ON i.id = e.invoice_id
            -- The few entries something reverses, found through the unique index.
            LEFT JOIN (SELECT u.id, u.kind, u.method FROM ledger_entries u
                       WHERE u.id IN (SELECT v.reverses_entry_id FROM ledger_entries v
                                      WHERE v.reverses_entry_id IS NOT NULL)) s
              ON s.id = e.reverses_entry_id
            WHERE e.kind IN ({kinds}) AND {where_e} {scope}
            GROUP BY e.effective_date, e.kind, s.kind, COALESCE(e.method, s.method),
                     i.department_id
            UNION ALL
            SELECT e.effective_date, 'allocated', NULL, e.method, i.department_id,
                   SUM(al.amount_pence)
            FROM ledger_entries e
            JOIN allocations al ON al.credit_entry_id = e.id AND al.reversal_entry_id IS NULL
            JOIN invoices i ON i.id = al.invoice_id
            WHERE e.kind = 'payment' AND {where_e} {scope}
            GROUP BY e.effective_date, e.method, i.department_id
            UNION ALL
            SELECT r.effective_date, 'taken_back', NULL, p.method, i.department_id,
                   SUM(al.amount_pence)
            FROM ledger_entries r
            JOIN ledger_entries p ON p.id = r.reverses_entry_id
            JOIN allocations al ON al.credit_entry_id = p.id AND al.reversal_entry_id = r.id
            JOIN invoices i ON i.id = al.invoice_id
            WHERE r.reverses_entry_id IS NOT NULL AND r.kind = 'reversal'
              AND p.kind = 'payment' AND {where_r} {scope}
            GROUP BY r.effective_date, p.method, i.department_id
        ) x
        GROUP BY 1, 2, 3, 4, 5"""
    return _run(sql, {**params, "department_id": department_id})


def targets_for(years: set[int]) -> dict[tuple[int, int], int]:
    rows = db.session.execute(
        sa.text(
            "SELECT department_id, financial_year, target_basis_points FROM collection_targets "
            "WHERE financial_year IN :years"
        ).bindparams(sa.bindparam("years", expanding=True)),
        {"years": sorted(years)},
    ).all()
    return {(r.department_id, r.financial_year): r.target_basis_points for r in rows}


def departments() -> list[sa.Row]:
    return db.session.execute(
        sa.text("SELECT id, code, name FROM service_departments ORDER BY name, code")
    ).all()


# --- adding up slices ---------------------------------------------------------------------------


@dataclass
class Sums:
    invoiced: int = 0
    credited: int = 0
    paid: int = 0
    reversed: int = 0
    refunded: int = 0  # net of refunds that came back

    @property
    def raised(self) -> int:
        return self.invoiced - self.credited

    @property
    def collected(self) -> int:
        return self.paid - self.reversed

    def add(self, other: Sums) -> None:
        for name in ("invoiced", "credited", "paid", "reversed", "refunded"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Ledger:
    """The statement's rows, summed over any range of whole slices by department (None:
    not allocated to an invoice) or by channel."""

    def __init__(self, slices: Slices, department_id: int | None):
        self.slices = slices
        self.department_id = department_id
        self.rows = movements(slices, department_id)

    def _rows(self, first: date, last: date):
        keep = self.slices.covering(first, last)
        return (
            (
                f"{r.kind}:{r.subject}" if r.subject else r.kind,
                r.method,
                r.department_id,
                int(r.amount),
            )
            for r in self.rows
            if r.slice in keep
        )

    def departments(self, first: date, last: date) -> dict[int | None, Sums]:
        out: dict[int | None, Sums] = defaultdict(Sums)
        rest = out[None]  # the unallocated: all cash less what the departments were given
        for part, _method, dept, amount in self._rows(first, last):
            if part == "invoice":
                out[dept].invoiced += amount
            elif part in ("credit_note", "reversal:credit_note"):
                out[dept].credited -= amount
            elif part == "allocated":
                out[dept].paid += amount
                rest.paid -= amount
            elif part == "taken_back":
                out[dept].reversed -= amount
                rest.reversed += amount
            elif part == "payment":
                rest.paid -= amount
            elif part == "reversal:payment":
                rest.reversed += amount
            elif part in ("refund", "adjustment:refund"):
                rest.refunded += amount
        if self.department_id is not None:
            del out[None]
        return out

    def channels(self, first: date, last: date) -> dict[str, Sums]:
        out: dict[str, Sums] = {key: Sums() for key, _ in CHANNELS}
        # All departments: the ledger's cash. One: only what its allocations give it.
        whole = self.department_id is None
        for part, method, _dept, amount in self._rows(first, last):
            sums = out[channel_of(method)]
            if whole and part == "payment":
                sums.paid -= amount
            elif whole and part == "reversal:payment":
                sums.reversed += amount
            elif whole and part in ("refund", "adjustment:refund"):
                sums.refunded += amount
            elif not whole and part == "allocated":
                sums.paid += amount
            elif not whole and part == "taken_back":
                sums.reversed -= amount
        return out

    def total(self, first: date, last: date) -> Sums:
        total = Sums()
        for sums in self.departments(first, last).values():
            total.add(sums)
        return total
