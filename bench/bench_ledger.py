"""Benchmark the ledger on realistic data: per-account reads, recording payments,
and reconciling the whole book.

    .venv/bin/python bench/bench_ledger.py                       # 20,000 debtors, fresh SQLite
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:54329/recovery_bench \\
        .venv/bin/python bench/bench_ledger.py --debtors 200000

Seeds the database with the demo generator when it has fewer debtors than
asked for. Prints p50/p95 latencies and wall times; never asserts on time.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from shared.app import create_app  # noqa: E402
from shared.config import load_config, redact_url  # noqa: E402
from shared.demo import seed_demo  # noqa: E402
from shared.extensions import db  # noqa: E402
from shared.models import DebtorAccount, PaymentMethod  # noqa: E402
from shared.reports.reconciliation import ledger_discrepancies  # noqa: E402
from shared.services import balances, ledger  # noqa: E402
from shared.services.actors import SYSTEM  # noqa: E402

DEFAULT_SQLITE = Path(tempfile.gettempdir()) / "council-recovery-bench-ledger.db"


def percentiles(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"p50 {statistics.median(ordered):6.2f} ms  p95 {p95:6.2f} ms  (n={len(ordered)})"


def timed(fn, *args, **kwargs) -> float:
    started = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--debtors", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=500)
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"
    app = create_app(load_config(environ={"DATABASE_URL": url}))
    print(f"database: {redact_url(url)}")
    with app.app_context():
        upgrade()
        have = db.session.scalar(sa.select(sa.func.count()).select_from(DebtorAccount))
        if have < args.debtors:
            print(f"seeding {args.debtors - have:,} debtors ...", flush=True)
            seed_demo(args.debtors - have, seed=7)
        counts = {
            t: db.session.scalar(sa.text(f"SELECT COUNT(*) FROM {t}"))
            for t in ("debtor_accounts", "invoices", "ledger_entries", "allocations")
        }
        print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))

        rng = random.Random(42)
        max_id = db.session.scalar(sa.select(sa.func.max(DebtorAccount.id)))
        ids = [rng.randint(1, max_id) for _ in range(args.samples)]
        db.session.remove()

        for label, query in (
            ("account balance", balances.account_balance),
            ("open invoices", balances.open_items),
            ("unallocated credit", balances.unallocated_credit),
        ):
            print(f"{label:<22} " + percentiles([timed(query, i) for i in ids]))

        writes = ids[: min(200, len(ids))]
        payment_ms = [
            timed(
                ledger.record_payment,
                account_id=i,
                amount_pence=rng.randint(100, 20_000),
                method=PaymentMethod.BANK_TRANSFER,
                external_reference=f"bench-{time.time_ns()}-{n}",
                actor=SYSTEM,
            )
            for n, i in enumerate(writes)
        ]
        print("record payment (oldest first, commit) " + percentiles(payment_ms))

        started = time.perf_counter()
        problems = ledger_discrepancies()
        elapsed = time.perf_counter() - started
        print(f"reconcile whole book   {elapsed:6.2f} s  ({len(problems)} discrepancies)")
        for problem in problems[:10]:
            print(f"  ! {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
