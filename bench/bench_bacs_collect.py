"""Time building the day's Bacs collection file, and show its memory stays flat.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:54329/recovery_bench \\
        .venv/bin/python bench/bench_bacs_collect.py                  # 10,000 and 50,000
    .venv/bin/python bench/bench_bacs_collect.py --collections 2000   # one size, SQLite

Each size runs in a fresh process on a processing day of its own (so earlier runs'
rows are not in its file): that many accounts, each with an active mandate lodged a
month before (bank details sealed under BANK_DETAILS_ENCRYPTION_KEYS, one token per
account), an advance notice in time, an invoice, and a scheduled collection for the
day's entry day, inserted in bulk. Then build_file as the command line calls it: read
the rows in keyset batches, open the bank details, write the Standard 18 text, mark
every collection submitted, write one timeline line and audit row per account, one
commit. It prints the wall time, the peak resident memory during the build (Linux's
VmHWM, reset just before it) over the memory held before, per collection; and a
same-run yardstick: a hand-written SQL SELECT of the same rows (collection, mandate,
account, notice) written to a file of text lines, and the ratio. Never asserts on time.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_SQLITE = Path(tempfile.gettempdir()) / "council-recovery-bench-bacs.db"
CHUNK = 5_000


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


def _free_processing_day(rng: random.Random) -> date:
    """A future processing day no earlier run used."""
    import sqlalchemy as sa

    from shared import clock
    from shared.domain.bacs.calendar import is_working_day
    from shared.extensions import db
    from shared.models import BacsFile

    used = set(db.session.scalars(sa.select(BacsFile.processing_day)))
    while True:
        day = clock.today() + timedelta(days=rng.randint(30, 20_000))
        if is_working_day(day) and day not in used and day.year < 2099:
            return day


def seed(count: int, cycle, run: str, prefix: str = "D") -> None:
    """`count` accounts with an active mandate, a notice, an invoice and a collection due."""
    import sqlalchemy as sa

    from shared.extensions import db
    from shared.models import (
        AdvanceNotice,
        Collection,
        DebtorAccount,
        DebtorKind,
        Invoice,
        Mandate,
        MandateSource,
        MandateStatus,
        ModulusOutcome,
        ServiceDepartment,
    )
    from shared.services.directdebit.bank_details import BankDetails, seal

    department = db.session.scalar(
        sa.select(ServiceDepartment.id).where(ServiceDepartment.code == "BENCHDD")
    )
    if department is None:
        row = ServiceDepartment(code="BENCHDD", name="Bench Direct Debit")
        db.session.add(row)
        db.session.flush()
        department = row.id
    lodged = cycle.processing_day - timedelta(days=30)
    for start in range(0, count, CHUNK):
        numbers = range(start, min(start + CHUNK, count))
        account_ids = db.session.scalars(
            sa.insert(DebtorAccount).returning(DebtorAccount.id, sort_by_parameter_order=True),
            [
                {
                    "reference": f"{prefix}{run}{n:06d}",
                    "kind": DebtorKind.PERSON,
                    "forename": "Pat",
                    "surname": f"Payer {n}",
                }
                for n in numbers
            ],
        ).all()
        mandate_ids = db.session.scalars(
            sa.insert(Mandate).returning(Mandate.id, sort_by_parameter_order=True),
            [
                {
                    "account_id": account_id,
                    "reference": f"{prefix}{run}{n:06d}-01",
                    "account_holder_name": f"PAT PAYER {n}"[:18],
                    "bank_details_encrypted": seal(
                        BankDetails(f"{10 + n % 89:02d}{n % 10_000:04d}", f"{n:08d}")
                    ),
                    "account_ending": f"{n % 100:02d}",
                    "modulus_outcome": ModulusOutcome.VALID,
                    "source": MandateSource.PORTAL,
                    "status": MandateStatus.ACTIVE,
                    "lodged_on": lodged,
                }
                for n, account_id in zip(numbers, account_ids, strict=True)
            ],
        ).all()
        notice_ids = db.session.scalars(
            sa.insert(AdvanceNotice).returning(AdvanceNotice.id, sort_by_parameter_order=True),
            [
                {
                    "mandate_id": mandate_id,
                    "account_id": account_id,
                    "kind": "first",
                    "description": "Monthly collections",
                    "schedule": [],
                    "counts_from": lodged,
                    "earliest_entry_day": lodged + timedelta(days=14),
                }
                for mandate_id, account_id in zip(mandate_ids, account_ids, strict=True)
            ],
        ).all()
        invoice_ids = db.session.scalars(
            sa.insert(Invoice).returning(Invoice.id, sort_by_parameter_order=True),
            [
                {
                    "number": f"B{prefix}{run}{n:06d}"[:20],
                    "account_id": account_id,
                    "department_id": department,
                    "issue_date": lodged,
                    "due_date": cycle.entry_day,
                    "description": "Care contribution",
                    "net_pence": 1_000 + n % 9_000,
                    "vat_pence": 0,
                    "total_pence": 1_000 + n % 9_000,
                }
                for n, account_id in zip(numbers, account_ids, strict=True)
            ],
        ).all()
        db.session.execute(
            sa.insert(Collection),
            [
                {
                    "mandate_id": mandate_id,
                    "invoice_id": invoice_id,
                    "amount_pence": 1_000 + n % 9_000,
                    "transaction_code": "17" if n % 10 else "01",
                    "collection_date": cycle.entry_day,
                    "status": "scheduled",
                    "advance_notice_id": notice_id,
                }
                for n, mandate_id, invoice_id, notice_id in zip(
                    numbers, mandate_ids, invoice_ids, notice_ids, strict=True
                )
            ],
        )
        db.session.commit()


YARDSTICK_SQL = """
SELECT c.id, c.amount_pence, c.transaction_code, m.reference, m.account_holder_name,
       m.bank_details_encrypted, a.reference, n.earliest_entry_day
