"""Time a dunning run (the recovery ladder, shared/services/dunning/runs.py) beside one
hand-written SQL query that selects the same stage moves, with peak memory.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:54329/recovery_bench \\
        BENCH_DEBTORS=200000 .venv/bin/python bench/bench_dunning_run.py --reset
    BENCH_DEBTORS=20000 ...                    # a tenth of the target data set

The database is migrated and, when it has no debtors (or with --reset, which empties
it first: point it at a database of its own), seeded with the demo data set
(shared/demo: BENCH_DEBTORS debtors, about five invoices each, payments, holds, plans)
and every department given the standard recovery ladder and templates
(install_defaults). Then two days, each timed the same way:

- a steady-state day: the demo data as generated is chased up to today (its invoices
  carry the stages a ladder would have given them), so a run for TOMORROW makes the
  moves a normal day makes;
- the go-live day (the heaviest): every invoice put back at no stage, run for the day
  after tomorrow (nothing the steady-state run did is due again).

For each: 1. the raw query: one hand-written PostgreSQL statement giving the invoices
that move (the ladder, outstanding, every skip rule) - the floor a run cannot beat;
2. the preview (a dry run: the selection and classification, nothing written);
3. the full run (messages, moves, invoice updates, timeline and audit rows, Late
Payment Act charges). Each prints wall time and peak resident memory (VmHWM, reset
before each step), and the ratio to the raw query. The preview's moves are checked
against the raw query's. `--day` picks one day. A run for a date happens once, so a
second bench on the same data needs --reset (or a fresh copy of a seeded database:
`createdb -T seeded copy` is seconds).
Outbox rows are enqueued after each commit as in production; the Redis used is
BENCH_REDIS_URL (default: a closed port, so enqueueing fails fast and the rows wait
for the sweeper). Never asserts on time.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import resource
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NO_REDIS = "redis://127.0.0.1:9/0"

# The same moves as shared/services/dunning/selection.py, by hand: the next automatic
# stage per department and current stage (LATERAL), due by days after the due date and
# the gap since the last move, outstanding > 0, and no skip reason.
RAW_QUERY = """
WITH stages AS (
    SELECT p.department_id, p.minimum_balance_pence, s.stage, s.days_after_due,
           CASE s.stage WHEN 'reminder' THEN 1 WHEN 'final_demand' THEN 2
                WHEN 'pre_action' THEN 3 WHEN 'referred_legal' THEN 4 ELSE 5 END AS rank
    FROM dunning_policies p JOIN dunning_stages s ON s.policy_id = p.id
),
paid AS (
    SELECT invoice_id, sum(amount_pence) AS pence FROM allocations GROUP BY invoice_id
),
open_invoices AS (
    SELECT i.*, i.total_pence - coalesce(paid.pence, 0) AS outstanding,
           CASE i.recovery_stage WHEN 'none' THEN 0 WHEN 'reminder' THEN 1
                WHEN 'final_demand' THEN 2 WHEN 'pre_action' THEN 3
                WHEN 'referred_legal' THEN 4 ELSE 5 END AS rank
    FROM invoices i LEFT JOIN paid ON paid.invoice_id = i.id
    WHERE i.charge_on_invoice_id IS NULL AND i.total_pence - coalesce(paid.pence, 0) > 0
),
by_department AS (
    SELECT account_id, department_id, sum(outstanding) AS owed
    FROM open_invoices GROUP BY account_id, department_id
)
SELECT o.id, nxt.stage
FROM open_invoices o
JOIN LATERAL (
    SELECT s.stage, s.days_after_due, s.minimum_balance_pence FROM stages s
    WHERE s.department_id = o.department_id AND s.rank > o.rank
    ORDER BY s.rank LIMIT 1
) nxt ON nxt.days_after_due IS NOT NULL
LEFT JOIN stages cur
    ON cur.department_id = o.department_id AND cur.stage = o.recovery_stage
