"""The plan monitor on a Direct Debit plan: an instalment is paid when its collection is
collected, missed when it is returned (its payment reversed) and the tolerance has
passed, and never missed while its collection is still under way; no card-style
"payment due" reminders."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from shared.models import (
    Collection,
    CollectionStatus,
    Instalment,
    OutboxMessage,
)
from shared.services import ledger, plan_monitor
from shared.services.actors import SYSTEM
from shared.services.directdebit import collections, posting
from tests.frozen_clock import frozen_clock
from tests.integration.test_dd_collections import INSTALMENT, make_dd_plan
from tests.integration.test_dd_posting import released_file, submit_due

pytestmark = frozen_clock
FIRST_ENTRY = date(2026, 7, 1)  # instalment 1 was due 24 June: tolerance ends 1 July


def first_instalment(db, world) -> Instalment:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(Instalment)
        .where(Instalment.arrangement_id == world["plan_id"])
        .order_by(Instalment.sequence)
    ).first()


def templates(db) -> list[str]:
    return db.session.scalars(sa.select(OutboxMessage.template)).all()


def test_an_instalment_with_a_collection_under_way_is_not_missed_past_the_tolerance(db):
    world = make_dd_plan()
    collections.sync_account(world["account_id"])

    plan_monitor.run(date(2026, 7, 2))  # 8 days after 24 June; the collection is scheduled

    first = first_instalment(db, world)
    assert (first.missed_on, first.reminded_at) == (None, None)
    assert "plan_missed_payment" not in templates(db)


def test_a_collected_instalment_is_paid(db):
    world = make_dd_plan()
    collections.sync_account(world["account_id"])
    submit_due(db, world, FIRST_ENTRY, released_file(db, FIRST_ENTRY))
    posting.post_due_collections(FIRST_ENTRY)

    plan_monitor.run(date(2026, 7, 2))

    first = first_instalment(db, world)
    assert (first.paid_pence, first.paid_on, first.missed_on) == (
        INSTALMENT,
        date(2026, 7, 2),
        None,
    )


def test_a_returned_collection_leaves_the_instalment_missed_after_the_tolerance(db):
    world = make_dd_plan()
    collections.sync_account(world["account_id"])
    [submitted] = submit_due(db, world, FIRST_ENTRY, released_file(db, FIRST_ENTRY))
    collection_id = submitted.id
    posting.post_due_collections(FIRST_ENTRY)
    # What the returns work does with an ARUDD return: reverse the payment, mark it returned.
    collection = db.session.get(Collection, collection_id)
    reversal = ledger.reverse(
        entry_id=collection.payment_entry_id, reason="Direct Debit returned", actor=SYSTEM
    )
    collection = db.session.get(Collection, collection_id)
    collection.status = CollectionStatus.RETURNED
    collection.reversal_entry_id = reversal.id
    collection.return_reason = "0"
    db.session.commit()

    plan_monitor.run(date(2026, 7, 6))

    first = first_instalment(db, world)
    assert (first.paid_pence, first.missed_on) == (0, date(2026, 7, 6))
    assert "plan_missed_payment" in templates(db)
    # And the sync does not collect it again on its own: a re-presentation is the
    # returns work's decision.
    assert collections.sync_account(world["account_id"]).created == 0


def test_a_direct_debit_plan_gets_no_payment_due_reminders(db):
    world = make_dd_plan()
    collections.sync_account(world["account_id"])

    plan_monitor.run(date(2026, 6, 22))  # two days before the first instalment is due
    plan_monitor.run(date(2026, 7, 22))  # two days before the second

    assert "plan_payment_due" not in templates(db)
    assert world["plan_id"]


def test_a_broken_direct_debit_plan_queues_its_account_for_a_sync(db, monkeypatch):
    from shared.jobs import directdebit as jobs

    world = make_dd_plan()
    collections.sync_account(world["account_id"])
    queued: list[set[int]] = []
    monkeypatch.setattr(jobs, "enqueue_sync", lambda ids, **kw: queued.append(set(ids)))
    # Nothing collected: both of the first two instalments go unpaid past the tolerance
    # once their collections are cancelled (the mandate was cancelled meanwhile).
    db.session.execute(
        sa.update(Collection)
        .where(Collection.mandate_id == world["mandate_id"])
        .values(status=CollectionStatus.CANCELLED, cancelled_reason="test")
    )
    db.session.commit()

    plan_monitor.run(date(2026, 7, 24) + timedelta(days=8))

    assert {world["account_id"]} in queued
