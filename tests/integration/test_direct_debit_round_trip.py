"""Direct Debit end to end, through the real services and across the days Bacs works:
a payer signs up online for their plan, is told when they will pay, the 0N and then
the first debit go to Bacs in Standard 18 files (read back by an independent reader),
the money posts on the entry day, a "refer to payer" return reverses it and presents
it once more, and the payer's bank cancelling the instruction stops the next
collection. An indemnity claim reverses a collection and sends a 0C.

The clock moves with time-machine, so each service sees the day it would in life.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from shared import clock
from shared.domain.bacs import calendar
from shared.models import (
    ArrangementStatus,
    BacsReportItem,
    Channel,
    Collection,
    CollectionStatus,
    DebtorAccount,
    Frequency,
    Instalment,
    Mandate,
    MandateSource,
    MandateStatus,
    OutboxMessage,
    PaymentRoute,
)
from shared.reports.reconciliation import ledger_discrepancies
from shared.services import actors, ledger, plans
from shared.services.balances import account_balance
from shared.services.case_view import case_summary, plans_section
from shared.services.directdebit import collections, files, mandates, posting, returns
from shared.services.errors import Conflict, InvalidRequest
from tests import bacs_report_samples as samples
from tests.bacs_standard18_reader import read
from tests.factories import make_account, make_department, make_portal_login, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock

INSTALMENT = 3_000
FIRST_ENTRY_DAY = date(2026, 7, 1)  # ten working days after Wed 17 June, the sign-up


def move_to(time_machine, day: date) -> None:
    time_machine.move_to(datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC))


@pytest.fixture
def world(app, db, monkeypatch):
    """An emailable debtor with a Direct Debit plan of 4 x £30.00 monthly from 24 June,
    signed up online today; the after-commit jobs are run by the test instead."""
    monkeypatch.setattr(mandates, "enqueue_sync", lambda *args: True)
    account = make_account(email="payer@example.com", preferred_channel=Channel.EMAIL)
    portal = actors.portal_user(make_portal_login(account).id, "192.0.2.1")
    officer = actors.staff(make_staff().id, "192.0.2.2")
    invoice = ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department(name="Care charges").id,
        number="INV-RT0001",
        issue_date=TODAY - timedelta(days=60),
        due_date=TODAY - timedelta(days=30),
        description="Residential care contribution",
        lines=[ledger.LineInput("Care", 1, 4 * INSTALMENT)],
        actor=actors.SYSTEM,
    )
    plan = plans.propose(
        account_id=account.id,
        invoice_ids=[invoice.id],
        terms=plans.Terms(Frequency.MONTHLY, TODAY + timedelta(days=7), count=4),
        payment_route=PaymentRoute.DIRECT_DEBIT,
        actor=actors.SYSTEM,
    )
    assert plan.status == ArrangementStatus.ACTIVE
    mandate = mandates.sign_up(
        portal,
        account.id,
        holder_name="Mrs Jane O'Brien",
        sort_code="08-99-99",
        account_number="66374958",
        sole_signatory=True,
        source=MandateSource.PORTAL,
        for_plan_id=plan.id,
    )
    collections.sync_account(account.id)
    return {
        "account_id": account.id,
        "plan_id": plan.id,
        "mandate_id": mandate.id,
        "reference": mandate.reference,
        "officer": officer,
    }


def the_collections(db, world) -> list[Collection]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(Collection)
        .where(Collection.mandate_id == world["mandate_id"])
        .order_by(Collection.collection_date, Collection.id)
    ).all()


def messages(db, world, template: str) -> list[OutboxMessage]:
    return db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.account_id == world["account_id"], OutboxMessage.template == template
        )
    ).all()


def build_and_release(world, processing_day: date):
    built = files.build_file(world["officer"], processing_day)
    files.release_file(world["officer"], built.file_id)
    return built, read(files.stored_content(built.file_id).decode("ascii"))


def lodge_mandate(time_machine, db, world) -> None:
    """The next processing day's file carries the 0N; released, the mandate is active."""
    built, bacs = build_and_release(world, date(2026, 6, 18))
    assert [(r.code, r.reference, r.amount_pence) for r in bacs.records] == [
        ("0N", world["reference"], 0)
    ]
    assert bacs.records[0].sort_code == "089999" and bacs.records[0].account_number == "66374958"
    assert bacs.contras == [] and built.debit_count == 0
    mandate = db.session.get(Mandate, world["mandate_id"])
    assert (mandate.status, mandate.lodged_on) == (MandateStatus.ACTIVE, date(2026, 6, 18))


