"""Direct Debit collections for one account (shared/services/directdebit/collections.py):
scheduled from an active Direct Debit plan with an advance notice, idempotent, and
cancelled when the plan is paid another way, broken, or the mandate ends."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from shared.models import (
    AdvanceNotice,
    Arrangement,
    ArrangementStatus,
    AuditLog,
    Channel,
    Collection,
    CollectionStatus,
    ContactEvent,
    Frequency,
    Instalment,
    Mandate,
    MandateSource,
    MandateStatus,
    ModulusOutcome,
    OutboxChannel,
    OutboxMessage,
    PaymentMethod,
    PaymentRoute,
)
from shared.services import ledger, plans
from shared.services.actors import SYSTEM
from shared.services.directdebit import collections
from shared.services.directdebit.bank_details import BankDetails, seal
from tests.factories import make_account, make_department
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock
START = TODAY + timedelta(days=7)  # Wed 24 June 2026
INSTALMENT = 3_000
# 10 working days after Wed 17 June 2026 (no bank holiday between): Wed 1 July.
EMAIL_EARLIEST = date(2026, 7, 1)
LETTER_EARLIEST = date(2026, 7, 3)  # two posting days first: Fri 19 June + 10


def make_mandate(account_id: int, *, status=MandateStatus.ACTIVE, collects_invoices=False):
    from shared.extensions import db

    mandate = Mandate(
        account_id=account_id,
        reference=f"A{account_id:08d}-01",
        account_holder_name="A SMITH",
        bank_details_encrypted=seal(BankDetails("089999", "66374958")),
        account_ending="58",
        modulus_outcome=ModulusOutcome.VALID,
        source=MandateSource.PORTAL,
        status=status,
        collects_invoices=collects_invoices,
    )
    db.session.add(mandate)
    db.session.commit()
    return mandate


def make_dd_plan(*, email: str | None = "debtor@example.com", mandate_status=MandateStatus.ACTIVE):
    """An active Direct Debit plan of 4 x £30.00 monthly from START, with a mandate."""
    account = make_account(email=email, preferred_channel=Channel.EMAIL if email else Channel.POST)
    department = make_department(name="Trade waste")
    invoice = ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number=f"INV-DD{account.id}",
        issue_date=TODAY - timedelta(days=60),
        due_date=TODAY - timedelta(days=30),
        description="Trade waste collections",
        lines=[ledger.LineInput("Collections", 1, 4 * INSTALMENT)],
        actor=SYSTEM,
    )
    mandate = make_mandate(account.id, status=mandate_status)
    plan = plans.propose(
        account_id=account.id,
        invoice_ids=[invoice.id],
        terms=plans.Terms(Frequency.MONTHLY, START, count=4),
        payment_route=PaymentRoute.DIRECT_DEBIT,
        actor=SYSTEM,
    )
    assert plan.status == ArrangementStatus.ACTIVE
    return {
        "account_id": account.id,
        "invoice_id": invoice.id,
        "plan_id": plan.id,
        "mandate_id": mandate.id,
    }


def rows(db, world):
    return db.session.scalars(
        sa.select(Collection)
        .where(Collection.mandate_id == world["mandate_id"])
        .order_by(Collection.id)
    ).all()


def live(db, world):
    return [c for c in rows(db, world) if c.status == CollectionStatus.SCHEDULED]


@pytest.fixture
def world(db):
    return make_dd_plan()


def test_an_active_direct_debit_plan_gets_its_whole_schedule_and_one_emailed_notice(db, world):
    result = collections.sync_account(world["account_id"])

    assert (result.created, result.cancelled, result.notices) == (4, 0, 1)
    made = rows(db, world)
    assert [(c.collection_date, c.amount_pence, c.transaction_code) for c in made] == [
        (EMAIL_EARLIEST, INSTALMENT, "01"),  # due 24 June, but 10 working days' notice
        (date(2026, 7, 24), INSTALMENT, "17"),
        (date(2026, 8, 24), INSTALMENT, "17"),
        (date(2026, 9, 24), INSTALMENT, "17"),
    ]
    notice = db.session.scalars(sa.select(AdvanceNotice)).one()
    assert {c.advance_notice_id for c in made} == {notice.id}
    assert (notice.kind, notice.counts_from, notice.earliest_entry_day) == (
        "first",
        TODAY,
        EMAIL_EARLIEST,
    )
    message = db.session.get(OutboxMessage, notice.message_id)
    assert message.channel == OutboxChannel.EMAIL
    assert f"A{world['account_id']:08d}-01" in message.body
    assert "BORSETSHIRE CC" in message.body
    assert "1 July 2026: £30.00" in message.body and "24 September 2026: £30.00" in message.body
    assert "66374958" not in message.body and "089999" not in message.body
    summaries = db.session.scalars(
        sa.select(ContactEvent.summary).where(ContactEvent.summary.like("Direct Debit:%"))
    ).all()
    assert summaries == [
        "Direct Debit: 4 collections of £120.00 scheduled from 1 July 2026, "
        "advance notice sent by email"
    ]
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(AuditLog.action == "dd.collections.synced")
        )
        == 1
    )


def test_syncing_twice_changes_nothing_the_second_time(db, world):
    collections.sync_account(world["account_id"])
    again = collections.sync_account(world["account_id"])

    assert (again.created, again.cancelled, again.notices) == (0, 0, 0)
    assert len(rows(db, world)) == 4
    assert db.session.scalar(sa.select(sa.func.count(AdvanceNotice.id))) == 1
    assert (
        db.session.scalar(
            sa.select(sa.func.count(OutboxMessage.id)).where(
                OutboxMessage.template == "dd_advance_notice"
            )
        )
        == 1
    )


def test_a_letter_notice_counts_from_two_posting_days_later(db):
    world = make_dd_plan(email=None)
    collections.sync_account(world["account_id"])

    notice = db.session.scalars(sa.select(AdvanceNotice)).one()
    assert notice.counts_from == date(2026, 6, 19)
    assert notice.earliest_entry_day == LETTER_EARLIEST
    assert rows(db, world)[0].collection_date == LETTER_EARLIEST
    assert db.session.get(OutboxMessage, notice.message_id).channel == OutboxChannel.LETTER


def test_an_instalment_paid_by_card_meanwhile_has_its_collection_cancelled(db, world):
    collections.sync_account(world["account_id"])
    ledger.record_payment(
        account_id=world["account_id"],
        amount_pence=INSTALMENT,
        method=PaymentMethod.CARD,
        actor=SYSTEM,
    )
    result = collections.sync_account(world["account_id"])

    assert (result.created, result.cancelled, result.notices) == (0, 1, 0)
    first, second, *_ = rows(db, world)
    assert (first.status, first.cancelled_reason) == (
        CollectionStatus.CANCELLED,
        "paid by other means",
    )
    assert (second.status, second.transaction_code) == (CollectionStatus.SCHEDULED, "01")


def test_a_broken_plan_has_its_scheduled_collections_cancelled(db, world):
    collections.sync_account(world["account_id"])
    plan = db.session.get(Arrangement, world["plan_id"])
    plan.status = ArrangementStatus.BROKEN
    db.session.commit()

    result = collections.sync_account(world["account_id"])

    assert result.cancelled == 4
    assert live(db, world) == []
    assert {c.cancelled_reason for c in rows(db, world)} == {
        f"payment plan {world['plan_id']} is broken"
    }


def test_a_cancelled_mandate_has_its_scheduled_collections_cancelled(db, world):
    collections.sync_account(world["account_id"])
    mandate = db.session.get(Mandate, world["mandate_id"])
    mandate.status = MandateStatus.CANCELLED
    db.session.commit()

    assert collections.sync_account(world["account_id"]).cancelled == 4
    assert live(db, world) == []
    # And the sweep still finds nothing to do once they are all cancelled.
    assert world["account_id"] not in collections.accounts_to_sync()


def test_stopped_collections_cancel_and_resume_under_a_new_notice(db, world):
    collections.sync_account(world["account_id"])
    mandate = db.session.get(Mandate, world["mandate_id"])
    mandate.collections_stopped_reason = "advance notice disputed (ADDACS D)"
    db.session.commit()
    assert collections.sync_account(world["account_id"]).cancelled == 4

    mandate = db.session.get(Mandate, world["mandate_id"])
    mandate.collections_stopped_reason = None
    db.session.commit()
    result = collections.sync_account(world["account_id"])
    # The same dates and amounts as already told: the earlier notice still covers them.
    assert (result.created, result.notices) == (4, 0)


def test_a_collection_that_missed_its_file_is_rescheduled_with_a_new_notice(db, world):
    collections.sync_account(world["account_id"])
    # 1 July's processing day is 30 June; on 2 July it is still only scheduled.
    result = collections.sync_account(world["account_id"], today=date(2026, 7, 2))

    assert (result.created, result.cancelled, result.notices) == (1, 1, 1)
    remade = live(db, world)
    assert min(c.collection_date for c in remade) == date(2026, 7, 16)
    assert db.session.scalar(sa.select(sa.func.count(AdvanceNotice.id))) == 2


def test_a_deceased_debtor_has_every_scheduled_collection_cancelled(db, world):
    collections.sync_account(world["account_id"])
    from shared.models import DebtorAccount

    db.session.get(DebtorAccount, world["account_id"]).deceased = True
    db.session.commit()

    assert collections.sync_account(world["account_id"]).cancelled == 4
    assert {c.cancelled_reason for c in rows(db, world)} == {"the payer has died"}


def test_a_mandate_that_collects_invoices_collects_open_invoices_due_after_it(db):
    account = make_account(email="debtor@example.com", preferred_channel=Channel.EMAIL)
    department = make_department()
    make_mandate(account.id, collects_invoices=True)
    before = ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number="INV-OLD",
        issue_date=TODAY - timedelta(days=40),
        due_date=TODAY - timedelta(days=10),
        description="Older",
        lines=[ledger.LineInput("Rent", 1, 9_000)],
        actor=SYSTEM,
    )
    after = ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number="INV-NEW",
        issue_date=TODAY,
        due_date=TODAY + timedelta(days=30),
        description="Newer",
        lines=[ledger.LineInput("Rent", 1, 4_500)],
        actor=SYSTEM,
    )
    assert collections.sync_account(account.id).created == 1
    made = db.session.scalars(sa.select(Collection)).one()
    assert (made.invoice_id, made.amount_pence, made.collection_date) == (
        after.id,
        4_500,
        date(2026, 7, 17),
    )
    assert before.id != made.invoice_id


def test_the_daily_sweep_goes_on_past_an_account_that_fails(db, world, monkeypatch):
    other = make_dd_plan()
    real = collections._apply

    def failing(account, *args, **kwargs):
        if account.id == world["account_id"]:
            raise RuntimeError("boom")
        return real(account, *args, **kwargs)

    monkeypatch.setattr(collections, "_apply", failing)
    counts = collections.sync_accounts_with_live_mandates()

    assert (counts.accounts, counts.failed, counts.created, counts.notices) == (2, 1, 4, 1)
    assert rows(db, world) == []
    assert len(rows(db, other)) == 4


def test_instalments_are_read_from_the_ledger_not_the_monitors_last_reading(db, world):
    # The monitor has not run: paid_pence is still 0 on every instalment.
    collections.sync_account(world["account_id"])
    ledger.record_payment(
        account_id=world["account_id"],
        amount_pence=2 * INSTALMENT,
        method=PaymentMethod.CARD,
        actor=SYSTEM,
    )
    assert set(
        db.session.scalars(
            sa.select(Instalment.paid_pence).where(Instalment.arrangement_id == world["plan_id"])
        )
    ) == {0}
    assert collections.sync_account(world["account_id"]).cancelled == 2


def test_activating_a_direct_debit_plan_queues_its_account_for_a_sync_after_commit(db, monkeypatch):
    from shared.jobs import directdebit as jobs

    queued: list[set[int]] = []
    monkeypatch.setattr(jobs, "enqueue_sync", lambda ids, **kw: queued.append(set(ids)))
    world = make_dd_plan()
    assert queued == [{world["account_id"]}]
