"""Benchmark `flask demo seed`: how fast realistic demo data loads.

    .venv/bin/python bench/bench_seed.py          # 20,000 debtors into a fresh SQLite file
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:54329/recovery_bench \\
        .venv/bin/python bench/bench_seed.py --debtors 200000 --check

The database is migrated first (a SQLite file under /tmp is recreated each
run; a PostgreSQL database is used as it is, so give it an empty one for
comparable figures). Prints rows per table and rows per second; it never
asserts on time, because timings depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402

from shared.app import create_app  # noqa: E402
from shared.config import load_config, redact_url  # noqa: E402
from shared.demo import seed_demo  # noqa: E402
from shared.extensions import db  # noqa: E402

DEFAULT_SQLITE = Path(tempfile.gettempdir()) / "council-recovery-bench-seed.db"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--debtors", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--writers",
        type=int,
        default=None,
        help="parallel writer connections (default: 2 on PostgreSQL, 1 on SQLite)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="afterwards, time the ledger reconciliation over everything seeded",
    )
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{DEFAULT_SQLITE}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{DEFAULT_SQLITE}"
    app = create_app(load_config(environ={"DATABASE_URL": url}))
    print(f"database: {redact_url(url)}")

    with app.app_context():
        upgrade()
        started = time.perf_counter()

        def progress(p) -> None:
            print(
                f"  {p.debtors_done:>9,} debtors  {p.rows_written:>11,} rows  "
                f"{p.rows_per_second:>9,.0f} rows/s",
                file=sys.stderr,
            )

        counts = seed_demo(args.debtors, seed=args.seed, progress=progress, writers=args.writers)
        elapsed = time.perf_counter() - started
        total = sum(counts.values())
        print(
            f"seeded {args.debtors:,} debtors in {elapsed:.1f} s: "
            f"{total:,} rows, {total / elapsed:,.0f} rows/s"
        )
        for table, count in counts.items():
            print(f"  {table:<20} {count:>11,}")

        if args.check:
            from shared.reports.reconciliation import ledger_discrepancies

            started = time.perf_counter()
            problems = ledger_discrepancies()
            took = time.perf_counter() - started
            print(f"reconciliation: {len(problems)} problems in {took:.1f} s")
            for problem in problems[:10]:
                print(f"  {problem}")
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
