"""Time importing a bank statement of 20,000 lines against a large book.

    .venv/bin/python bench/bench_bank_statement_import.py --debtors 20000   # SQLite
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:54329/recovery_bench \\
        .venv/bin/python bench/bench_bank_statement_import.py --debtors 200000 --lines 20000

Migrates the database and seeds demo debtors until there are --debtors. Then writes a
statement in the bank CSV layout (docs/bank-statements.md) whose lines are made from
the book as payers make them: exact invoice numbers, the same with spaces, lower case
or leading zeros left out, O for 0, two digits swapped, account references, no
reference at all (amount and the payer's name), unknown payers, Stripe and Direct
Debit settlements and debits; and imports it as the command line does
(importer.import_statement, one transaction). Each run uses a new bank account, so
nothing is "already known".

Prints the import's wall time, its matching summary and the share matched
automatically, and a same-run yardstick: one hand-written SQL statement over the same
rows (the statement's references joined to the invoices, with what each owes), which
is the least any import must read; and the ratio. Never asserts on time.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_SQLITE = Path(tempfile.gettempdir()) / "council-recovery-bench-bank.db"

# What each statement line is made as, and how often (out of 100).
MIX = [
    ("exact", 40),
    ("spaced", 10),
    ("no_zeros", 8),
    ("o_for_zero", 5),
    ("swapped", 5),
    ("account", 10),
    ("name_only", 7),
    ("unknown", 5),
    ("settlement", 5),
    ("debit", 5),
]

YARDSTICK = """
SELECT i.id, i.account_id, i.total_pence - COALESCE(a.s, 0) AS owed
FROM invoices i
LEFT JOIN (SELECT invoice_id, SUM(amount_pence) AS s FROM allocations GROUP BY invoice_id) a
  ON a.invoice_id = i.id
