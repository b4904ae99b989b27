"""Importing reports from Bacs: each reason's effect on the ledger, the mandate, its
collections and the payer; re-presentation once only; a report imported twice;
unknown references queued; the ledger reconciles after reversals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from shared.domain.bacs import calendar
from shared.models import (
    AdvanceNotice,
    AuditLog,
    BacsFile,
    BacsFileStatus,
    BacsReport,
    BacsReportItem,
    Channel,
    Collection,
    CollectionStatus,
    ContactEvent,
    EntryKind,
    LedgerEntry,
    Mandate,
    MandateSource,
    MandateStatus,
    ModulusOutcome,
    OutboxMessage,
    OutboxStatus,
    PaymentMethod,
    StaffRole,
)
from shared.reports.reconciliation import ledger_discrepancies
from shared.services import balances, ledger
from shared.services.actors import SYSTEM, staff
from shared.services.directdebit import bank_details, returns
from shared.services.directdebit.bank_details import BankDetails
from tests.bacs_report_samples import Advice, Claim, Return, arudd, ddic, messaging
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock

PROCESSING_DAY = date(2026, 6, 12)  # a Friday: entry day Monday 15 June
ENTRY_DAY = date(2026, 6, 15)
_files = iter(range(1, 999999))


@dataclass
class World:
    officer_id: int
    account_id: int
    mandate: Mandate
    invoice_id: int
    collection: Collection

    @property
    def actor(self):
        return staff(self.officer_id)


def bacs_file(db, processing_day: date = PROCESSING_DAY) -> BacsFile:
    existing = db.session.scalar(
        sa.select(BacsFile).where(BacsFile.processing_day == processing_day)
    )
    if existing is not None:
        return existing
    row = BacsFile(
        serial_number=next(_files),
        processing_day=processing_day,
        input_day=calendar.add_working_days(processing_day, -1),
        entry_day=calendar.add_working_days(processing_day, 1),
        status=BacsFileStatus.RELEASED,
        file_name=f"DD{processing_day:%Y%m%d}.txt",
        content="",
        sha256="0" * 64,
        instruction_count=0,
        debit_count=1,
        debit_total_pence=2500,
        credit_count=1,
        credit_total_pence=2500,
        summary={},
    )
    db.session.add(row)
    db.session.commit()
    return row


def collected(
    db,
    mandate: Mandate,
    invoice_id: int,
    pence: int = 2500,
    *,
    processing_day=PROCESSING_DAY,
    code="17",
    allocate: int | None = None,
):
    """A collection in a released file, its payment posted on the entry day."""
    file = bacs_file(db, processing_day)
    payment = ledger.record_payment(
        account_id=mandate.account_id,
        amount_pence=pence,
        method=PaymentMethod.DIRECT_DEBIT,
        actor=SYSTEM,
        allocations=[(invoice_id, pence if allocate is None else allocate)],
        effective_date=file.entry_day,
    ).entry
    collection = Collection(
        mandate_id=mandate.id,
        invoice_id=invoice_id,
        amount_pence=pence,
        transaction_code=code,
        collection_date=file.entry_day,
        status=CollectionStatus.COLLECTED,
        bacs_file_id=file.id,
        payment_entry_id=payment.id,
    )
    db.session.add(collection)
    db.session.commit()
    return collection


def make_world(
    db,
    *,
    reference: str = "A00000001-01",
    email: str | None = "payer@example.com",
    pence: int = 2500,
) -> World:
    officer = make_staff(role=StaffRole.OFFICER)
    # Prefers email where there is one: the contact rules keep a preference for post
    # even when the debtor agreed to email (shared/domain/contact_rules.py).
    account = make_account(
        email=email,
        consent_email=email is not None,
        preferred_channel=Channel.EMAIL if email else Channel.POST,
    )
    department = make_department()
    invoice = ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number=f"INV-{reference}",
        issue_date=date(2026, 5, 1),
        due_date=date(2026, 5, 31),
        description="Care contribution",
        lines=[ledger.LineInput("Care", 1, pence * 4)],
        actor=staff(officer.id),
    )
    mandate = Mandate(
        account_id=account.id,
        reference=reference,
        account_holder_name="A SMITH",
        bank_details_encrypted=bank_details.seal(BankDetails("089999", "66374958")),
        account_ending="58",
        modulus_outcome=ModulusOutcome.VALID,
        source=MandateSource.PORTAL,
        status=MandateStatus.ACTIVE,
        lodged_in_file_id=bacs_file(db, date(2026, 5, 1)).id,
        lodged_on=date(2026, 5, 1),
    )
    db.session.add(mandate)
    db.session.commit()
    collection = collected(db, mandate, invoice.id, pence)
    return World(officer.id, account.id, mandate, invoice.id, collection)


def scheduled(db, world: World, day: date, pence: int = 2500) -> Collection:
    row = Collection(
        mandate_id=world.mandate.id,
        invoice_id=world.invoice_id,
        amount_pence=pence,
        transaction_code="17",
        collection_date=day,
        status=CollectionStatus.SCHEDULED,
    )
    db.session.add(row)
    db.session.commit()
    return row


def items(db, report_id: int) -> list[BacsReportItem]:
    return list(
        db.session.scalars(
            sa.select(BacsReportItem)
            .where(BacsReportItem.report_id == report_id)
            .order_by(BacsReportItem.id)
        )
    )


def outbox(db, account_id: int) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.account_id == account_id)
            .order_by(OutboxMessage.id)
        )
    )


def timeline(db, account_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(ContactEvent.summary)
            .where(ContactEvent.account_id == account_id)
            .order_by(ContactEvent.id)
        )
    )


def refresh(db, *rows):
    for row in rows:
        db.session.refresh(row)


# --- ARUDD -------------------------------------------------------------------------------


def test_a_refer_to_payer_return_reverses_the_payment_and_is_collected_again_once(db):
    world = make_world(db)
    owed_before = balances.invoice_outstanding(world.invoice_id)

    report = returns.import_report(
        world.actor, "arudd.xml", arudd([Return("A00000001-01", "25.00", "0")])
    )

    refresh(db, world.collection, world.mandate)
    assert world.collection.status == CollectionStatus.RETURNED
    assert world.collection.return_reason == "0"
    assert world.collection.reversal_entry_id is not None
    assert balances.invoice_outstanding(world.invoice_id) == owed_before + 2500
    again = db.session.scalar(
        sa.select(Collection).where(Collection.represents_collection_id == world.collection.id)
    )
    assert again.transaction_code == "18"
    assert again.status == CollectionStatus.SCHEDULED
    assert again.amount_pence == 2500
    notice = db.session.get(AdvanceNotice, again.advance_notice_id)
    # Told today by email: the new date allows the full ten working days' notice, and
    # falls within a month of the original entry day.
    assert again.collection_date == calendar.add_working_days(TODAY, 10) == date(2026, 7, 1)
    assert again.collection_date <= ENTRY_DAY + timedelta(days=30)
    [message] = outbox(db, world.account_id)
    assert notice.message_id == message.id
    assert "1 July 2026" in message.body and "£25.00" in message.body
    assert message.template == "dd_payment_represented"
    [item] = items(db, report.id)
    assert not item.needs_officer
    assert item.collection_id == world.collection.id
    assert "reversed" in item.action and "collected again on 01/07/2026" in item.action
    assert report.applied_count == 1 and report.routed_count == 0
    assert any(
        "returned unpaid (ARUDD): Refer to payer" in s for s in timeline(db, world.account_id)
    )
    assert ledger_discrepancies() == []


def test_a_re_presentation_returned_again_is_not_collected_a_third_time(db):
    world = make_world(db)
    returns.import_report(world.actor, "first.xml", arudd([Return("A00000001-01", "25.00", "0")]))
    again = db.session.scalar(
        sa.select(Collection).where(Collection.represents_collection_id == world.collection.id)
    )
    # The re-presentation goes out and is collected, then comes back too.
    file = bacs_file(db, calendar.add_working_days(again.collection_date, -1))
    payment = ledger.record_payment(
        account_id=world.account_id,
        amount_pence=2500,
        method=PaymentMethod.DIRECT_DEBIT,
        actor=SYSTEM,
        allocations=[(world.invoice_id, 2500)],
    ).entry
    again.status, again.bacs_file_id, again.payment_entry_id = (
        CollectionStatus.COLLECTED,
        file.id,
        payment.id,
    )
    db.session.commit()

    report = returns.import_report(
        world.actor,
        "second.xml",
        arudd([Return("A00000001-01", "25.00", "0", original_processing_day=file.processing_day)]),
    )

    refresh(db, again)
    assert again.status == CollectionStatus.RETURNED
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Collection))
    assert count == 2  # no third collection
    [item] = items(db, report.id)
    assert item.needs_officer
    assert "Already a re-presentation" in item.action
    assert ledger_discrepancies() == []


def test_the_same_file_twice_changes_nothing_and_says_when_it_was_imported(db):
    world = make_world(db)
    content = arudd([Return("A00000001-01", "25.00", "0")])
    first = returns.import_report(world.actor, "arudd.xml", content)
    counts = [
        db.session.scalar(sa.select(sa.func.count()).select_from(t))
        for t in (LedgerEntry, Collection, OutboxMessage, BacsReportItem)
    ]

    with pytest.raises(returns.AlreadyImported) as refused:
        returns.import_report(world.actor, "copy.xml", content)

    assert refused.value.report_id == first.id
    assert "already imported on" in str(refused.value)
    assert "by Staff Member" in str(refused.value)
    assert counts == [
        db.session.scalar(sa.select(sa.func.count()).select_from(t))
        for t in (LedgerEntry, Collection, OutboxMessage, BacsReportItem)
    ]


def test_another_report_naming_the_same_return_has_no_second_effect(db):
    world = make_world(db)
    returns.import_report(world.actor, "a.xml", arudd([Return("A00000001-01", "25.00", "B")]))
    reversals = db.session.scalar(
        sa.select(sa.func.count()).where(LedgerEntry.kind == EntryKind.REVERSAL)
    )

    report = returns.import_report(
        world.actor, "b.xml", arudd([Return("A00000001-01", "25.00", "B")], advice_number="00124")
    )

    assert (
        db.session.scalar(sa.select(sa.func.count()).where(LedgerEntry.kind == EntryKind.REVERSAL))
        == reversals
        == 1
    )
    [item] = items(db, report.id)
    assert "already returned" in item.action
    assert not item.needs_officer
    assert len(outbox(db, world.account_id)) == 1


def test_an_unknown_reference_waits_for_an_officer_and_the_rest_is_applied(db):
    world = make_world(db)
    report = returns.import_report(
        world.actor,
        "arudd.xml",
        arudd([Return("A00000001-01", "25.00", "B"), Return("ZZ9999999-01", "10.00", "0")]),
    )
    first, unknown = items(db, report.id)
    assert not first.needs_officer and first.account_id == world.account_id
    assert unknown.needs_officer and unknown.account_id is None and unknown.mandate_id is None
    assert unknown.action.startswith("No mandate has this reference")
    assert (report.applied_count, report.routed_count) == (1, 1)


def test_a_report_for_another_service_user_or_malformed_changes_nothing(db):
    world = make_world(db)
    for content in (
        arudd([Return("A00000001-01", "25.00", "0")], sun="123456"),
        b"<BACSDocument><Data>",
    ):
        with pytest.raises(returns.ReportRejected) as refused:
            returns.import_report(world.actor, "bad.xml", content)
        assert "\n" not in str(refused.value)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BacsReport)) == 0
    refresh(db, world.collection)
    assert world.collection.status == CollectionStatus.COLLECTED


def test_an_account_closed_return_cancels_the_mandate_and_its_next_collection_without_a_0c(db):
    world = make_world(db)
    following = scheduled(db, world, date(2026, 7, 15))

    returns.import_report(world.actor, "arudd.xml", arudd([Return("A00000001-01", "25.00", "B")]))

    refresh(db, world.mandate, following)
    assert world.mandate.status == MandateStatus.CANCELLED
    assert world.mandate.needs_cancel_instruction is False
    assert following.status == CollectionStatus.CANCELLED
    [message] = outbox(db, world.account_id)
    assert "cancelled the Direct Debit" in message.body


def test_a_deceased_payer_is_routed_and_never_written_to(db):
    world = make_world(db)
    from shared.models import DebtorAccount
    from shared.services.notifications import Message, notify_debtor

    account = db.session.get(DebtorAccount, world.account_id)
    queued = notify_debtor(account, Message("plan_payment_due", "Due", "Pay", "Pay"))
    db.session.commit()

    report = returns.import_report(
        world.actor, "arudd.xml", arudd([Return("A00000001-01", "25.00", "2")])
    )

    refresh(db, world.mandate, queued)
    assert world.mandate.status == MandateStatus.CANCELLED
    assert queued.status == OutboxStatus.CANCELLED  # the existing deceased handling
    assert [m.id for m in outbox(db, world.account_id)] == [queued.id]
    [item] = items(db, report.id)
    assert item.needs_officer and "deceased hold" in item.action
    refresh(db, world.collection)
    assert world.collection.reversal_entry_id is not None


def test_an_advance_notice_dispute_stops_collections_and_goes_to_an_officer(db):
    world = make_world(db)
    report = returns.import_report(
        world.actor, "arudd.xml", arudd([Return("A00000001-01", "25.00", "4")])
    )
    refresh(db, world.mandate)
    assert world.mandate.status == MandateStatus.ACTIVE
    assert world.mandate.collections_stopped_reason == "Advance notice disputed by the payer"
    [item] = items(db, report.id)
    assert item.needs_officer


def test_a_return_matches_the_collection_of_its_original_processing_day(db):
    world = make_world(db)
    later = collected(db, world.mandate, world.invoice_id, 2500, processing_day=date(2026, 6, 15))

    returns.import_report(
        world.actor,
        "arudd.xml",
        arudd([Return("A00000001-01", "25.00", "1", original_processing_day=date(2026, 6, 15))]),
    )

    refresh(db, world.collection, later)
    assert later.status == CollectionStatus.RETURNED
    assert world.collection.status == CollectionStatus.COLLECTED


# --- ADDACS, AUDDIS, DDIC ----------------------------------------------------------------


def test_an_addacs_cancellation_stops_the_next_collection(db):
    world = make_world(db)
    following = scheduled(db, world, date(2026, 7, 15))

    report = returns.import_report(
        world.actor, "addacs.xml", messaging("addacs", [Advice("A00000001-01", "1")])
    )

    refresh(db, world.mandate, following)
    assert world.mandate.status == MandateStatus.CANCELLED
    assert world.mandate.needs_cancel_instruction is False
    assert following.status == CollectionStatus.CANCELLED
    [message] = outbox(db, world.account_id)
    assert message.template == "dd_mandate_cancelled"
    [item] = items(db, report.id)
    assert "1 scheduled collection (£25.00) cancelled" in item.action


def test_addacs_3_seals_the_new_details_and_lodges_a_new_instruction(db):
    world = make_world(db)
    returns.import_report(
        world.actor,
        "addacs.xml",
        messaging(
            "addacs",
            [
                Advice(
                    "A00000001-01",
                    "3",
                    new_sort_code="401234",
                    new_account="12345671",
                    new_name="A SMITH-JONES",
                )
            ],
        ),
    )
    refresh(db, world.mandate)
    assert bank_details.open_sealed(world.mandate.bank_details_encrypted) == BankDetails(
        "401234", "12345671"
    )
    assert world.mandate.account_ending == "71"
    assert world.mandate.status == MandateStatus.PENDING_SUBMISSION
    assert world.mandate.account_holder_name == "A SMITH-JONES"
    # The full number is nowhere in the history.
    texts = " ".join(timeline(db, world.account_id)) + str(
        list(db.session.scalars(sa.select(AuditLog.after)))
    )
    assert "12345671" not in texts and "401234" not in texts
    stored = db.session.scalar(sa.select(BacsReport.content))
    assert "12345671" not in stored and "66374958" not in stored


def test_addacs_c_updates_details_without_a_new_instruction(db):
    world = make_world(db)
    returns.import_report(
        world.actor,
        "addacs.xml",
        messaging(
            "addacs", [Advice("A00000001-01", "C", new_sort_code="089998", new_account="66374959")]
        ),
    )
    refresh(db, world.mandate)
    assert world.mandate.status == MandateStatus.ACTIVE
    assert world.mandate.account_ending == "59"


def test_an_auddis_rejection_fails_the_mandate_tells_the_payer_and_routes(db):
    world = make_world(db)
    world.mandate.status = MandateStatus.SUBMITTED
    db.session.commit()
    report = returns.import_report(
        world.actor, "auddis.xml", messaging("auddis", [Advice("A00000001-01", "5")])
    )
    refresh(db, world.mandate)
    assert world.mandate.status == MandateStatus.FAILED
    [message] = outbox(db, world.account_id)
    assert message.template == "dd_instruction_rejected"
    [item] = items(db, report.id)
    assert item.needs_officer and item.reason_code == "5"


def test_an_indemnity_claim_reverses_cancels_with_a_0c_and_routes(db):
    world = make_world(db)
    report = returns.import_report(
        world.actor,
        "ddic.xml",
        ddic([Claim("A00000001-01", "25.00", ((ENTRY_DAY, "25.00"),), reason="5")]),
    )
    refresh(db, world.collection, world.mandate)
    assert world.collection.status == CollectionStatus.RETURNED
    assert world.collection.return_reason == "DDIC"
    assert world.collection.reversal_entry_id is not None
    assert world.mandate.status == MandateStatus.CANCELLED
    assert world.mandate.needs_cancel_instruction is True
    [item] = items(db, report.id)
    assert item.needs_officer and item.reason_code == "DDIC" and item.bacs_code == "5"
    assert outbox(db, world.account_id) == []
    assert ledger_discrepancies() == []


# --- the ledger --------------------------------------------------------------------------


def test_the_bulk_reversal_matches_the_ledgers_own_reversal(db):
    """Two identical worlds: one returned through the report, one by ledger.reverse."""
    ours = make_world(db, reference="A00000001-01")
    theirs = make_world(db, reference="A00000002-01")
    returns.import_report(ours.actor, "arudd.xml", arudd([Return("A00000001-01", "25.00", "B")]))
    ledger.reverse(entry_id=theirs.collection.payment_entry_id, reason="by hand", actor=ours.actor)

    def shape(world):
        entry = db.session.scalar(
            sa.select(LedgerEntry).where(
                LedgerEntry.reverses_entry_id == world.collection.payment_entry_id
            )
        )
        return (
            entry.kind,
            entry.amount_pence,
            balances.account_balance(world.account_id),
            balances.invoice_outstanding(world.invoice_id),
            [
                v.available_pence
                for v in balances.credit_values(entry_ids=[world.collection.payment_entry_id])
            ],
        )

    assert shape(ours) == shape(theirs)
    assert ledger_discrepancies() == []


def test_an_overpayment_returned_leaves_the_unallocated_queue_and_reconciles(db):
    from shared.models import UnallocatedCredit

    world = make_world(db)
    over = collected(
        db, world.mandate, world.invoice_id, 3000, allocate=2000, processing_day=date(2026, 6, 15)
    )
    queued = db.session.get(UnallocatedCredit, over.payment_entry_id)
    assert queued is not None and queued.unallocated_pence == 1000

    returns.import_report(
        world.actor,
        "arudd.xml",
        arudd([Return("A00000001-01", "30.00", "B", original_processing_day=date(2026, 6, 15))]),
    )

    db.session.expire_all()
    assert db.session.get(UnallocatedCredit, over.payment_entry_id) is None
    reversal = db.session.scalar(
        sa.select(LedgerEntry).where(LedgerEntry.reverses_entry_id == over.payment_entry_id)
    )
    assert reversal.amount_pence == 3000
    assert db.session.get(Collection, over.id).reversal_entry_id == reversal.id
    assert ledger_discrepancies() == []
