"""Time importing the finance system's invoice file, and show its memory stays flat.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:54329/recovery_bench \\
        .venv/bin/python bench/bench_invoice_import.py                 # 20,000 and 100,000 rows
    .venv/bin/python bench/bench_invoice_import.py --rows 2000         # one size, SQLite

Migrates the database, makes the departments the file names, and writes a CSV in the
layout of docs/invoice-import.md: invoices of one to three lines (mixed VAT rates),
customers new to the database (a quarter of them with two invoices in the file, so
matching within the file is exercised) and a tenth of the invoices for customers
already known (imported by an earlier run, so matched and updated). Each run's numbers
and customer ids are new, so nothing is "already imported".

Each size runs in a fresh process, importing as the command line does
(importer.start_file and run_import: pass 1 checks every row, pass 2 writes the
invoices, lines, accounts, addresses, ledger entries, timeline and audit rows, one
transaction). It prints the wall time of each pass, the peak resident memory during
the import (Linux's VmHWM, reset just before it starts) and the growth over the memory
held just before; and a same-run yardstick: a hand-written COPY of the same file's rows
into a table of text columns (the least any import has to do: move the bytes into the
database), and the ratio. Never asserts on time.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_SQLITE = Path(tempfile.gettempdir()) / "council-recovery-bench-invoices.db"
DEPARTMENTS = ("ASC", "TWASTE", "RENTS", "LICENSING")
RATES = ("standard", "standard", "outside_scope", "zero", "exempt", "reduced")
SURNAMES = ("Archer", "Grundy", "Aldridge", "Carter", "Snell", "Tucker", "Pargetter")
FORENAMES = ("Linda", "Eddie", "Jill", "Kenton", "Shula", "Adam", "Brian", "Ruth")


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux 4.0+)
        return True
    except OSError:
        return False


def write_file(path: Path, rows: int, run: str, known: list[str], rng: random.Random) -> int:
    """The CSV of about `rows` rows; returns the rows written."""
    from shared.domain.invoice_import import NAMES

    written = invoice = 0
    repeat: list[tuple] = []
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(NAMES)
        while written < rows:
            invoice += 1
            if known and rng.random() < 0.10:
                # Known from an earlier run: a new mobile number this run (an update).
                customer = (rng.choice(known), f"07700 9{run[-5:]}")
            elif repeat and rng.random() < 0.25:
                customer = repeat.pop()
            else:
                customer = (f"B{run}-{invoice:07d}", "")
                repeat.append(customer)
            customer_id, mobile = customer
            kind = "person"
            # Every detail follows from the customer id: the same on each of its rows.
            n = int(customer_id.rsplit("-", 1)[-1])
            forename = FORENAMES[n % len(FORENAMES)]
            surname = SURNAMES[n % len(SURNAMES)]
            department = DEPARTMENTS[invoice % len(DEPARTMENTS)]
            issued = f"2026-{1 + invoice % 11:02d}-{1 + invoice % 28:02d}"
            for line in range(rng.randint(1, 3)):
                out.writerow(
                    [
                        customer_id,
                        kind,
                        "Mx",
                        forename,
                        surname,
                        "",
                        "",
                        f"{n % 200 + 1} Church Lane",
                        "",
                        "Borchester",
                        "Borsetshire",
                        f"BC{n % 9 + 1} {n % 10}AB",
                        f"{forename.lower()}.{n}@example.com",
                        mobile,
                        f"B{run[-6:]}-{invoice:07d}",
                        department,
                        "",
                        issued,
                        "",
                        f"{department} charges",
                        "",
                        f"Charge {line + 1}",
                        str(rng.randint(1, 4)),
                        f"{rng.randint(1, 50000) / 100:.2f}",
                        rng.choice(RATES),
                    ]
                )
                written += 1
    return written


def child(rows: int) -> int:
    """One size, in this fresh process."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from shared.app import create_app
    from shared.config import load_config
    from shared.extensions import db
    from shared.models import DebtorAccount, ServiceDepartment
    from shared.services.actors import SYSTEM
    from shared.services.invoice_import import importer

    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"
    app = create_app(load_config(environ={"DATABASE_URL": url}))
    rng = random.Random(time.time_ns())
    run = f"{time.time_ns() % 10**9:09d}"
    with app.app_context():
        upgrade()
        have = set(db.session.scalars(sa.select(ServiceDepartment.code)))
        for code in DEPARTMENTS:
            if code not in have:
                db.session.add(ServiceDepartment(code=code, name=f"Bench {code}"))
        db.session.commit()
        known = list(
            db.session.scalars(
                sa.select(DebtorAccount.finance_customer_id)
                .where(DebtorAccount.finance_customer_id.like("B%"))
                .limit(5_000)
            )
        )
        db.session.rollback()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "invoices.csv"
            written = write_file(path, rows, run, known, rng)
            size = path.stat().st_size
            print(f"file: {written:,} rows, {size / 1e6:.1f} MB ({len(known):,} known customers)")

            yardstick = None
            if db.engine.dialect.name == "postgresql":
                raw = db.engine.raw_connection()
                try:
                    cursor = raw.cursor()
                    cursor.execute(
                        "CREATE TEMP TABLE bench_rows ("
                        + ", ".join(f"c{i} text" for i in range(25))
                        + ")"
                    )
                    started = time.perf_counter()
                    with (
                        path.open("rb") as f,
                        cursor.copy(
                            "COPY bench_rows FROM STDIN WITH (FORMAT csv, HEADER true)"
                        ) as copy,
                    ):
                        while block := f.read(1 << 20):
                            copy.write(block)
                    yardstick = time.perf_counter() - started
                    raw.rollback()
                finally:
                    raw.close()

            content_head = path.read_bytes()[:8]
            with path.open("rb") as f:
                import hashlib

                digest = hashlib.file_digest(f, "sha256").hexdigest()
            submitted = importer.start_file(content_head, digest, file_name=path.name, actor=SYSTEM)
            marks: dict[str, float] = {}

            def listener(status, done, total) -> None:
                marks.setdefault(status.value, time.perf_counter())

            before_kb = _rss_kb("VmRSS")
            peak_reset = _reset_peak()
            started = time.perf_counter()
            outcome = importer.run_import(
                submitted.import_id, lambda: path.open("rb"), actor=SYSTEM, listener=listener
            )
            elapsed = time.perf_counter() - started
            peak_kb = _rss_kb("VmHWM")
    assert outcome.status.value == "completed", outcome.errors[:5]
    counts = outcome.counts
    checking = marks["importing"] - marks["validating"]
    print(
        f"import: {elapsed:.1f} s wall ({rows / elapsed:,.0f} rows/s); checking "
        f"{checking:.1f} s, writing {elapsed - checking:.1f} s"
    )
    print(
        f"  {counts.invoices_created:,} invoices, {counts.accounts_created:,} accounts created, "
        f"{counts.accounts_updated:,} updated"
    )
    growth = (peak_kb - before_kb) / 1024
    print(
        f"memory: peak RSS during the import {peak_kb / 1024:.0f} MB"
        f"{'' if peak_reset else ' (process peak: VmHWM could not be reset)'}; "
        f"{before_kb / 1024:.0f} MB before it, so {growth:.0f} MB for the import"
    )
    if yardstick:
        print(
            f"yardstick (COPY of the same {written:,} rows as text): {yardstick:.2f} s; "
            f"import / yardstick = {elapsed / yardstick:,.0f}x"
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    parser.add_argument("--rows", type=int, action="append", help="file size(s) in rows")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = args.rows or [20_000, 100_000]
    if args.child:
        return child(sizes[0])
    from shared.config import redact_url

    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"
    print(f"database: {redact_url(url)}")
    failed = 0
    for rows in sizes:
        print(f"--- {rows:,} rows ---", flush=True)
        failed |= subprocess.call(
            [sys.executable, __file__, "--child", "--rows", str(rows)], env=os.environ
        )
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
