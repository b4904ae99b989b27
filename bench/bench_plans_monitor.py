"""Time the daily plan monitor (`flask plans monitor`) over many active plans, and its memory.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:54329/recovery_bench \\
        .venv/bin/python bench/bench_plans_monitor.py --plans 50000 --compare 10000
    .venv/bin/python bench/bench_plans_monitor.py --plans 2000 --compare 500 \\
        --database-url sqlite:////tmp/plans_bench.db

For each size (--compare first, then --plans) the database is emptied and
migrated, N active plans are seeded with Core bulk inserts (one debtor, one
invoice and six monthly instalments each, started 0-75 days ago: 60% paid up
to date, 10% one instalment behind, 10% paid nothing, 10% paid off early, 10%
part paid), and then one monitor run for today is timed in a fresh child
process, which reports its wall time, its resident memory before the run and
its peak during the run (/proc/self/status VmRSS and VmHWM, the peak reset
before the run; getrusage where there is no /proc). Memory should not grow with
the number of plans: compare the two sizes' "run added" figures. A second run
for the same day is timed too (it should change nothing).

The database is wiped (TRUNCATE on PostgreSQL, a new file on SQLite): point it
at a database of its own. It refuses one holding debtors unless --reset is
given. Outbox rows are enqueued after each commit as in production; the Redis
used for that is BENCH_REDIS_URL (default: a closed port, so enqueueing fails
fast and the rows wait for the sweeper, as when Redis is down). Never asserts
on time.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import random
import resource
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INSTALMENTS = 6
INSTALMENT_PENCE = 5_000
CHUNK = 5_000  # plans per insert round
NO_REDIS = "redis://127.0.0.1:9/0"  # the discard port: connection refused at once


def _app(url: str):
    from shared.app import create_app
    from shared.config import load_config

    redis_url = os.environ.get("BENCH_REDIS_URL", NO_REDIS)
    # Enqueue failures are expected without a Redis: one warning per page is noise here.
    logging.getLogger("shared.jobs.outbox").setLevel(logging.ERROR)
    return create_app(load_config(environ={"DATABASE_URL": url, "REDIS_URL": redis_url}))


def _memory_mb() -> tuple[float, float]:
    """(resident now, peak resident) of this process in MB.

    From /proc/self/status where there is one: getrusage's ru_maxrss survives
    fork and exec, so a child would report its parent's peak (the seeding)."""
    try:
        fields = dict(
            line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines()
        )
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        return peak, peak


def _reset_peak() -> None:
    """Start the peak-RSS count from now (Linux); elsewhere the peak is since start."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


# --- seeding ----------------------------------------------------------------------------------


def _reset(url: str, force: bool) -> None:
    """An empty, migrated database."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from shared.extensions import db

    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        if path.exists() and not force and _has_debtors(url):
            sys.exit(f"{path} already has debtors: give --reset to wipe it")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    app = _app(url)
    with app.app_context():
        upgrade()
        if not url.startswith("sqlite"):
            count = db.session.scalar(sa.text("SELECT count(*) FROM debtor_accounts"))
            if count and not force:
                sys.exit("The database already has debtors: give --reset to wipe it")
            tables = ", ".join(
                f'"{t.name}"' for t in db.metadata.sorted_tables if t.name != "alembic_version"
            )
            # The append-only tables refuse TRUNCATE (migration 0017) unless triggers are
            # off, which needs the superuser BENCH_DATABASE_URL names.
            db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
            db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
        db.engine.dispose()


def _has_debtors(url: str) -> bool:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.scalar(sa.text("SELECT count(*) FROM debtor_accounts")))
    except sa.exc.SQLAlchemyError:
        return False
    finally:
        engine.dispose()


