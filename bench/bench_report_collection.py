"""Time the collection report over a whole financial year, beside one hand-written SQL
statement computing the same numbers, in the same run.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:54329/rbench200 \\
        .venv/bin/python bench/bench_report_collection.py [--year 2025] [--runs 3]

Reads only (no migration, no writes): give it a seeded database (bench/bench_seed.py).
The report is shared.reports.collection.build for the year, month by month, with the
period set to the same year, as the page runs it. The yardstick is a PostgreSQL
statement written by hand the obvious way (date_trunc by month, no slicing, no
Python): each month's raised by department, collected by payment method (payments less
reversed payments), refunds, and each department's share of payments through the
allocations. Both run in their own transaction with the same session settings (the
report turns JIT off for its transaction; the yardstick is run the same way, and once
more with the server's defaults, for comparison). Prints each run, the medians, the
ratio, and whether the two agree on every number. Never asserts on time: the machine
it runs on may be shared, and the figures are only as quiet as it is.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from shared import clock  # noqa: E402
from shared.app import create_app  # noqa: E402
from shared.config import load_config, redact_url  # noqa: E402
from shared.domain.reporting import channel_of, financial_year_of  # noqa: E402
from shared.extensions import db  # noqa: E402
from shared.reports.base import parse_filters  # noqa: E402
from shared.reports.collection import build  # noqa: E402

YARDSTICK = """
SELECT date_trunc('month', x.d)::date AS month, x.what, x.method, x.department_id,
       SUM(x.amount) AS amount
