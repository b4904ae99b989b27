"""Entry-day posting (shared/services/directdebit/posting.py): submitted collections in
a released file become Direct Debit payments on their entry day, once, allocated to the
plan's invoices, and the books still reconcile."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from shared.domain.bacs import calendar
from shared.models import (
    BacsFile,
    BacsFileStatus,
    Collection,
    CollectionStatus,
    ContactEvent,
    LedgerEntry,
    PaymentMethod,
)
from shared.reports.reconciliation import ledger_discrepancies
from shared.services import balances
from shared.services.directdebit import collections, posting
from tests.frozen_clock import frozen_clock
from tests.integration.test_dd_collections import INSTALMENT, make_dd_plan

pytestmark = frozen_clock
FIRST_ENTRY = date(2026, 7, 1)


def released_file(db, entry_day: date, *, status=BacsFileStatus.RELEASED, serial=1) -> BacsFile:
    cycle = calendar.cycle_for_entry_day(entry_day)
    row = BacsFile(
        serial_number=serial,
        processing_day=cycle.processing_day,
        input_day=cycle.input_day,
        entry_day=entry_day,
        status=status,
        file_name=f"test-{serial}.txt",
        content="",
        sha256="0" * 64,
        instruction_count=0,
        debit_count=0,
        debit_total_pence=0,
        credit_count=0,
        credit_total_pence=0,
        summary={},
    )
    db.session.add(row)
    db.session.commit()
    return row


def submit_due(db, world, entry_day: date, bacs_file: BacsFile) -> list[Collection]:
    """What the file builder does: the day's scheduled collections go in the file."""
    due = db.session.scalars(
        sa.select(Collection).where(
            Collection.mandate_id == world["mandate_id"],
            Collection.collection_date == entry_day,
            Collection.status == CollectionStatus.SCHEDULED,
        )
    ).all()
    for c in due:
        c.status = CollectionStatus.SUBMITTED
        c.bacs_file_id = bacs_file.id
    db.session.commit()
    return due


def test_a_due_collection_is_posted_once_and_the_books_reconcile(db):
    world = make_dd_plan()
    collections.sync_account(world["account_id"])
    [first] = submit_due(db, world, FIRST_ENTRY, released_file(db, FIRST_ENTRY))
    first_id = first.id  # posting empties the session after each batch

    assert posting.post_due_collections(FIRST_ENTRY - timedelta(days=1)) == 0  # not yet
    assert posting.post_due_collections(FIRST_ENTRY) == 1
    assert posting.post_due_collections(FIRST_ENTRY) == 0  # a second run posts nothing

    db.session.expire_all()
    collected = db.session.get(Collection, first_id)
    assert collected.status == CollectionStatus.COLLECTED
    entry = db.session.get(LedgerEntry, collected.payment_entry_id)
    assert (entry.amount_pence, entry.method, entry.effective_date) == (
        -INSTALMENT,
        PaymentMethod.DIRECT_DEBIT,
        FIRST_ENTRY,
    )
    assert entry.external_reference == f"DD-COLLECTION-{first_id}"
    assert (
        db.session.scalar(
            sa.select(sa.func.count(LedgerEntry.id)).where(
                LedgerEntry.method == PaymentMethod.DIRECT_DEBIT
            )
        )
        == 1
    )
    assert balances.invoice_outstanding(world["invoice_id"]) == 3 * INSTALMENT
    assert ledger_discrepancies() == []
    assert (
        "Direct Debit of £30.00 collected"
        in db.session.scalars(
            sa.select(ContactEvent.summary).where(ContactEvent.account_id == world["account_id"])
        ).all()
    )


def test_a_collection_in_a_file_not_yet_released_is_not_posted(db):
    world = make_dd_plan()
    collections.sync_account(world["account_id"])
    built = released_file(db, FIRST_ENTRY, status=BacsFileStatus.BUILT)
    submit_due(db, world, FIRST_ENTRY, built)

    assert posting.post_due_collections(FIRST_ENTRY) == 0


def test_posting_pages_through_many_collections_in_batches(db):
    worlds = [make_dd_plan() for _ in range(3)]
    bacs_file = released_file(db, FIRST_ENTRY)
    for world in worlds:
        collections.sync_account(world["account_id"])
        submit_due(db, world, FIRST_ENTRY, bacs_file)

    assert posting.post_due_collections(FIRST_ENTRY, batch_size=2) == 3
    assert ledger_discrepancies() == []
    assert {balances.invoice_outstanding(w["invoice_id"]) for w in worlds} == {3 * INSTALMENT}


def test_the_daily_jobs_run_the_posting_and_the_sweep_and_are_registered(db, redis_url):
    from rq.cron import CronScheduler

    from shared.jobs import directdebit as jobs
    from shared.jobs.queues import QUEUE_NAMES, redis_connection

    world = make_dd_plan()
    assert jobs.sync_accounts_with_live_mandates()["created"] == 4
    submit_due(db, world, FIRST_ENTRY, released_file(db, FIRST_ENTRY))
    assert jobs.post_due_collections(FIRST_ENTRY.isoformat()) == 1
    assert jobs.sync_account(world["account_id"]) == {"created": 0, "cancelled": 0, "notices": 0}
    assert jobs.DAILY_POSTING.job_id(FIRST_ENTRY) == "dd-post-2026-07-01"
    assert jobs.DAILY_SYNC.job_id(FIRST_ENTRY) == "dd-sync-2026-07-01"

    connection = redis_connection(redis_url)
    scheduler = CronScheduler(connection=connection)
    scheduler.load_config_from_file("shared.jobs.cron_config")
    registered = {j.func: j for j in scheduler.get_jobs()}
    assert registered[jobs.enqueue_todays_posting].cron == "30 4 * * *"
    assert registered[jobs.enqueue_todays_sync].cron == "0 5 * * *"
    assert {
        registered[f].queue_name for f in (jobs.enqueue_todays_posting, jobs.enqueue_todays_sync)
    } <= set(QUEUE_NAMES)
    connection.close()