JOIN debtor_accounts a ON a.id = o.account_id
JOIN by_department d ON d.account_id = o.account_id AND d.department_id = o.department_id
WHERE o.due_date + nxt.days_after_due <= :on
  AND (o.recovery_stage_at IS NULL OR cur.days_after_due IS NULL
       OR o.recovery_stage_at::date + (nxt.days_after_due - cur.days_after_due) <= :on)
  AND NOT a.deceased
  AND NOT (a.breathing_space_type IS NOT NULL AND a.breathing_space_start <= :on
           AND (a.breathing_space_end IS NULL OR a.breathing_space_end >= :on))
  AND NOT EXISTS (
      SELECT 1 FROM account_holds h
      WHERE h.account_id = o.account_id AND (h.invoice_id IS NULL OR h.invoice_id = o.id)
        AND h.lifted_at IS NULL AND h.starts_on <= :on
        AND (h.expires_on IS NULL OR h.expires_on >= :on))
  AND NOT EXISTS (
      SELECT 1 FROM arrangement_debts ad JOIN arrangements ar ON ar.id = ad.arrangement_id
      WHERE ad.invoice_id = o.id
        AND ar.status IN ('proposed', 'counter_offered', 'active'))
  AND NOT EXISTS (
      SELECT 1 FROM dd_collections c
      WHERE c.invoice_id = o.id AND c.status IN ('scheduled', 'submitted', 'collected'))
  AND NOT EXISTS (
      SELECT 1 FROM mandates m
      WHERE m.account_id = o.account_id AND m.collects_invoices
        AND m.status IN ('pending_submission', 'submitted', 'active')
        AND m.collections_stopped_reason IS NULL)
  AND NOT EXISTS (
      SELECT 1 FROM letters_of_claim l
      WHERE l.account_id = o.account_id AND l.reply_received_on IS NOT NULL
        AND l.reply_resolved_on IS NULL)
  AND o.due_date >= :on - interval '6 years' - interval '1 day'
  AND d.owed >= nxt.minimum_balance_pence
  AND NOT EXISTS (
      SELECT 1 FROM dunning_moves dm WHERE dm.invoice_id = o.id AND dm.to_stage = nxt.stage)