def _seed(url: str, n: int, today: date, seed: int) -> dict[str, int]:
    import sqlalchemy as sa

    from shared.extensions import db
    from shared.models import (
        Address,
        Allocation,
        Arrangement,
        ArrangementDebt,
        ArrangementStatus,
        Channel,
        DebtorAccount,
        DebtorKind,
        EntryKind,
        Frequency,
        Instalment,
        Invoice,
        LedgerEntry,
        PaymentMethod,
        PaymentRoute,
        ServiceDepartment,
    )
    from shared.models.base import utcnow
    from shared.models.invoices import RecoveryStage

    rng = random.Random(seed)
    now = utcnow()
    total = INSTALMENTS * INSTALMENT_PENCE
    counts = dict.fromkeys(["plans", "instalments", "payments"], 0)
    app = _app(url)
    with app.app_context():
        db.session.execute(
            sa.insert(ServiceDepartment),
            [{"id": 1, "code": "BENCH", "name": "Bench services", "is_commercial": False}],
        )
        entry_id = 0
        for first in range(1, n + 1, CHUNK):
            ids = range(first, min(first + CHUNK, n + 1))
            accounts, addresses, invoices, entries, allocations = [], [], [], [], []
            arrangements, debts, instalments = [], [], []
            for i in ids:
                channel = (Channel.EMAIL, Channel.SMS, Channel.POST)[i % 3]
                accounts.append(
                    {
                        "id": i,
                        "reference": f"B{i:09d}",
                        "kind": DebtorKind.PERSON,
                        "forename": "Alex",
                        "surname": f"Bench{i}",
                        "email": f"bench{i}@example.com" if channel == Channel.EMAIL else None,
                        "mobile_phone": f"07700{i % 1_000_000:06d}"
                        if channel == Channel.SMS
                        else None,
                        "preferred_channel": channel,
                        "consent_email": channel == Channel.EMAIL,
                        "consent_sms": channel == Channel.SMS,
                        "vulnerable": False,
                        "deceased": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                addresses.append(
                    {
                        "id": i,
                        "account_id": i,
                        "line1": f"{i} Bench Road",
                        "town": "Ambridge",
                        "postcode": "AB1 2CD",
                        "postcode_key": "AB12CD",
                        "is_primary": True,
                        "created_at": now,
                    }
                )
                invoices.append(
                    {
                        "id": i,
                        "number": f"BEN{i:09d}",
                        "account_id": i,
                        "department_id": 1,
                        "issue_date": today - timedelta(days=200),
                        "due_date": today - timedelta(days=170),
                        "description": "Bench charges",
                        "net_pence": total,
                        "vat_pence": 0,
                        "total_pence": total,
                        "recovery_stage": RecoveryStage.REMINDER,
                        "created_at": now,
                    }
                )
                entry_id += 1
                entries.append(
                    {
                        "id": entry_id,
                        "account_id": i,
                        "kind": EntryKind.INVOICE,
                        "amount_pence": total,
                        "invoice_id": i,
                        "method": None,
                        "effective_date": today - timedelta(days=200),
                        "created_at": now - timedelta(days=200),
                    }
                )
                start = today - timedelta(days=rng.randint(0, 75))
                start = start.replace(day=min(start.day, 28))
                dues = [_add_months(start, k) for k in range(INSTALMENTS)]
                due_now = sum(1 for d in dues if d <= today)
                kind = i % 10
                if kind <= 5:  # paid everything due so far
                    paid = due_now * INSTALMENT_PENCE
                elif kind == 6:  # one behind
                    paid = max(due_now - 1, 0) * INSTALMENT_PENCE
                elif kind == 7:  # paid nothing
                    paid = 0
                elif kind == 8:  # paid off early
                    paid = total
                else:  # part paid
                    paid = INSTALMENT_PENCE // 2
                activated = datetime.combine(start, datetime.min.time()) - timedelta(days=7)
                if paid:
                    entry_id += 1
                    entries.append(
                        {
                            "id": entry_id,
                            "account_id": i,
                            "kind": EntryKind.PAYMENT,
                            "amount_pence": -paid,
                            "invoice_id": None,
                            "method": PaymentMethod.CARD,
                            "effective_date": today,
                            "created_at": now,
                        }
                    )
                    allocations.append(
                        {
                            "credit_entry_id": entry_id,
                            "invoice_id": i,
                            "amount_pence": paid,
                            "created_at": now,
                        }
                    )
                    counts["payments"] += 1
                arrangements.append(
                    {
                        "id": i,
                        "account_id": i,
                        "status": ArrangementStatus.ACTIVE,
                        "frequency": Frequency.MONTHLY,
                        "total_pence": total,
                        "start_date": start,
                        "payment_route": PaymentRoute.CARD,
                        "instalment_count": INSTALMENTS,
                        "policy_outcome": "approve",
                        "needs_team_leader": False,
                        "decided_at": activated,
                        "activated_at": activated,
                        "created_at": activated,
                        "updated_at": activated,
                    }
                )
                debts.append(
                    {
                        "arrangement_id": i,
                        "invoice_id": i,
                        "amount_pence": total,
                        "stage_at_start": RecoveryStage.REMINDER.value,
                    }
                )
                instalments.extend(
                    {
                        "id": (i - 1) * INSTALMENTS + k + 1,
                        "arrangement_id": i,
                        "sequence": k + 1,
                        "due_date": d,
                        "amount_pence": INSTALMENT_PENCE,
                        "paid_pence": 0,
                    }
                    for k, d in enumerate(dues)
                )
            for model, rows in (
                (DebtorAccount, accounts),
                (Address, addresses),
                (Invoice, invoices),
                (LedgerEntry, entries),
                (Allocation, allocations),
                (Arrangement, arrangements),
                (ArrangementDebt, debts),
                (Instalment, instalments),
            ):
                if rows:
                    db.session.execute(sa.insert(model.__table__), rows)
            db.session.commit()
            counts["plans"] += len(arrangements)
            counts["instalments"] += len(instalments)
        if db.engine.dialect.name == "postgresql":
            # Ids were given explicitly: move the sequences past them.
            for table in (
                "service_departments",
                "debtor_accounts",
                "addresses",
                "invoices",
                "ledger_entries",
                "allocations",
                "arrangements",
                "instalments",
            ):
                db.session.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
                )
            db.session.commit()
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        db.engine.dispose()
    return counts


# --- one monitor run, in a process of its own -------------------------------------------------


def _run_child(url: str, day: date, batch_size: int) -> dict:
    """Run the monitor in this (child) process and return its figures."""
    import sqlalchemy as sa

    from shared.extensions import db
    from shared.services import plan_monitor

    app = _app(url)
    with app.app_context():
        # Everything imported and connected before the baseline.
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
        gc.collect()
        _reset_peak()
        before, _ = _memory_mb()
        started = time.perf_counter()
        counts = plan_monitor.run(day, batch_size=batch_size)
        first = time.perf_counter() - started
        _, after = _memory_mb()
        started = time.perf_counter()
        again = plan_monitor.run(day, batch_size=batch_size)
        second = time.perf_counter() - started
        db.engine.dispose()
    return {
        "seconds": first,
        "rss_before_mb": before,
        "rss_peak_mb": after,
        "counts": counts.as_dict(),
        "again_seconds": second,
        "again_counts": again.as_dict(),
    }


def _measure(url: str, day: date, batch_size: int) -> dict:
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            "--database-url",
            url,
            "--date",
            day.isoformat(),
            "--batch-size",
            str(batch_size),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"monitor run failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=50_000)
    parser.add_argument(
        "--compare", type=int, default=10_000, help="a smaller size to compare memory (0: none)"
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--date", default=None, help="run date, YYYY-MM-DD (default today)")
    parser.add_argument("--reset", action="store_true", help="wipe a database holding debtors")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.database_url:
        sys.exit("Set BENCH_DATABASE_URL or --database-url to a database of its own")
    from shared.config import normalise_database_url, redact_url

    url = normalise_database_url(args.database_url)
    day = date.fromisoformat(args.date) if args.date else date.today()
    if args.child:
        print(json.dumps(_run_child(url, day, args.batch_size)))
        return

    print(f"database: {redact_url(url)}  run date: {day}  batch size: {args.batch_size}")
    sizes = [s for s in (args.compare, args.plans) if s > 0]
    results = {}
    for index, n in enumerate(sizes):
        _reset(url, force=args.reset or index > 0)
        started = time.perf_counter()
        seeded = _seed(url, n, day, args.seed)
        print(
            f"\n{n:,} plans: seeded {seeded['plans']:,} plans, {seeded['instalments']:,} "
            f"instalments, {seeded['payments']:,} payments in {time.perf_counter() - started:.1f} s"
        )
        figures = _measure(url, day, args.batch_size)
        results[n] = figures
        counts = ", ".join(f"{k} {v:,}" for k, v in figures["counts"].items())
        again = ", ".join(f"{k} {v:,}" for k, v in figures["again_counts"].items())
        print(f"  monitor run:  {figures['seconds']:.2f} s  ({counts})")
        print(
            f"  peak RSS:     {figures['rss_peak_mb']:.1f} MB  "
            f"(app loaded {figures['rss_before_mb']:.1f} MB, run added "
            f"{figures['rss_peak_mb'] - figures['rss_before_mb']:.1f} MB)"
        )
        print(f"  second run:   {figures['again_seconds']:.2f} s  ({again})")
    if len(results) == 2:
        small, large = (results[n] for n in sizes)
        grow = (large["rss_peak_mb"] - large["rss_before_mb"]) - (
            small["rss_peak_mb"] - small["rss_before_mb"]
        )
        print(
            f"\nmemory the run added: {sizes[1]:,} plans vs {sizes[0]:,}: {grow:+.1f} MB; "
            f"time per 1,000 plans: {small['seconds'] / sizes[0] * 1000:.2f} s vs "
            f"{large['seconds'] / sizes[1] * 1000:.2f} s"
        )


if __name__ == "__main__":
    main()