FROM dd_collections c
JOIN mandates m ON m.id = c.mandate_id
JOIN debtor_accounts a ON a.id = m.account_id
LEFT JOIN dd_advance_notices n ON n.id = c.advance_notice_id
WHERE c.status = 'scheduled' AND c.collection_date = %s
ORDER BY c.id
"""


def yardstick(db, entry_day: date, folder: str) -> float | None:
    """One SELECT of the same rows, each written to a file as a line of text."""
    if db.engine.dialect.name != "postgresql":
        return None
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        started = time.perf_counter()
        cursor.execute(YARDSTICK_SQL, (entry_day,))
        with open(Path(folder) / "yardstick.txt", "w") as out:
            for row in cursor:
                out.write("|".join(str(v) for v in row) + "\n")
        elapsed = time.perf_counter() - started
        raw.rollback()
    finally:
        raw.close()
    return elapsed


def child(count: int) -> int:
    """One size, in this fresh process."""
    from flask_migrate import upgrade

    from shared.app import create_app
    from shared.config import load_config
    from shared.domain.bacs.selection import cycle_for
    from shared.extensions import db

    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"
    app = create_app(load_config(environ={"DATABASE_URL": url}))
    rng = random.Random(time.time_ns())
    run = f"{time.time_ns() % 10**5:05d}"
    with app.app_context():
        upgrade()
        cycle = cycle_for(_free_processing_day(rng))
        started = time.perf_counter()
        seed(count, cycle, run)
        # A second day the same, built under tracemalloc (which slows it: not timed).
        traced = cycle_for(_free_processing_day(rng))
        seed(count, traced, run, prefix="E")
        print(
            f"seeded {count:,} collections for processing days {cycle.processing_day} and "
            f"{traced.processing_day} in {time.perf_counter() - started:.1f} s"
        )
        db.session.remove()
        with tempfile.TemporaryDirectory() as folder:
            yard = yardstick(db, cycle.entry_day, folder)
        db.engine.dispose()
    # The build in a process of its own, so its peak memory is the build's alone.
    output = subprocess.run(
        [sys.executable, __file__, "--build", cycle.processing_day.isoformat()],
        env=os.environ,
        capture_output=True,
        text=True,
    )
    lines = [line for line in output.stdout.splitlines() if line.strip()]
    for line in lines[:-1]:
        print(line)
    if output.returncode:
        print(output.stderr[-3000:])
        return output.returncode
    elapsed = float(lines[-1])
    output = subprocess.run(
        [sys.executable, __file__, "--build", traced.processing_day.isoformat(), "--trace"],
        env=os.environ,
        capture_output=True,
        text=True,
    )
    if output.returncode:
        print(output.stderr[-3000:])
        return output.returncode
    print(output.stdout.strip().splitlines()[-1])
    if yard:
        print(
            f"yardstick (one SELECT of the same {count:,} rows written to a file): "
            f"{yard:.2f} s; build / yardstick = {elapsed / yard:,.1f}x"
        )
    return 0


def build(day: date, trace: bool = False) -> int:
    """build_file for `day`, in this fresh process; the last line printed is the wall time
    (with `trace`, the Python heap's peak during the build, from tracemalloc)."""
    from shared.app import create_app
    from shared.config import load_config
    from shared.services.actors import SYSTEM
    from shared.services.directdebit import files

    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"
    app = create_app(load_config(environ={"DATABASE_URL": url}))
    with app.app_context():
        files.get_file  # noqa: B018 - modules imported before the baseline is taken
        if trace:
            import tracemalloc

            tracemalloc.start()
            built = files.build_file(SYSTEM, day)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            size = len(files.stored_content(built.file_id))
            per = max(built.debit_count, 1)
            print(
                f"python heap (tracemalloc, another day's {built.debit_count:,}): peak "
                f"{peak / 1e6:.1f} MB, {peak / per:,.0f} bytes a collection, of which the "
                f"file itself is {size / per:.0f} bytes each time it is held (built, as text, "
                "hashed, sent to the database)"
            )
            return 0
        before_kb = _rss_kb("VmRSS")
        peak_reset = _reset_peak()
        started = time.perf_counter()
        built = files.build_file(SYSTEM, day)
        elapsed = time.perf_counter() - started
        peak_kb = _rss_kb("VmHWM")
        size = len(files.stored_content(built.file_id))
    count = max(built.debit_count, 1)
    print(
        f"build_file: {elapsed:.2f} s wall ({built.debit_count / elapsed:,.0f} collections/s); "
        f"{built.debit_count:,} debits, {built.instruction_count:,} instructions, "
        f"file {size / 1e6:.1f} MB, serial {built.serial}"
    )
    growth = peak_kb - before_kb
    print(
        f"memory: peak RSS during the build {peak_kb / 1024:.0f} MB"
        f"{'' if peak_reset else ' (process peak: VmHWM could not be reset)'}; "
        f"{before_kb / 1024:.0f} MB before it, so {growth / 1024:.1f} MB for the build, "
        f"{growth * 1024 / count:,.0f} bytes a collection (the file text alone is "
        f"{size / count:.0f} bytes a collection)"
    )
    print(elapsed)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    parser.add_argument("--collections", type=int, action="append", help="collections due")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--build", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        return build(date.fromisoformat(args.build), trace=args.trace)
    sizes = args.collections or [10_000, 50_000]
    if args.child:
        return child(sizes[0])
    from shared.config import redact_url

    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"
    print(f"database: {redact_url(url)}")
    failed = 0
    for count in sizes:
        print(f"--- {count:,} collections ---", flush=True)
        failed |= subprocess.call(
            [sys.executable, __file__, "--child", "--collections", str(count)], env=os.environ
        )
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
