"""The demo's Direct Debit book (shared/demo/direct_debit.py): made by the real services
over the last few weeks, so `make run` shows mandates, a file to build and returns to work."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from shared import clock
from shared.demo import demo_bills, demo_direct_debits, seed_demo
from shared.demo.direct_debit import BANK_ACCOUNTS, UNCHECKED_ACCOUNT
from shared.domain.bacs import selection
from shared.models import (
    AdvanceNotice,
    Arrangement,
    ArrangementStatus,
    AuditLog,
    BacsFile,
    BacsFileStatus,
    BacsReport,
    BacsReportItem,
    Collection,
    CollectionStatus,
    ContactEvent,
    DebtorAccount,
    LedgerEntry,
    Mandate,
    MandateSource,
    MandateStatus,
    ModulusOutcome,
    OutboxMessage,
    PaymentRoute,
    PortalUser,
    PortalUserAccount,
    StaffUser,
)
from shared.models.directdebit import LIVE_MANDATE_STATUSES
from shared.reports.reconciliation import ledger_discrepancies
from shared.services.actors import staff
from shared.services.directdebit import files
from tests.frozen_clock import TODAY, frozen_clock
from tests.integration.test_demo_seed import fresh_database

pytestmark = frozen_clock

DEBTORS = 300  # what `make run` seeds


@pytest.fixture
def seeded(app, db):
    return seed_demo(DEBTORS, seed=1, today=TODAY)


def _next_cycle():
    return selection.cycle_for(files.next_processing_day(TODAY))


def test_every_active_direct_debit_plan_has_a_live_mandate_and_one_to_set_up_is_a_proposal(
    seeded, db
):
    # Before, one active plan "paid by Direct Debit" was left without a mandate for the
    # online sign-up: a plan paid by Direct Debit now always has one (issue 16), and the
    # Direct Debit to set up online is for a proposed plan that asks to pay by one.
    plans = db.session.scalars(
        sa.select(Arrangement).where(
            Arrangement.status == ArrangementStatus.ACTIVE,
            Arrangement.payment_route == PaymentRoute.DIRECT_DEBIT,
        )
    ).all()
    live = set(
        db.session.scalars(
            sa.select(Mandate.account_id).where(Mandate.status.in_(LIVE_MANDATE_STATUSES))
        )
    )
    assert len(plans) >= 2
    assert {p.account_id for p in plans if p.account_id not in live} == set()
    named = demo_direct_debits()
    waiting = db.session.scalar(
        sa.select(DebtorAccount.id).where(DebtorAccount.reference == named.sign_up_reference)
    )
    proposal = db.session.scalars(
        sa.select(Arrangement).where(Arrangement.account_id == waiting)
    ).one()
    assert proposal.status in (ArrangementStatus.PROPOSED, ArrangementStatus.COUNTER_OFFERED)
    assert proposal.payment_route == PaymentRoute.DIRECT_DEBIT and waiting not in live
    # The payer can sign in to set it up.
    assert named.sign_up_email
    assert db.session.scalar(
        sa.select(PortalUserAccount.id).where(PortalUserAccount.account_id == waiting)
    )


def test_mandates_rest_in_every_state_from_every_source_and_building_the_next_file_submits(
    seeded, db
):
    states = set(db.session.scalars(sa.select(Mandate.status).distinct()))
    assert states == {
        MandateStatus.PENDING_SUBMISSION,
        MandateStatus.ACTIVE,
        MandateStatus.CANCELLED,
        MandateStatus.FAILED,
    }
    assert set(db.session.scalars(sa.select(Mandate.source).distinct())) == set(MandateSource)
    outcomes = set(db.session.scalars(sa.select(Mandate.modulus_outcome).distinct()))
    assert outcomes == {ModulusOutcome.VALID, ModulusOutcome.COULD_NOT_CHECK}
    # A 0C went to Bacs for a cancellation after lodging, and one mandate replaced another.
    assert db.session.scalar(
        sa.select(sa.func.count()).where(Mandate.cancel_in_file_id.is_not(None))
    )
    assert db.session.scalar(
        sa.select(sa.func.count()).where(Mandate.replaces_mandate_id.is_not(None))
    )

    # "Submitted" lasts from a file's build to its release: the officer's build shows it.
    pending = set(
        db.session.scalars(
            sa.select(Mandate.id).where(Mandate.status == MandateStatus.PENDING_SUBMISSION)
        )
    )
    officer = db.session.scalar(sa.select(StaffUser.id).order_by(StaffUser.id).limit(1))
    built = files.build_file(staff(officer), files.next_processing_day(TODAY))
    assert built.debit_count >= 1
    submitted = set(
        db.session.scalars(sa.select(Mandate.id).where(Mandate.status == MandateStatus.SUBMITTED))
    )
    assert submitted == pending


def test_the_next_processing_day_has_scheduled_collections_that_its_file_will_take(seeded, db):
    cycle = _next_cycle()
    rows = db.session.execute(
        sa.select(Collection, Mandate, AdvanceNotice.earliest_entry_day)
        .join(Mandate, Mandate.id == Collection.mandate_id)
        .outerjoin(AdvanceNotice, AdvanceNotice.id == Collection.advance_notice_id)
        .where(
            Collection.status == CollectionStatus.SCHEDULED,
            Collection.collection_date == cycle.entry_day,
        )
    ).all()
    assert rows
    for collection, mandate, earliest in rows:
        due = selection.DueCollection(
            collection.id,
            mandate.account_id,
            "",
            mandate.reference,
            mandate.status.value,
            mandate.lodged_on,
            mandate.collections_stopped_reason,
            earliest,
            collection.amount_pence,
            collection.transaction_code,
            collection.collection_date,
        )
        assert selection.decide(due, cycle) is None
    assert files.file_in_play(cycle.processing_day) is None  # the file is the officer's to build


def test_a_released_file_of_the_recent_past_collected_payments_and_returns_wait_for_an_officer(
    seeded, db
):
    released = db.session.scalars(
        sa.select(BacsFile).where(BacsFile.status == BacsFileStatus.RELEASED)
    ).all()
    assert any(f.debit_count for f in released)
    assert all(f.processing_day <= _next_cycle().processing_day for f in released)
    collected = db.session.scalar(
        sa.select(sa.func.count()).where(LedgerEntry.external_reference.like("DD-COLLECTION-%"))
    )
    assert collected >= 3
    assert {r.kind.value for r in db.session.scalars(sa.select(BacsReport))} == {
        "auddis",
        "addacs",
        "arudd",
    }
    waiting = db.session.scalars(
        sa.select(BacsReportItem).where(
            BacsReportItem.needs_officer, BacsReportItem.resolved_at.is_(None)
        )
    ).all()
    assert waiting
    assert demo_direct_debits().returns_reference is not None
    assert db.session.scalar(
        sa.select(sa.func.count()).where(Collection.status == CollectionStatus.RETURNED)
    )
    # A "refer to payer" return is collected again (code 18).
    assert db.session.scalar(sa.select(sa.func.count()).where(Collection.transaction_code == "18"))
    assert ledger_discrepancies() == []


def test_nothing_but_collections_is_timed_in_the_future(seeded, db):
    now = clock.utcnow()
    stamps = {
        "mandates": sa.select(sa.func.max(Mandate.updated_at)),
        "collections": sa.select(sa.func.max(Collection.updated_at)),
        "files": sa.select(sa.func.max(BacsFile.released_at)),
        "reports": sa.select(sa.func.max(BacsReport.imported_at)),
        "timeline": sa.select(sa.func.max(ContactEvent.created_at)),
        "audit": sa.select(sa.func.max(AuditLog.occurred_at)),
        "outbox": sa.select(sa.func.max(OutboxMessage.created_at)),
    }
    for what, query in stamps.items():
        value = db.session.scalar(query)
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert value <= now, what
    later = db.session.scalars(
        sa.select(Collection.status).where(Collection.collection_date > TODAY).distinct()
    )
    assert set(later) <= {
        CollectionStatus.SCHEDULED,
        CollectionStatus.SUBMITTED,
        CollectionStatus.CANCELLED,
    }
    # Every file was built and sent on a day gone by: today's is the officer's to build.
    assert db.session.scalar(sa.select(sa.func.max(BacsFile.input_day))) < TODAY


def test_no_full_account_number_is_stored_in_plain_text(seeded, db):
    numbers = {number for _, number in (*BANK_ACCOUNTS, UNCHECKED_ACCOUNT)}
    texts = []
    for model in (Mandate, BacsReportItem):
        for row in db.session.execute(sa.select(model.__table__)):
            texts.append(" ".join(str(v) for v in row))
    texts += [str(r) for r in db.session.execute(sa.select(AuditLog.before, AuditLog.after))]
    texts += [
        str(r) for r in db.session.execute(sa.select(ContactEvent.summary, ContactEvent.detail))
    ]
    texts += [
        str(r) for r in db.session.execute(sa.select(OutboxMessage.subject, OutboxMessage.body))
    ]
    texts += list(db.session.scalars(sa.select(BacsReport.content)))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Mandate)) >= 10
    leaked = {n for n in numbers for text in texts if n in text}
    assert leaked == set()


def test_the_same_seed_gives_the_same_direct_debit_book(app, db, database_template, tmp_path):
    def book():
        return [
            (m.reference, m.status.value, m.source.value, m.account_ending)
            for m in db.session.scalars(sa.select(Mandate).order_by(Mandate.id))
        ] + [
            (c.collection_date, c.amount_pence, c.status.value)
            for c in db.session.scalars(sa.select(Collection).order_by(Collection.id))
        ]

    seed_demo(120, seed=7, today=TODAY)
    first = book()
    with fresh_database(database_template, tmp_path):
        seed_demo(120, seed=7, today=TODAY)
        assert book() == first
    assert len(first) > 10


def test_demo_logins_name_accounts_that_show_each_direct_debit_journey(seeded, db):
    named = demo_direct_debits()
    assert None not in (
        named.sign_up_reference,
        named.sign_up_email,
        named.active_reference,
        named.active_email,
        named.returns_reference,
    )
    active = db.session.scalar(
        sa.select(Mandate.status)
        .join(DebtorAccount, DebtorAccount.id == Mandate.account_id)
        .where(
            DebtorAccount.reference == named.active_reference,
            Mandate.status == MandateStatus.ACTIVE,
        )
    )
    assert active == MandateStatus.ACTIVE
    # The bill `demo logins` suggests making a login for keeps its email free to use.
    suggested = {b.account_reference for b in demo_bills() if b.email_on_file}
    assert suggested.isdisjoint({named.sign_up_reference, named.active_reference})
    logins = set(db.session.scalars(sa.select(PortalUser.email)))
    assert {named.sign_up_email, named.active_email} <= logins
    assert not logins & set(
        db.session.scalars(
            sa.select(DebtorAccount.email).where(DebtorAccount.reference.in_(suggested))
        )
    )