WHERE i.number IN :numbers
"""


def _open_invoices(db, sa, limit: int, rng: random.Random):
    """(number, owed, account reference, forename, surname, organisation) of open invoices."""
    from shared.models import Allocation, DebtorAccount, Invoice

    allocated = (
        sa.select(Allocation.invoice_id, sa.func.sum(Allocation.amount_pence).label("s"))
        .group_by(Allocation.invoice_id)
        .subquery()
    )
    owed = (Invoice.total_pence - sa.func.coalesce(allocated.c.s, 0)).label("owed")
    rows = db.session.execute(
        sa.select(
            Invoice.number,
            owed,
            DebtorAccount.reference,
            DebtorAccount.forename,
            DebtorAccount.surname,
            DebtorAccount.organisation_name,
        )
        .join(DebtorAccount, DebtorAccount.id == Invoice.account_id)
        .outerjoin(allocated, allocated.c.invoice_id == Invoice.id)
        .where(owed > 0)
    ).all()
    rng.shuffle(rows)
    return rows[:limit]


def _payer(row) -> str:
    if row.organisation_name:
        return row.organisation_name.upper()
    return f"{(row.forename or 'X')[0]} {row.surname}".upper()


def _swap(number: str, rng: random.Random) -> str:
    digits = [i for i in range(len(number) - 1) if number[i].isdigit() and number[i + 1].isdigit()]
    digits = [i for i in digits if number[i] != number[i + 1]] or digits
    i = rng.choice(digits)
    return number[:i] + number[i + 1] + number[i] + number[i + 2 :]


def statement_csv(rows, lines: int, rng: random.Random, account: str, day: date) -> bytes:
    kinds = [k for k, weight in MIX for _ in range(weight)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["Date", "Sort code", "Account number", "Bank reference", "Type", "Payer"]
        + ["Description", "Debit", "Credit", "Balance"]
    )
    balance = 50_000_000_00
    for n in range(lines):
        row = rows[n % len(rows)]
        kind = rng.choice(kinds)
        amount, payer, text, credit = int(row.owed), _payer(row), row.number, True
        number = row.number
        if kind == "spaced":
            text = f"inv {number[3:7]} {number[7:]} thanks".lower()
        elif kind == "no_zeros":
            text = f"INV{int(number[3:])}"
        elif kind == "o_for_zero":
            text = number.replace("0", "O", 2)
        elif kind == "swapped":
            text = _swap(number, rng)
        elif kind == "account":
            text = f"REF {row.reference}"
        elif kind == "name_only":
            text = "DEC PAYMENT"
        elif kind == "unknown":
            amount, payer, text = rng.randrange(1_00, 500_00), "A N OTHER", "GIFT"
        elif kind == "settlement":
            amount, payer, text = rng.randrange(100_00, 5_000_00), "STRIPE PAYMENTS UK", "STRIPE"
        elif kind == "debit":
            amount, payer, text, credit = rng.randrange(1_00, 100_00), "", "CHARGES", False
        balance += amount if credit else -amount
        pounds = f"{amount // 100}.{amount % 100:02d}"
        writer.writerow(
            [day.strftime("%d/%m/%Y"), account[:6], account[6:], f"B{n:09d}", "FPI", payer, text]
            + (["", pounds] if credit else [pounds, ""])
            + [f"{balance // 100}.{balance % 100:02d}"]
        )
    return out.getvalue().encode()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    parser.add_argument("--debtors", type=int, default=20_000, help="seed up to this many")
    parser.add_argument("--lines", type=int, default=20_000, help="statement lines")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from shared.app import create_app
    from shared.config import load_config, redact_url
    from shared.demo import seed_demo
    from shared.extensions import db
    from shared.models import DebtorAccount
    from shared.reports.reconciliation import ledger_discrepancies
    from shared.services.actors import SYSTEM
    from shared.services.bank_statements import importer, reads

    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"
    app = create_app(load_config(environ={"DATABASE_URL": url}))
    print(f"database: {redact_url(url)}")
    rng = random.Random(time.time_ns())
    with app.app_context():
        upgrade()
        have = db.session.scalar(sa.select(sa.func.count()).select_from(DebtorAccount))
        if have < args.debtors:
            print(f"seeding {args.debtors - have:,} debtors ...", flush=True)
            started = time.perf_counter()
            seed_demo(args.debtors - have, seed=args.seed)
            print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
        counts = {
            t: db.session.scalar(sa.text(f"SELECT COUNT(*) FROM {t}"))
            for t in ("debtor_accounts", "invoices", "ledger_entries", "allocations")
        }
        print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        rows = _open_invoices(db, sa, args.lines, rng)
        db.session.rollback()
        account = f"{rng.randrange(10**13, 10**14)}"
        content = statement_csv(rows, args.lines, rng, account, date(2026, 12, 3))
        print(f"statement: {args.lines:,} lines, {len(content) / 1e6:.1f} MB, account {account}")

        numbers = sorted({r.number for r in rows})
        started = time.perf_counter()
        db.session.execute(
            sa.text(YARDSTICK).bindparams(sa.bindparam("numbers", expanding=True)),
            {"numbers": numbers},
        ).all()
        yardstick = time.perf_counter() - started
        db.session.rollback()

        started = time.perf_counter()
        result = importer.import_statement(content, actor=SYSTEM, file_name="bench.csv")
        elapsed = time.perf_counter() - started
        summary = reads.import_summary(result.import_id)
        for line in reads.summary_lines(summary):
            print(line)
        print(f"import: {elapsed:.1f} s wall ({args.lines / elapsed:,.0f} lines/s)")
        print(
            f"yardstick (one SQL read of the same {len(numbers):,} invoices and what they owe): "
            f"{yardstick * 1000:.0f} ms; import / yardstick = {elapsed / yardstick:,.0f}x"
        )
        started = time.perf_counter()
        problems = ledger_discrepancies()
        print(
            f"reconciliation after the import: {len(problems)} problems "
            f"({time.perf_counter() - started:.1f} s)"
        )
        db.session.rollback()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