FROM (
    SELECT e.effective_date AS d,
           CASE WHEN e.kind = 'invoice' THEN 'invoiced'
                WHEN e.kind = 'credit_note' OR s.kind = 'credit_note' THEN 'credited'
                WHEN e.kind = 'payment' THEN 'paid'
                WHEN s.kind = 'payment' THEN 'reversed'
                WHEN e.kind = 'refund' OR s.kind = 'refund' THEN 'refunded' END AS what,
           COALESCE(e.method, s.method) AS method, i.department_id, e.amount_pence AS amount
    FROM ledger_entries e
    LEFT JOIN invoices i ON i.id = e.invoice_id
    LEFT JOIN (SELECT id, kind, method FROM ledger_entries
               WHERE id IN (SELECT reverses_entry_id FROM ledger_entries
                            WHERE reverses_entry_id IS NOT NULL)) s
      ON s.id = e.reverses_entry_id
    WHERE e.effective_date BETWEEN :first AND :last
    UNION ALL
    SELECT e.effective_date, 'allocated', e.method, i.department_id, al.amount_pence
    FROM ledger_entries e
    JOIN allocations al ON al.credit_entry_id = e.id AND al.reversal_entry_id IS NULL
    JOIN invoices i ON i.id = al.invoice_id
    WHERE e.kind = 'payment' AND e.effective_date BETWEEN :first AND :last
    UNION ALL
    SELECT r.effective_date, 'taken_back', p.method, i.department_id, al.amount_pence
    FROM ledger_entries r
    JOIN ledger_entries p ON p.id = r.reverses_entry_id AND p.kind = 'payment'
    JOIN allocations al ON al.reversal_entry_id = r.id
    JOIN invoices i ON i.id = al.invoice_id
    WHERE r.kind = 'reversal' AND r.effective_date BETWEEN :first AND :last
) x
WHERE x.what IS NOT NULL
GROUP BY 1, 2, 3, 4
"""


def _time(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - started
    db.session.rollback()  # each run its own transaction, as each page view is
    return elapsed, result


def _yardstick(first: date, last: date, jit_off: bool):
    def run():
        if jit_off:
            db.session.execute(sa.text("SET LOCAL jit = off"))
        return db.session.execute(sa.text(YARDSTICK), {"first": first, "last": last}).all()

    return run


def _numbers_from_report(result) -> dict:
    months = next(t for t in result.tables if t.key == "months")
    channels = next(t for t in result.tables if t.key == "channels")
    departments = next(t for t in result.tables if t.key == "departments")
    out = {}
    for row in months.rows:
        month = row["month"]
        out[("raised", month)] = row["raised"]
        for key in ("card_online", "direct_debit", "bank_transfer", "phone", "other"):
            out[("collected", month, key)] = row[key]
    for row in channels.rows:
        out[("refunded", row["channel"])] = row["refunded"]
    for row in departments.rows:
        out[("department collected", row["department"])] = row["collected"]
        if row.get("raised") is not None:
            out[("department raised", row["department"])] = row["raised"]
    return out


def _numbers_from_yardstick(rows, names: dict[int, str]) -> dict:
    from shared.domain.reporting import CHANNEL_LABELS

    sums: dict = defaultdict(int)
    for month, what, method, department_id, amount in rows:
        label, amount = f"{month:%B %Y}", int(amount)
        if what in ("invoiced", "credited"):
            sums[("raised", label)] += amount
            sums[("department raised", names[department_id])] += amount
        elif what in ("paid", "reversed"):
            sums[("collected", label, channel_of(method))] -= amount
            sums[("department collected", "Not yet allocated to an invoice")] -= amount
        elif what == "refunded":
            sums[("refunded", CHANNEL_LABELS[channel_of(method)])] += amount
        elif what in ("allocated", "taken_back"):
            sums[("department collected", names[department_id])] += amount
            sums[("department collected", "Not yet allocated to an invoice")] -= amount
    return sums


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=None, help="default: last financial year")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        parser.error("set BENCH_DATABASE_URL to a seeded PostgreSQL database")
    app = create_app(load_config(environ={"DATABASE_URL": url}))
    print(f"database: {redact_url(url)}")
    with app.app_context():
        today = clock.today()
        year = args.year if args.year is not None else financial_year_of(today) - 1
        first, last = date(year, 4, 1), min(date(year + 1, 3, 31), today)
        departments = db.session.execute(sa.text("SELECT id, code, name FROM service_departments"))
        names = {}
        codes = set()
        for d in departments:
            names[d.id] = d.name
            codes.add(d.code)
        filters, errors = parse_filters(
            {"year": str(year), "from": first.isoformat(), "to": last.isoformat()},
            today=today,
            department_codes=lambda: codes,
        )
        assert not errors, errors
        entries = db.session.scalar(
            sa.text("SELECT COUNT(*) FROM ledger_entries WHERE effective_date BETWEEN :a AND :b"),
            {"a": first, "b": last},
        )
        db.session.rollback()
        print(f"financial year {year}: {first} to {last}, {entries:,} ledger entries in it")

        report_times, raw_times, default_times = [], [], []
        result = raw = None
        for n in range(args.runs):
            t_report, result = _time(lambda: build(filters))
            t_raw, raw = _time(_yardstick(first, last, jit_off=True))
            report_times.append(t_report)
            raw_times.append(t_raw)
            print(f"  run {n + 1}: report {t_report:6.2f} s   yardstick {t_raw:6.2f} s")
        t_default, _ = _time(_yardstick(first, last, jit_off=False))
        default_times.append(t_default)

        report, yard = statistics.median(report_times), statistics.median(raw_times)
        print(f"report (build, median of {args.runs}):      {report:6.2f} s")
        print(f"yardstick SQL (median, JIT off):    {yard:6.2f} s")
        print(f"yardstick SQL (server defaults):    {t_default:6.2f} s")
        ratio = report / yard
        print(f"ratio report / yardstick:           {ratio:6.2f}x   (target <= 1.5x, < 2 s)")

        mine = _numbers_from_report(result)
        theirs = _numbers_from_yardstick(raw, names)
        wrong = {k: (mine.get(k, 0), theirs.get(k, 0)) for k in set(mine) | set(theirs)}
        wrong = {k: v for k, v in wrong.items() if (v[0] or 0) != (v[1] or 0)}
        if wrong:
            print(f"DISAGREE on {len(wrong)} numbers, e.g.:")
            for key, (a, b) in sorted(wrong.items(), key=str)[:10]:
                print(f"  {key}: report {a} yardstick {b}")
            return 1
        print(f"report and yardstick agree on all {len(mine)} numbers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