"""


def _memory_mb() -> tuple[float, float]:
    """(resident now, peak resident since the last reset) in MB."""
    try:
        fields = dict(
            line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines()
        )
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return peak, peak


def _reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _timed(label: str, fn):
    import gc

    gc.collect()
    _reset_peak()
    before, _ = _memory_mb()
    started = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - started
    _, peak = _memory_mb()
    print(f"{label:<34} {elapsed:8.2f} s   peak {peak:7.0f} MB (+{peak - before:.0f} MB)")
    return result, elapsed


def _prepare(app, debtors: int, reset: bool) -> None:
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from shared.demo import seed_demo
    from shared.extensions import db
    from shared.services.actors import SYSTEM
    from shared.services.messages.templates import install_defaults

    upgrade()
    if reset and db.engine.dialect.name == "postgresql":
        tables = ", ".join(
            f'"{t.name}"' for t in db.metadata.sorted_tables if t.name != "alembic_version"
        )
        db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
        db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()
        db.engine.dispose()
        upgrade()  # the rows the migrations seed (VAT rates, base rates, sequences)
    have = db.session.scalar(sa.text("SELECT count(*) FROM debtor_accounts"))
    db.session.commit()
    if not have:
        started = time.perf_counter()
        counts = seed_demo(debtors)
        print(
            f"seeded {debtors:,} debtors ({counts.get('invoices', 0):,} invoices) "
            f"in {time.perf_counter() - started:.0f} s"
        )
    else:
        print(f"using the {have:,} debtors already there")
    install_defaults(SYSTEM)
    db.session.commit()


def _go_live() -> None:
    """Every debt back at no stage: the first run after go-live."""
    import sqlalchemy as sa

    from shared.extensions import db

    moved = db.session.execute(
        sa.text(
            "UPDATE invoices SET recovery_stage = 'none', recovery_stage_at = NULL "
            "WHERE recovery_stage <> 'none'"
        )
    ).rowcount
    db.session.commit()
    db.session.execute(sa.text("ANALYZE invoices"))
    db.session.commit()
    print(f"{moved:,} invoices put back at no stage (the first run after go-live)")


def _day(label: str, on) -> dict:
    import sqlalchemy as sa

    from shared.extensions import db
    from shared.models import DunningRun
    from shared.services.actors import SYSTEM
    from shared.services.dunning import runs

    if db.session.scalar(sa.select(DunningRun.id).where(DunningRun.run_date == on)):
        sys.exit(f"A run for {on} is in this database already: give --reset")
    db.session.commit()
    print(f"\n== {label}: run date {on} ==")

    def raw():
        rows = db.session.execute(sa.text(RAW_QUERY), {"on": on}).all()
        db.session.commit()
        return rows

    raw(), raw()  # warm the cache, as the run's own first query would be
    rows, raw_s = _timed("raw SQL query (moves)", raw)
    preview, preview_s = _timed("preview (dry run)", lambda: runs.preview(on))
    result, run_s = _timed("execute (full run)", lambda: runs.execute(on, SYSTEM))

    outcome = result.outcome
    print(f"raw query moves   {len(rows):>9,}")
    value = preview.outcome.value_pence / 100
    print(f"preview moves     {preview.outcome.moves:>9,}  (value £{value:,.2f})")
    print(
        f"run moves         {outcome.moves:>9,}  "
        f"debtors written to {sum(outcome.messages.values()):,} "
        f"{dict(outcome.messages)}, Letters of Claim {outcome.letters_of_claim:,}, "
        f"Late Payment Act charges {outcome.charges:,} (£{outcome.charges_pence / 100:,.2f})"
    )
    skipped = ", ".join(f"{k} {v:,}" for k, v in outcome.skipped.items())
    print(f"run skipped       {sum(outcome.skipped.values()):>9,}  ({skipped})")
    print(f"preview / raw query  {preview_s / raw_s:5.1f}x")
    print(f"run / raw query      {run_s / raw_s:5.1f}x   (target: under 60 s and within 3x)")
    if preview.outcome.moves != len(rows):
        print(
            "note: the raw query's moves differ from the preview's: the raw query treats "
            "statute-barred as due more than six years ago (no restarts) and knows "
            "nothing of the contact rules"
        )
    return {"raw": raw_s, "preview": preview_s, "run": run_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--debtors", type=int, default=int(os.environ.get("BENCH_DEBTORS", 200_000))
    )
    parser.add_argument("--reset", action="store_true", help="empty the database first")
    parser.add_argument("--day", choices=("both", "steady", "go-live"), default="both")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url or not url.startswith("postgres"):
        sys.exit("Set BENCH_DATABASE_URL to a PostgreSQL database of its own (make bench does).")

    import sqlalchemy as sa

    from shared import clock
    from shared.app import create_app
    from shared.config import load_config, redact_url
    from shared.extensions import db

    logging.getLogger("shared.jobs.outbox").setLevel(logging.ERROR)
    redis_url = os.environ.get("BENCH_REDIS_URL", NO_REDIS)
    app = create_app(load_config(environ={"DATABASE_URL": url, "REDIS_URL": redis_url}))
    print(f"database: {redact_url(url)}")
    with app.app_context():
        _prepare(app, args.debtors, args.reset)
        today = clock.today()
        invoices = db.session.scalar(sa.text("SELECT count(*) FROM invoices"))
        db.session.commit()
        print(f"today {today}, {invoices:,} invoices")
        figures = {}
        if args.day in ("both", "steady"):
            figures["steady-state day"] = _day("steady-state day", today + timedelta(days=1))
        if args.day in ("both", "go-live"):
            _go_live()
            figures["go-live day"] = _day("go-live day", today + timedelta(days=2))
        print()
        for label, f in figures.items():
            print(
                f"{label:<17} raw {f['raw']:6.2f} s  preview {f['preview']:6.2f} s "
                f"({f['preview'] / f['raw']:.1f}x)  run {f['run']:6.2f} s "
                f"({f['run'] / f['raw']:.1f}x)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
