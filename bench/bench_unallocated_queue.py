"""Time the back office's unallocated payments queue on realistic data.

    .venv/bin/python bench/bench_unallocated_queue.py             # 20,000 debtors, SQLite
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:54329/recovery_bench \\
        .venv/bin/python bench/bench_unallocated_queue.py --debtors 200000

Migrates the database (so unallocated_credits exists and is backfilled) and
seeds demo debtors until there are --debtors (the demo seed fills the queue for
what it writes). Then, as service calls in one process (no HTTP), times:
- the first page of the queue (shared.services.unallocated.queue_page);
- later pages, each starting after a random queued credit (the keyset cursor);
- the same first page worked out from the ledger alone, with no queue table
  (what the queue replaces): run --derived times only, because it is slow.
Prints p50/p95 in milliseconds and the rows per page; on PostgreSQL --explain
also prints the plan of the first page. Never asserts on time.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_SQLITE = Path(tempfile.gettempdir()) / "council-recovery-bench-unallocated.db"

# The first page without the queue table: every credit's value less its
# allocations, refunds, transfers out and reversal, the ones with money left,
# oldest first (the reconciliation report's arithmetic).
DERIVED_FIRST_PAGE = """
SELECT e.id, e.effective_date,
       -e.amount_pence - COALESCE(a.s, 0) - COALESCE(d.s, 0) - COALESCE(r.s, 0) AS unallocated
FROM ledger_entries e
LEFT JOIN (SELECT credit_entry_id AS id, SUM(amount_pence) AS s
           FROM allocations GROUP BY credit_entry_id) a ON a.id = e.id
LEFT JOIN (SELECT source_entry_id AS id, SUM(amount_pence) AS s FROM ledger_entries
           WHERE source_entry_id IS NOT NULL GROUP BY source_entry_id) d ON d.id = e.id
LEFT JOIN (SELECT reverses_entry_id AS id, SUM(amount_pence) AS s FROM ledger_entries
           WHERE reverses_entry_id IS NOT NULL GROUP BY reverses_entry_id) r ON r.id = e.id
WHERE (e.kind IN ('payment', 'credit_note', 'write_off')
       OR (e.kind = 'adjustment' AND e.amount_pence < 0))
  AND -e.amount_pence - COALESCE(a.s, 0) - COALESCE(d.s, 0) - COALESCE(r.s, 0) > 0
ORDER BY e.effective_date, e.id
LIMIT :limit
"""


def _report(label: str, timings: list[float], rows: list[int]) -> None:
    timings = sorted(timings)
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    print(
        f"{label:<22} n={len(timings):<4} p50={statistics.median(timings):8.2f} ms"
        f"  p95={p95:8.2f} ms  mean rows={statistics.mean(rows):5.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    parser.add_argument("--debtors", type=int, default=20_000, help="seed up to this many")
    parser.add_argument("--pages", type=int, default=200, help="timings of each queue page kind")
    parser.add_argument("--derived", type=int, default=5, help="timings of the ledger-only page")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--explain", action="store_true", help="PostgreSQL: print the plans")
    args = parser.parse_args()

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from shared.app import create_app
    from shared.config import load_config, redact_url
    from shared.demo import seed_demo
    from shared.extensions import db
    from shared.models import DebtorAccount, UnallocatedCredit
    from shared.services import unallocated

    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"
    app = create_app(load_config(environ={"DATABASE_URL": url}))
    print(f"database: {redact_url(url)}")
    rng = random.Random(args.seed)
    today = date.today()
    with app.app_context():
        upgrade()
        have = db.session.scalar(sa.select(sa.func.count()).select_from(DebtorAccount))
        if have < args.debtors:
            print(f"seeding {args.debtors - have:,} debtors ...", flush=True)
            seed_demo(args.debtors - have, seed=args.seed)
        counts = {
            t: db.session.scalar(sa.text(f"SELECT COUNT(*) FROM {t}"))
            for t in ("debtor_accounts", "ledger_entries", "allocations", "unallocated_credits")
        }
        print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        db.session.rollback()

        unallocated.queue_page(today)  # warm the statement cache
        timings, rows = [], []
        for _ in range(args.pages):
            started = time.perf_counter()
            page = unallocated.queue_page(today)
            timings.append((time.perf_counter() - started) * 1000)
            rows.append(len(page.items))
            db.session.rollback()
        _report("queue, first page", timings, rows)

        cursors = db.session.execute(
            sa.select(UnallocatedCredit.since, UnallocatedCredit.credit_entry_id)
        ).all()
        db.session.rollback()
        if cursors:
            timings, rows = [], []
            for _ in range(args.pages):
                after = tuple(rng.choice(cursors))
                started = time.perf_counter()
                page = unallocated.queue_page(today, after=after)
                timings.append((time.perf_counter() - started) * 1000)
                rows.append(len(page.items))
                db.session.rollback()
            _report("queue, a later page", timings, rows)

        timings, rows = [], []
        for _ in range(args.derived):
            started = time.perf_counter()
            found = db.session.execute(
                sa.text(DERIVED_FIRST_PAGE), {"limit": unallocated.PAGE_SIZE + 1}
            ).all()
            timings.append((time.perf_counter() - started) * 1000)
            rows.append(len(found))
            db.session.rollback()
        if timings:
            _report("ledger only, first", timings, rows)

        if args.explain and db.engine.dialect.name == "postgresql":
            statement = unallocated._FIRST_PAGE.params(limit=unallocated.PAGE_SIZE + 1)
            sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
            plan = db.session.connection().exec_driver_sql(f"EXPLAIN ANALYZE {sql}")
            for (line,) in plan:
                print("  " + line)
            db.session.rollback()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