def collect_first(time_machine, db, world):
    """The file processed the working day before 1 July takes the first debit (01)."""
    cycle = calendar.cycle_for_entry_day(FIRST_ENTRY_DAY)
    move_to(time_machine, cycle.input_day)
    built, bacs = build_and_release(world, cycle.processing_day)
    [debit] = bacs.by_code("01")
    assert (debit.reference, debit.amount_pence) == (world["reference"], INSTALMENT)
    assert bacs.processing_day == cycle.processing_day == date(2026, 6, 30)
    assert [c.amount_pence for c in bacs.contras] == [INSTALMENT]
    assert bacs.debit_total == bacs.credit_total == INSTALMENT == built.debit_total_pence
    move_to(time_machine, FIRST_ENTRY_DAY)
    assert posting.post_due_collections() == 1
    assert posting.post_due_collections() == 0  # the job again: nothing twice
    return cycle


def test_sign_up_notice_file_collection_refer_to_payer_re_presentation_and_cancellation(
    time_machine, db, world
):
    # Signed up today: the payer was told in writing, and in advance, when they will pay.
    assert len(messages(db, world, "dd_mandate_confirmation")) == 1
    [notice] = messages(db, world, "dd_advance_notice")
    assert "1 July 2026" in notice.body and "£30.00" in notice.body
    scheduled = the_collections(db, world)
    assert [(c.collection_date, c.transaction_code) for c in scheduled][:2] == [
        (FIRST_ENTRY_DAY, "01"),
        (date(2026, 7, 24), "17"),
    ]

    lodge_mandate(time_machine, db, world)
    cycle = collect_first(time_machine, db, world)
    assert account_balance(world["account_id"]) == 3 * INSTALMENT
    first = the_collections(db, world)[0]
    assert first.status == CollectionStatus.COLLECTED and first.payment_entry_id

    # ARUDD: "refer to payer". The payment is reversed, the payer told, and it is
    # presented again (once) on a day the notice allows.
    move_to(time_machine, date(2026, 7, 2))
    report = samples.arudd(
        [samples.Return(world["reference"], "30.00", "0", cycle.processing_day)],
        processing_day=date(2026, 7, 2),
    )
    returns.import_report(world["officer"], "ARUDD-1.xml", report)
    assert account_balance(world["account_id"]) == 4 * INSTALMENT
    first, represented = the_collections(db, world)[:2]
    assert first.status == CollectionStatus.RETURNED and first.reversal_entry_id
    assert represented.transaction_code == "18"
    assert represented.represents_collection_id == first.id
    assert represented.status == CollectionStatus.SCHEDULED
    assert FIRST_ENTRY_DAY < represented.collection_date <= date(2026, 8, 1)
    assert len(messages(db, world, "dd_payment_represented")) == 1

    # The same report again changes nothing.
    with pytest.raises(Conflict, match="already imported"):
        returns.import_report(world["officer"], "ARUDD-1-again.xml", report)
    assert len(the_collections(db, world)) == 5

    # The re-presentation goes in its own day's file and is collected.
    again = calendar.cycle_for_entry_day(represented.collection_date)
    move_to(time_machine, again.input_day)
    _, bacs = build_and_release(world, again.processing_day)
    assert [(r.code, r.amount_pence) for r in bacs.by_code("18")] == [("18", INSTALMENT)]
    move_to(time_machine, represented.collection_date)
    assert posting.post_due_collections() == 1
    assert account_balance(world["account_id"]) == 3 * INSTALMENT

    # ADDACS 1: the payer cancelled at their bank. The instruction ends here without a
    # 0C (the bank has it already) and July's collection is never presented.
    addacs = samples.messaging(
        "addacs", [samples.Advice(world["reference"], "1")], generated=clock.today()
    )
    returns.import_report(world["officer"], "ADDACS-1.xml", addacs)
    mandate = db.session.get(Mandate, world["mandate_id"])
    assert mandate.status == MandateStatus.CANCELLED
    assert mandate.needs_cancel_instruction is False
    later = [c for c in the_collections(db, world) if c.collection_date >= date(2026, 7, 24)]
    assert later and all(c.status == CollectionStatus.CANCELLED for c in later)
    july = calendar.cycle_for_entry_day(date(2026, 7, 24))
    move_to(time_machine, july.input_day)
    with pytest.raises(InvalidRequest):  # nothing to submit that day
        files.build_file(world["officer"], july.processing_day)
    assert ledger_discrepancies([world["account_id"]]) == []


