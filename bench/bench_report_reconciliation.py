"""Time the reconciliation checks and the write-off schedule beside hand-written SQL
yardsticks, in the same run, and check they agree.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:54329/rbench200 \\
        .venv/bin/python bench/bench_report_reconciliation.py [--repeat 3]

Reads only: the database must already be migrated and seeded (bench/bench_seed.py).
Times, as the reconciliation page and its callers run them: reconcile() (the page:
totals and every check in one statement), ledger_totals(), ledger_discrepancies(); and
the write-offs report's build() for the financial year so far. Beside them: the
balance identity summed over the whole ledger in one hand-written statement (ledger
total; invoices less allocations; credit less what is allocated, drawn and reversed
from it) and the write-off kinds summed for the period. Prints the median of each
(after one warming run), the ratio, and whether the figures agree. Never asserts on
time: figures depend on the machine and whatever else shares it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_CREDIT = (
    "(e.kind IN ('payment', 'credit_note', 'write_off') "
    "OR (e.kind = 'adjustment' AND e.amount_pence < 0))"
)

YARDSTICK_BALANCE = f"""
SELECT (SELECT COALESCE(SUM(amount_pence), 0) FROM ledger_entries) AS ledger,
       (SELECT COALESCE(SUM(total_pence), 0) FROM invoices)
         - (SELECT COALESCE(SUM(amount_pence), 0) FROM allocations) AS outstanding,
       (SELECT COALESCE(-SUM(e.amount_pence), 0) FROM ledger_entries e WHERE {_CREDIT})
         - (SELECT COALESCE(SUM(al.amount_pence), 0) FROM allocations al
            JOIN ledger_entries e ON e.id = al.credit_entry_id WHERE {_CREDIT})
         - (SELECT COALESCE(SUM(d.amount_pence), 0) FROM ledger_entries d
            JOIN ledger_entries e ON e.id = d.source_entry_id WHERE {_CREDIT})
         - (SELECT COALESCE(SUM(r.amount_pence), 0) FROM ledger_entries r
            JOIN ledger_entries e ON e.id = r.reverses_entry_id WHERE {_CREDIT})
         AS unallocated
"""

REVERSAL = "Reverses"  # a reversal's row in the schedule (its status)

YARDSTICK_WRITE_OFFS = """
SELECT kind, COUNT(*) AS n, -SUM(amount_pence) AS pence FROM ledger_entries
WHERE kind IN ('write_off', 'credit_note', 'refund')
  AND effective_date BETWEEN :date_from AND :date_to
GROUP BY kind
"""


def timed(fn, repeat: int, rollback):
    """fn's last result and the median of `repeat` timings in ms (after one warming run)."""
    times, result = [], None
    for _ in range(repeat + 1):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
        rollback()
    return result, statistics.median(times[1:])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each")
    args = parser.parse_args()

    import sqlalchemy as sa

    from shared import clock
    from shared.app import create_app
    from shared.config import load_config, redact_url
    from shared.extensions import db
    from shared.reports.base import parse_filters
    from shared.reports.reconciliation import ledger_discrepancies, ledger_totals, reconcile
    from shared.reports.write_offs import build as write_offs

    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        sys.exit("Set BENCH_DATABASE_URL to a migrated, seeded database (it is only read)")
    app = create_app(load_config(environ={"DATABASE_URL": url}))
    print(f"database: {redact_url(url)}")
    with app.app_context():
        counts = {
            t: db.session.scalar(sa.text(f"SELECT COUNT(*) FROM {t}"))
            for t in ("debtor_accounts", "invoices", "ledger_entries", "allocations")
        }
        print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        rollback = db.session.rollback
        rollback()

        raw, raw_ms = timed(
            lambda: db.session.execute(sa.text(YARDSTICK_BALANCE)).one(), args.repeat, rollback
        )
        both, both_ms = timed(reconcile, args.repeat, rollback)
        totals, totals_ms = timed(ledger_totals, args.repeat, rollback)
        problems, checks_ms = timed(ledger_discrepancies, args.repeat, rollback)
        t = both.totals
        agree = (t.ledger_pence, t.outstanding_pence, t.unallocated_pence) == tuple(
            int(v) for v in raw
        )
        print(f"yardstick (balance identity, one statement)  {raw_ms:9.1f} ms")
        for label, ms in (
            ("reconcile() (the page: totals and checks)", both_ms),
            ("ledger_totals()", totals_ms),
            ("ledger_discrepancies()", checks_ms),
        ):
            print(f"{label:<45}{ms:9.1f} ms   ratio {ms / raw_ms:5.2f}")
        print(
            f"figures {'agree' if agree else 'DISAGREE'}: ledger £{t.ledger_pence / 100:,.2f}, "
            f"outstanding £{t.outstanding_pence / 100:,.2f}, unallocated "
            f"£{t.unallocated_pence / 100:,.2f}; discrepancies {len(both.problems)} "
            f"(alone: {len(problems)}); totals alone the same: {totals == t}"
        )

        filters, errors = parse_filters({}, today=clock.today(), department_codes=lambda: set())
        assert not errors, errors
        params = {"date_from": filters.date_from, "date_to": filters.date_to}
        stmt = sa.text(YARDSTICK_WRITE_OFFS).bindparams(
            sa.bindparam("date_from", type_=sa.Date), sa.bindparam("date_to", type_=sa.Date)
        )
        sums, sums_ms = timed(lambda: db.session.execute(stmt, params).all(), args.repeat, rollback)
        result, build_ms = timed(lambda: write_offs(filters), args.repeat, rollback)
        made = {
            table.key: sum(r["amount"] for r in table.rows if not r["status"].startswith(REVERSAL))
            for table in result.tables
            if table.key in ("write_offs", "credit_notes", "refunds")
        }
        want = {f"{r.kind}s": int(r.pence) * (-1 if r.kind == "refund" else 1) for r in sums}
        same = all(made.get(k, 0) == v for k, v in want.items())
        print(
            f"write-offs {filters.date_from} to {filters.date_to}: build() {build_ms:9.1f} ms   "
            f"yardstick {sums_ms:8.1f} ms   ratio {build_ms / sums_ms:5.2f}   "
            f"entries {'agree' if same else 'DISAGREE'} {want}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
