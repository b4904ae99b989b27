"""Time the aged-debt report beside a hand-written SQL statement computing the same
department x age-bucket sums, in the same run, and check the two agree.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:54329/rbench200 \\
        .venv/bin/python bench/bench_report_aged_debt.py [--repeat 5] [--explain]

Reads only: the database must already be migrated and seeded (bench/bench_seed.py).
Two dates: today (the books as they stand) and as at six months back (invoices and
allocations dated as the report dates them). For each it times `build()` (every
statement the page runs: departments, the grouped aged query with its account
counts) and the yardstick (one GROUP BY), alternating, and prints the median of each
and their ratio. --explain prints EXPLAIN (ANALYZE, BUFFERS) of the report's grouped
statement. Never asserts on time: figures depend on the machine (and on whatever else
shares it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The same buckets, written out by hand (days past due as at :as_at).
_BUCKETS = """CASE WHEN i.due_date >= :as_at THEN 'current'
            WHEN i.due_date >= :as_at - 30 THEN '1_30'
            WHEN i.due_date >= :as_at - 60 THEN '31_60'
            WHEN i.due_date >= :as_at - 90 THEN '61_90'
            WHEN i.due_date >= :as_at - 180 THEN '91_180'
            WHEN i.due_date >= :as_at - 365 THEN '181_365'
            ELSE 'over_365' END"""

YARDSTICK_TODAY = f"""
SELECT i.department_id, {_BUCKETS} AS bucket, SUM(i.total_pence - COALESCE(a.s, 0)) AS pence
FROM invoices i
LEFT JOIN (SELECT invoice_id, SUM(amount_pence) AS s FROM allocations GROUP BY invoice_id) a
  ON a.invoice_id = i.id
WHERE i.total_pence - COALESCE(a.s, 0) <> 0
GROUP BY 1, 2
"""

YARDSTICK_AS_AT = f"""
SELECT i.department_id, {_BUCKETS} AS bucket, SUM(i.total_pence - COALESCE(a.s, 0)) AS pence
FROM invoices i
JOIN ledger_entries ie
  ON ie.invoice_id = i.id AND ie.kind = 'invoice' AND ie.effective_date <= :as_at
LEFT JOIN (SELECT al.invoice_id, SUM(al.amount_pence) AS s
           FROM allocations al JOIN ledger_entries c ON c.id = al.credit_entry_id
           WHERE c.effective_date <= :as_at AND al.created_at < :made_before
           GROUP BY al.invoice_id) a ON a.invoice_id = i.id
WHERE i.total_pence - COALESCE(a.s, 0) <> 0
GROUP BY 1, 2
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    parser.add_argument("--repeat", type=int, default=5, help="timings of each, alternating")
    parser.add_argument("--explain", action="store_true", help="print the report's plan")
    parser.add_argument("--months", type=int, default=6, help="how far back the as-at date is")
    args = parser.parse_args()

    import sqlalchemy as sa

    from shared import clock
    from shared.app import create_app
    from shared.config import load_config, redact_url
    from shared.domain.reporting import AGE_BUCKET_KEYS
    from shared.extensions import db
    from shared.reports import aged_debt_sql as q
    from shared.reports.aged_debt import build
    from shared.reports.base import parse_filters

    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        sys.exit("Set BENCH_DATABASE_URL to a migrated, seeded database (it is only read)")
    app = create_app(load_config(environ={"DATABASE_URL": url}))
    load = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    print(f"database: {redact_url(url)}; {load}")
    today = clock.today()
    back = today - timedelta(days=round(args.months * 30.44))
    with app.app_context():
        counts = {
            t: db.session.scalar(sa.text(f"SELECT COUNT(*) FROM {t}"))
            for t in ("debtor_accounts", "invoices", "ledger_entries", "allocations")
        }
        print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        names = dict(db.session.execute(sa.text("SELECT name, id FROM service_departments")).all())
        db.session.rollback()

        for label, day, yardstick in (
            ("today", today, YARDSTICK_TODAY),
            (f"as at {day_words(back)}", back, YARDSTICK_AS_AT),
        ):
            filters, errors = parse_filters(
                {"as_at": day.isoformat()}, today=today, department_codes=lambda: set()
            )
            assert not errors, errors
            at = q.AsAt.of(day, today)
            params = {"as_at": day, "made_before": at.made_before}
            binds = [sa.bindparam("as_at", type_=sa.Date)]
            if ":made_before" in yardstick:
                binds.append(sa.bindparam("made_before", type_=sa.DateTime))
            stmt = sa.text(yardstick).bindparams(*binds)
            report_ms, raw_ms = [], []
            result = rows = None
            for _ in range(args.repeat + 1):  # the first of each warms the cache, not counted
                started = time.perf_counter()
                result = build(filters)
                report_ms.append((time.perf_counter() - started) * 1000)
                db.session.rollback()
                started = time.perf_counter()
                rows = db.session.execute(stmt, params).all()
                raw_ms.append((time.perf_counter() - started) * 1000)
                db.session.rollback()
            report, raw = statistics.median(report_ms[1:]), statistics.median(raw_ms[1:])
            table = next(t for t in result.tables if t.key == "by_department")
            got = {
                (names[r["department"]], b): r[b]
                for r in table.rows
                for b in AGE_BUCKET_KEYS
                if r[b]
            }
            want = {(r.department_id, r.bucket): int(r.pence) for r in rows if r.pence}
            agree = "agree" if got == want else "DISAGREE"
            total = table.totals["total"]
            print(
                f"{label:<22} report build() {report:8.1f} ms   yardstick {raw:8.1f} ms   "
                f"ratio {report / raw:4.2f}   total £{total / 100:,.2f}   cells {agree}"
            )
            print(f"{'':<22} load average now {os.getloadavg()[0]:.1f}")
            if got != want:
                for key in sorted(set(got) | set(want)):
                    if got.get(key) != want.get(key):
                        print(f"  {key}: report {got.get(key)} yardstick {want.get(key)}")
            if args.explain and db.engine.dialect.name == "postgresql":
                sql = q.aged_sql(at)
                plan = db.session.execute(
                    q.statement(f"EXPLAIN (ANALYZE, BUFFERS) {sql}"), at.params()
                ).scalars()
                print("\n".join(plan))
                db.session.rollback()
    return 0


def day_words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


if __name__ == "__main__":
    sys.exit(main())
