"""Time each kind of back-office case search, and the case page, against a seeded database.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:54329/recovery_bench \\
        .venv/bin/python bench/bench_case_search.py --searches 200

Service calls in one process (no HTTP): picks --searches random real values of
each kind from the database (references, invoice numbers, postcodes, emails,
mobile numbers typed as +44..., surname prefixes of 3 letters, "forename
surname"), runs shared.services.case_search.search for each, and prints p50/p95
in milliseconds and the mean number of rows. Then the same for
shared.services.case_view.case_page on random references. The database must be
migrated to 0005 (flask db upgrade). Never asserts on time.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SAMPLES = {
    "reference": "SELECT reference FROM debtor_accounts",
    "invoice number": "SELECT number FROM invoices",
    "postcode": "SELECT lower(postcode) FROM addresses",
    "email": "SELECT upper(email) FROM debtor_accounts WHERE email IS NOT NULL",
    "phone": "SELECT '+44 ' || substr(replace(mobile_phone, ' ', ''), 2) FROM debtor_accounts "
    "WHERE mobile_phone IS NOT NULL",
    "surname prefix": "SELECT substr(surname, 1, 3) FROM debtor_accounts WHERE surname IS NOT NULL",
    "forename surname": "SELECT forename || ' ' || surname FROM debtor_accounts "
    "WHERE surname IS NOT NULL AND forename IS NOT NULL",
    "organisation": "SELECT organisation_name FROM debtor_accounts "
    "WHERE organisation_name IS NOT NULL",
}


def _sample(db, sa, sql: str, n: int, rng: random.Random) -> list[str]:
    # ORDER BY random() over 200k rows is fine for a benchmark's set-up.
    rows = db.session.execute(sa.text(f"{sql} ORDER BY random() LIMIT {n}")).scalars().all()
    rng.shuffle(rows)
    return rows


def _report(label: str, timings: list[float], rows: list[int]) -> None:
    timings = sorted(timings)
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    print(
        f"{label:<18} n={len(timings):<4} p50={statistics.median(timings):7.2f} ms"
        f"  p95={p95:7.2f} ms  mean rows={statistics.mean(rows):5.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        sys.exit("Set BENCH_DATABASE_URL to a seeded, migrated database")

    import sqlalchemy as sa

    from shared.app import create_app
    from shared.extensions import db
    from shared.services import case_search, case_view
    from tests.conftest import make_config

    app = create_app(make_config(url))
    rng = random.Random(args.seed)
    today = date.today()
    with app.app_context():
        print(f"{db.session.scalar(sa.text('SELECT count(*) FROM debtor_accounts')):,} debtors")
        for label, sql in SAMPLES.items():
            values = _sample(db, sa, sql, args.searches, rng)
            case_search.search(values[0], today)  # warm the statement cache
            timings, rows = [], []
            for value in values:
                started = time.perf_counter()
                found = case_search.search(value, today)
                timings.append((time.perf_counter() - started) * 1000)
                rows.append(len(found.rows))
                db.session.rollback()
            _report(label, timings, rows)
        references = _sample(db, sa, SAMPLES["reference"], args.searches, rng)
        for label, pages in (
            ("case page", {}),
            ("case page p2", {"ledger_page": 2, "timeline_page": 2}),
        ):
            timings, rows = [], []
            for reference in references:
                started = time.perf_counter()
                page = case_view.case_page(reference, today, **pages)
                timings.append((time.perf_counter() - started) * 1000)
                rows.append(len(page.ledger) + len(page.timeline))
                db.session.rollback()
            _report(label, timings, rows)


if __name__ == "__main__":
    main()