def test_an_indemnity_claim_reverses_the_collection_cancels_with_a_0c_and_waits_for_an_officer(
    time_machine, db, world
):
    lodge_mandate(time_machine, db, world)
    collect_first(time_machine, db, world)
    move_to(time_machine, date(2026, 7, 10))
    claim = samples.ddic(
        [samples.Claim(world["reference"], "30.00", ((FIRST_ENTRY_DAY, "30.00"),))],
        produced=date(2026, 7, 10),
    )
    returns.import_report(world["officer"], "DDIC-1.xml", claim)

    assert account_balance(world["account_id"]) == 4 * INSTALMENT
    first = the_collections(db, world)[0]
    assert first.status == CollectionStatus.RETURNED and first.return_reason == "DDIC"
    mandate = db.session.get(Mandate, world["mandate_id"])
    assert mandate.status == MandateStatus.CANCELLED and mandate.needs_cancel_instruction
    [item] = db.session.scalars(sa.select(BacsReportItem)).all()
    assert item.needs_officer and item.resolved_at is None

    # The next file tells Bacs the instruction is cancelled.
    move_to(time_machine, date(2026, 7, 13))
    _, bacs = build_and_release(world, date(2026, 7, 14))
    assert [(r.code, r.reference) for r in bacs.records] == [("0C", world["reference"])]
    assert ledger_discrepancies([world["account_id"]]) == []
    # The plan's instalment is unpaid again: the monitor will see it missed.
    instalment = db.session.scalars(
        sa.select(Instalment).where(Instalment.arrangement_id == world["plan_id"])
    ).first()
    assert instalment.sequence == 1


def test_the_case_page_shows_each_collection_and_what_bacs_reported(time_machine, db, world):
    lodge_mandate(time_machine, db, world)
    cycle = collect_first(time_machine, db, world)
    move_to(time_machine, date(2026, 7, 2))
    returns.import_report(
        world["officer"],
        "ARUDD-1.xml",
        samples.arudd(
            [samples.Return(world["reference"], "30.00", "0", cycle.processing_day)],
            processing_day=date(2026, 7, 2),
        ),
    )
    reference = db.session.get(DebtorAccount, world["account_id"]).reference
    page = plans_section(case_summary(reference, clock.today()).account.id)
    shown = [(c.collection_date, c.amount_pence, c.transaction_code) for c in page.collections]
    assert shown[-1] == (FIRST_ENTRY_DAY, INSTALMENT, "01")  # newest first: the first is last
    assert any(c.transaction_code == "18" for c in page.collections)
    returned = next(c for c in page.collections if c.collection_date == FIRST_ENTRY_DAY)
    assert returned.status == "Returned" and returned.return_description
    [item] = page.bacs_items
    assert item.reason_words.startswith("Refer to payer")
