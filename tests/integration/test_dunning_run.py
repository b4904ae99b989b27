"""A dunning run on real invoices, payments and policies: moves, one message per debtor,
the timeline and audit, idempotent reruns, resuming a failed run, contact-rule
refusals, the Letter of Claim, and which departments a scheduled run covers."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.models import (
    AuditLog,
    DebtorKind,
    DunningRun,
    DunningRunStatus,
    LetterOfClaim,
    OutboxChannel,
    PaymentMethod,
    RecoveryStage,
)
from shared.services import actors, ledger
from shared.services.actors import SYSTEM
from shared.services.dunning import runs
from tests.factories import make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.integration.dunning_world import (
    emailable,
    install_templates,
    make_ladder,
    moves,
    outbox,
    overdue,
    stage_of,
    timeline,
)

pytestmark = frozen_clock


@pytest.fixture
def dept(db):
    install_templates()
    return make_ladder()


def test_an_invoice_past_its_reminder_day_moves_with_one_email_a_timeline_and_an_audit_row(
    db, dept
):
    account = emailable(surname="Archer")
    invoice = overdue(account, dept, 20)

    result = runs.execute(TODAY, SYSTEM)

    assert stage_of(invoice.id) == RecoveryStage.REMINDER
    (message,) = outbox(account.id)
    assert message.channel == OutboxChannel.EMAIL
    assert message.template == "dunning.reminder"
    assert message.dedupe_key == f"dunning-{TODAY:%Y%m%d}-{account.id}"
    assert "£120.00" in message.body and invoice.number in message.body
    (move,) = moves()
    assert (move.invoice_id, move.from_stage, move.to_stage, move.outstanding_pence) == (
        invoice.id,
        RecoveryStage.NONE,
        RecoveryStage.REMINDER,
        12_000,
    )
    assert move.outbox_message_id == message.id
    assert timeline(account.id)[-1] == (
        f"Reminder email queued to send: {invoice.number} (£120.00)"
    )
    audit = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "dunning.invoices_moved")
    ).one()
    assert audit.account_id == account.id
    assert audit.after["moves"][0]["to"] == "reminder"
    assert result.status == DunningRunStatus.COMPLETED
    assert (result.outcome.moves, result.outcome.value_pence, result.outcome.debtors) == (
        1,
        12_000,
        1,
    )
    assert result.outcome.messages == {"email": 1}


def test_an_invoice_not_yet_at_its_reminder_day_stays(db, dept):
    invoice = overdue(emailable(), dept, 13)
    runs.execute(TODAY, SYSTEM)
    assert stage_of(invoice.id) == RecoveryStage.NONE
    assert outbox() == []


def test_a_debtor_with_several_invoices_gets_one_message_naming_them_all(db, dept):
    account = emailable(surname="Grundy")
    first = overdue(account, dept, 20, 5_000)
    second = overdue(account, dept, 35, 7_500)
    second_stage_before = stage_of(second.id)

    runs.execute(TODAY, SYSTEM)

    (message,) = outbox(account.id)
    assert first.number in message.body and second.number in message.body
    assert "£125.00" in message.body
    assert {m.invoice_id for m in moves()} == {first.id, second.id}
    assert all(m.outbox_message_id == message.id for m in moves())
    assert second_stage_before == RecoveryStage.NONE
    # Found late at no stage, the older debt gets the reminder too, not the final demand.
    assert stage_of(second.id) == RecoveryStage.REMINDER
    assert len([t for t in timeline(account.id) if "queued" in t]) == 1


def test_a_part_paid_invoice_is_chased_for_what_it_still_owes(db, dept):
    account = emailable()
    invoice = overdue(account, dept, 20, 10_000)
    ledger.record_payment(
        account_id=account.id, amount_pence=4_000, method=PaymentMethod.CARD, actor=SYSTEM
    )
    runs.execute(TODAY, SYSTEM)
    (move,) = moves()
    assert (move.invoice_id, move.outstanding_pence) == (invoice.id, 6_000)


def test_a_paid_invoice_and_a_late_payment_charge_invoice_are_never_chased(db, dept):
    account = emailable()
    paid = overdue(account, dept, 20, 3_000)
    ledger.record_payment(
        account_id=account.id, amount_pence=3_000, method=PaymentMethod.CARD, actor=SYSTEM
    )
    debt = overdue(emailable(surname="Carter"), dept, 20)
    charge = overdue(emailable(surname="Carter2"), dept, 20, 4_000)
    charge.charge_on_invoice_id = debt.id
    db.session.commit()

    runs.execute(TODAY, SYSTEM)

    assert stage_of(paid.id) == RecoveryStage.NONE
    assert stage_of(charge.id) == RecoveryStage.NONE
    assert stage_of(debt.id) == RecoveryStage.REMINDER


def test_the_same_date_twice_sends_nothing_twice_and_moves_nothing_twice(db, dept):
    account = emailable()
    overdue(account, dept, 20)
    runs.execute(TODAY, SYSTEM)
    counts = (len(outbox()), len(moves()), len(timeline(account.id)))

    again = runs.execute(TODAY, SYSTEM)

    assert again.already_run
    assert (len(outbox()), len(moves()), len(timeline(account.id))) == counts
    assert again.outcome.moves == 1  # the first run's summary, unchanged
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DunningRun)) == 1


def test_the_next_day_the_debt_waits_for_the_gap_before_the_final_demand(db, dept):
    invoice = overdue(emailable(), dept, 30)  # final demand day passed, but at no stage
    runs.execute(TODAY, SYSTEM)
    assert stage_of(invoice.id) == RecoveryStage.REMINDER
    from datetime import timedelta

    runs.execute(TODAY + timedelta(days=1), SYSTEM)
    assert stage_of(invoice.id) == RecoveryStage.REMINDER  # 14 days after the reminder
    assert len(outbox()) == 1


def test_a_failed_chunk_leaves_the_run_failed_and_running_it_again_resumes(db, dept, monkeypatch):
    first, second, third = (emailable(surname=f"Resume{i}") for i in range(3))
    for account in (first, second, third):
        overdue(account, dept, 20)
    real = runs._message_and_move
    calls = {"n": 0}

    def fail_on_the_second_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(runs, "_message_and_move", fail_on_the_second_chunk)
    with pytest.raises(RuntimeError):
        runs.execute(TODAY, SYSTEM, chunk_size=1)
    run = db.session.scalars(sa.select(DunningRun)).one()
    assert run.status == DunningRunStatus.FAILED
    assert "the database went away" in run.error
    assert (run.done, run.total) == (1, 3)
    assert [m.account_id for m in outbox()] == [first.id]

    monkeypatch.setattr(runs, "_message_and_move", real)
    result = runs.execute(TODAY, SYSTEM, chunk_size=1)

    assert result.status == DunningRunStatus.COMPLETED
    assert sorted(m.account_id for m in outbox()) == sorted([first.id, second.id, third.id])
    assert len(moves()) == 3
    assert (result.outcome.moves, result.done, result.total) == (3, 3, 3)


def test_a_debtor_over_the_weekly_contact_limit_is_not_moved(app, db, dept):
    app.config["CONTACT_CAP_PER_WEEK"] = 0
    account = emailable()
    invoice = overdue(account, dept, 20)

    result = runs.execute(TODAY, SYSTEM)

    assert stage_of(invoice.id) == RecoveryStage.NONE
    assert outbox() == [] and moves() == []
    assert result.outcome.skipped == {"contact_cap": 1}
    assert result.outcome.moves == 0


def test_a_debtor_the_stage_cannot_reach_is_not_moved(db, dept):
    from shared.models import DunningStage

    stage = db.session.scalars(
        sa.select(DunningStage).where(DunningStage.stage == RecoveryStage.REMINDER)
    ).one()
    stage.channels = ["sms"]  # and the debtor has no mobile number
    db.session.commit()
    invoice = overdue(emailable(), dept, 20)

    result = runs.execute(TODAY, SYSTEM)

    assert stage_of(invoice.id) == RecoveryStage.NONE
    assert result.outcome.skipped == {"no_channel": 1}


def test_a_person_reaching_pre_action_gets_the_letter_of_claim_with_its_enclosures(db, dept):
    person = emailable(surname="Aldridge")
    invoice = overdue(person, dept, 50)
    invoice.recovery_stage = RecoveryStage.FINAL_DEMAND
    db.session.commit()

    result = runs.execute(TODAY, SYSTEM)

    assert stage_of(invoice.id) == RecoveryStage.PRE_ACTION
    (message,) = outbox(person.id)
    assert (message.template, message.channel) == ("letter_of_claim", OutboxChannel.LETTER)
    claim = db.session.scalars(sa.select(LetterOfClaim)).one()
    assert (claim.account_id, claim.amount_pence, claim.written_on) == (person.id, 12_000, TODAY)
    assert claim.outbox_message_id == message.id
    assert message.payload["attachment"] == {
        "document": "letter_of_claim_enclosures",
        "id": claim.id,
    }
    assert "17 July 2026" in message.body  # 30 days to reply
    assert timeline(person.id)[-1].startswith("Letter of Claim queued for the print batch")
    assert result.outcome.letters_of_claim == 1


def test_an_organisation_reaching_pre_action_gets_the_departments_letter_before_action(db, dept):
    company = emailable(
        kind=DebtorKind.ORGANISATION, organisation_name="Borchester Land", surname="Land"
    )
    invoice = overdue(company, dept, 50)
    invoice.recovery_stage = RecoveryStage.FINAL_DEMAND
    db.session.commit()

    runs.execute(TODAY, SYSTEM)

    (message,) = outbox(company.id)
    assert (message.template, message.channel) == ("dunning.pre_action", OutboxChannel.LETTER)
    assert db.session.scalars(sa.select(LetterOfClaim)).all() == []
    assert timeline(company.id)[-1].startswith("Letter before action letter queued for the print")


def test_a_refused_letter_of_claim_leaves_no_claim_row(app, db, dept):
    app.config["CONTACT_CAP_PER_WEEK"] = 0
    invoice = overdue(emailable(), dept, 50)
    invoice.recovery_stage = RecoveryStage.FINAL_DEMAND
    db.session.commit()
    runs.execute(TODAY, SYSTEM)
    assert db.session.scalars(sa.select(LetterOfClaim)).all() == []
    assert stage_of(invoice.id) == RecoveryStage.FINAL_DEMAND


def test_a_scheduled_run_covers_automatic_departments_and_a_persons_run_the_rest(db, dept):
    from shared.jobs.dunning import run_scheduled_dunning

    automatic = make_ladder("Adult social care", automatic=True)
    manual_invoice = overdue(emailable(surname="Manual"), dept, 20)
    automatic_invoice = overdue(emailable(surname="Auto"), automatic, 20)

    summary = run_scheduled_dunning(TODAY.isoformat())

    assert summary["moves"] == 1
    assert stage_of(automatic_invoice.id) == RecoveryStage.REMINDER
    assert stage_of(manual_invoice.id) == RecoveryStage.NONE

    officer = make_staff()
    result = runs.execute(TODAY, actors.staff(officer.id))

    assert not result.already_run
    assert stage_of(manual_invoice.id) == RecoveryStage.REMINDER
    assert result.outcome.moves == 2  # one run for the date, both passes counted
    assert len(outbox()) == 2


def test_a_run_that_moves_nothing_still_completes_with_an_empty_summary(db, dept):
    result = runs.execute(TODAY, SYSTEM)
    assert result.status == DunningRunStatus.COMPLETED
    assert (result.outcome.moves, result.outcome.rows, result.total) == (0, [], 0)
