"""Time importing an ARUDD report of 5,000 returned Direct Debits (and 1,000, to see
that memory stays flat in the count).

    scripts/test_services.sh createdb recovery_reports_bench
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:54329/recovery_reports_bench \\
        .venv/bin/python bench/bench_bacs_arudd.py --returns 1000 5000

For each size, sets up that many accounts, each with an invoice, an active mandate
and a collection in a released Bacs file whose payment was posted (as the collection
run posts it), then writes an ARUDD naming them all (70% refer to payer, re-presented
and written to; 15% account closed; 10% instruction cancelled; 3% payer deceased; 2%
references no mandate has) and imports it as `flask bacs import` does
(returns.import_report, one transaction). Prints wall time and how far the
process's resident memory rose during the import, and a same-run yardstick: one hand-written
SQL UPDATE marking the same collections returned (rolled back), the least any import
must write; and the ratio. Then checks the ledger reconciles. Never asserts on time.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_SQLITE = Path(tempfile.gettempdir()) / "council-recovery-bench-arudd.db"
MIX = [("0", 70), ("B", 15), ("1", 10), ("2", 3), ("unknown", 2)]


class PeakRss:
    """The process's resident memory before a block and its peak during it, sampled
    every 2 ms from /proc (tracemalloc would slow the import several times over)."""

    def __enter__(self):
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.before = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self.page

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())


def setup(count: int, run: str):
    """`count` accounts with a collected Direct Debit each; their references and ids."""
    import sqlalchemy as sa

    from shared.domain.bacs import calendar
    from shared.extensions import db
    from shared.models import (
        BacsFile,
        BacsFileStatus,
        Collection,
        CollectionStatus,
        DebtorAccount,
        DebtorKind,
        Mandate,
        MandateSource,
        MandateStatus,
        ModulusOutcome,
        PaymentMethod,
        ServiceDepartment,
    )
    from shared.services import ledger
    from shared.services.actors import SYSTEM
    from shared.services.directdebit import bank_details

    department = ServiceDepartment(code=f"B{run}"[:10], name=f"Bench {run}")
    db.session.add(department)
    serial = (db.session.scalar(sa.select(sa.func.max(BacsFile.serial_number))) or 0) + 1
    from shared import clock

    # Returned two working days after its processing day: recent enough to re-present.
    processing = calendar.add_working_days(clock.today(), -2)
    file = db.session.scalar(
        sa.select(BacsFile).where(
            BacsFile.processing_day == processing, BacsFile.status != BacsFileStatus.WITHDRAWN
        )
    )
    if file is None:
        file = BacsFile(
            serial_number=serial,
            processing_day=processing,
            input_day=calendar.add_working_days(processing, -1),
            entry_day=calendar.add_working_days(processing, 1),
            status=BacsFileStatus.RELEASED,
            file_name="bench.txt",
            content="",
            sha256="0" * 64,
            instruction_count=0,
            debit_count=0,
            debit_total_pence=0,
            credit_count=0,
            credit_total_pence=0,
            summary={},
        )
        db.session.add(file)
    db.session.commit()
    token = bank_details.seal(bank_details.BankDetails("089999", "66374958"))
    made = []
    for n in range(count):
        account = DebtorAccount(
            reference=f"B{run}{n:06d}"[:20],
            kind=DebtorKind.PERSON,
            forename="Bench",
            surname=f"Payer{n}",
            email=f"payer{n}@bench.example",
            consent_email=True,
        )
        db.session.add(account)
        db.session.flush()
        invoice = ledger.post_invoice(
            account_id=account.id,
            department_id=department.id,
            number=f"BI{run}{n:06d}",
            issue_date=date(2026, 5, 1),
            due_date=date(2026, 5, 31),
            description="Bench",
            lines=[ledger.LineInput("Bench", 1, 10000)],
            actor=SYSTEM,
        )
        payment = ledger.post_payment(
            account_id=account.id,
            amount_pence=2500,
            method=PaymentMethod.DIRECT_DEBIT,
            actor=SYSTEM,
            allocations=[(invoice.id, 2500)],
            effective_date=file.entry_day,
        ).entry
        mandate = Mandate(
            account_id=account.id,
            reference=f"M{run}{n:06d}-01"[:18],
            account_holder_name="BENCH PAYER",
            bank_details_encrypted=token,
            account_ending="58",
            modulus_outcome=ModulusOutcome.VALID,
            source=MandateSource.PORTAL,
            status=MandateStatus.ACTIVE,
            lodged_on=date(2026, 5, 1),
        )
        db.session.add(mandate)
        db.session.flush()
        collection = Collection(
            mandate_id=mandate.id,
            invoice_id=invoice.id,
            amount_pence=2500,
            transaction_code="17",
            collection_date=file.entry_day,
            status=CollectionStatus.COLLECTED,
            bacs_file_id=file.id,
            payment_entry_id=payment.id,
        )
        db.session.add(collection)
        db.session.flush()
        made.append((mandate.reference, collection.id))
        if n % 500 == 499:
            db.session.commit()
    db.session.commit()
    return made, processing


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    parser.add_argument("--returns", type=int, nargs="+", default=[1000, 5000])
    args = parser.parse_args()

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from shared.app import create_app
    from shared.config import load_config, redact_url
    from shared.extensions import db
    from shared.models import Collection, Mandate
    from shared.reports.reconciliation import ledger_discrepancies
    from shared.services.actors import SYSTEM
    from shared.services.directdebit import returns
    from tests.bacs_report_samples import Return, arudd

    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"
    app = create_app(load_config(environ={"DATABASE_URL": url}))
    print(f"database: {redact_url(url)}")
    rng = random.Random(1)
    codes = [code for code, weight in MIX for _ in range(weight)]
    with app.app_context():
        upgrade()
        mine: set[int] = set()  # the accounts this run made (other benches share the DB)
        for size in args.returns:
            run = f"{time.time_ns() // 1000 % 10**5:05d}"
            started = time.perf_counter()
            made, processing = setup(size, run)
            print(f"\n{size:,} returns: set up in {time.perf_counter() - started:.0f} s")
            items = []
            for reference, _ in made:
                code = rng.choice(codes)
                if code == "unknown":
                    reference, code = f"X{reference[1:]}", "0"
                items.append(Return(reference, "25.00", code, original_processing_day=processing))
            content = arudd(items, advice_number=run)
            print(f"  file: {len(content) / 1e6:.1f} MB")

            ids = [collection_id for _, collection_id in made]
            mine.update(
                db.session.scalars(
                    sa.select(Mandate.account_id)
                    .join(Collection, Collection.mandate_id == Mandate.id)
                    .where(Collection.id.in_(ids))
                )
            )
            started = time.perf_counter()
            db.session.execute(
                sa.text(
                    "UPDATE dd_collections SET status = 'returned', return_reason = '0', "
                    "returned_at = CURRENT_TIMESTAMP WHERE id IN :ids"
                ).bindparams(sa.bindparam("ids", expanding=True)),
                {"ids": ids},
            )
            yardstick = time.perf_counter() - started
            db.session.rollback()

            with PeakRss() as memory:
                started = time.perf_counter()
                report = returns.import_report(SYSTEM, f"ARUDD-{run}.xml", content)
                wall = time.perf_counter() - started
            grown = memory.peak - memory.before
            print(
                f"  import_report: {wall:.2f} s; resident memory {memory.before / 1e6:.0f} MB "
                f"before, peak +{grown / 1e6:.1f} MB ({grown / size / 1e3:.1f} KB a return); "
                f"{report.applied_count:,} acted on, {report.routed_count:,} for an officer"
            )
            print(
                f"  yardstick (one SQL UPDATE of the same rows): {yardstick:.3f} s; "
                f"ratio {wall / yardstick:.0f}x"
            )
            db.session.rollback()
        problems = ledger_discrepancies(sorted(mine))
        verdict = "its accounts' ledger reconciles"
        if problems:
            verdict = f"LEDGER PROBLEMS: {problems[:5]}"
        print(f"\n{verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
