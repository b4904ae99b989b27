"""Every reason a dunning run leaves a due debt where it is, one test each: the preview
counts the skip under its reason, and the run neither moves the debt nor writes to the
debtor."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.extensions import db
from shared.models import (
    AccountHold,
    Arrangement,
    ArrangementDebt,
    ArrangementStatus,
    BreathingSpaceType,
    DunningMove,
    Frequency,
    HoldKind,
    LetterOfClaim,
    Mandate,
    MandateSource,
    MandateStatus,
    ModulusOutcome,
    PaymentRoute,
    RecoveryStage,
)
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
)

pytestmark = frozen_clock


@pytest.fixture
def dept(db):
    install_templates()
    return make_ladder()


@pytest.fixture
def debt(dept):
    account = emailable(surname="Skipped")
    return account, overdue(account, dept, 20)


def assert_skipped(invoice, reason):
    preview = runs.preview(TODAY)
    assert preview.outcome.skipped == {reason: 1}
    assert preview.outcome.moves == 0
    (row,) = preview.outcome.rows
    assert (row.stage, row.skipped, row.skipped_value_pence) == ("reminder", {reason: 1}, 12_000)
    moves_before = len(moves())
    result = runs.execute(TODAY, SYSTEM)
    assert result.outcome.skipped == {reason: 1}
    assert stage_of(invoice.id) == RecoveryStage.NONE
    assert outbox() == [] and len(moves()) == moves_before


def hold(account, kind, invoice=None, **kw):
    db.session.add(
        AccountHold(
            account_id=account.id,
            invoice_id=invoice.id if invoice else None,
            kind=kind,
            reason="test",
            starts_on=kw.pop("starts_on", TODAY - timedelta(days=3)),
            placed_by=make_staff().id,
            **kw,
        )
    )
    db.session.commit()


def test_a_deceased_debtors_debt_is_skipped_as_deceased(debt):
    account, invoice = debt
    account.deceased = True
    hold(account, HoldKind.DISPUTE, invoice)  # the more serious fact wins
    assert_skipped(invoice, "deceased")


def test_a_deceased_hold_skips_as_deceased(debt):
    account, invoice = debt
    hold(account, HoldKind.DECEASED)
    assert_skipped(invoice, "deceased")


def test_breathing_space_on_the_account_skips_its_debts(debt):
    account, invoice = debt
    account.breathing_space_type = BreathingSpaceType.STANDARD
    account.breathing_space_start = TODAY - timedelta(days=5)
    account.breathing_space_end = TODAY + timedelta(days=55)
    db.session.commit()
    assert_skipped(invoice, "breathing_space")


def test_a_breathing_space_hold_in_force_skips_its_debts(debt):
    account, invoice = debt
    hold(account, HoldKind.BREATHING_SPACE, expires_on=TODAY + timedelta(days=50))
    assert_skipped(invoice, "breathing_space")


def test_a_dispute_on_the_invoice_skips_it(debt):
    account, invoice = debt
    hold(account, HoldKind.DISPUTE, invoice)
    assert_skipped(invoice, "hold_dispute")


def test_a_query_on_the_whole_account_skips_its_debts(debt):
    account, invoice = debt
    hold(account, HoldKind.QUERY, expires_on=TODAY)
    assert_skipped(invoice, "hold_query")


def test_a_promise_to_pay_skips_the_debt_until_the_promised_date(debt):
    account, invoice = debt
    hold(
        account,
        HoldKind.PROMISE_TO_PAY,
        expires_on=TODAY + timedelta(days=7),
        promise_date=TODAY + timedelta(days=7),
        promise_amount_pence=12_000,
    )
    assert_skipped(invoice, "hold_promise_to_pay")


def test_a_vulnerability_review_skips_the_debt(debt):
    account, invoice = debt
    hold(account, HoldKind.VULNERABILITY_REVIEW, expires_on=TODAY + timedelta(days=30))
    assert_skipped(invoice, "hold_vulnerability_review")


def test_holds_lifted_expired_or_on_another_invoice_do_not_skip(dept, debt):
    account, invoice = debt
    other = overdue(account, dept, 5)  # not due yet
    hold(account, HoldKind.DISPUTE, other)
    hold(account, HoldKind.QUERY, expires_on=TODAY - timedelta(days=1))
    hold(account, HoldKind.DISPUTE, starts_on=TODAY + timedelta(days=1))
    lifted = AccountHold(
        account_id=account.id,
        kind=HoldKind.DISPUTE,
        reason="sorted",
        starts_on=TODAY - timedelta(days=9),
        placed_by=make_staff().id,
        lifted_at=TODAY,
    )
    db.session.add(lifted)
    db.session.commit()
    runs.execute(TODAY, SYSTEM)
    assert stage_of(invoice.id) == RecoveryStage.REMINDER


def test_a_payment_plan_covering_the_invoice_skips_it(debt):
    account, invoice = debt
    plan = Arrangement(
        account_id=account.id,
        status=ArrangementStatus.ACTIVE,
        frequency=Frequency.MONTHLY,
        total_pence=12_000,
        start_date=TODAY,
        payment_route=PaymentRoute.CARD,
    )
    db.session.add(plan)
    db.session.flush()
    db.session.add(ArrangementDebt(arrangement_id=plan.id, invoice_id=invoice.id, amount_pence=1))
    db.session.commit()
    assert_skipped(invoice, "payment_plan")


def test_a_direct_debit_mandate_collecting_the_accounts_invoices_skips_them(debt):
    account, invoice = debt
    db.session.add(
        Mandate(
            account_id=account.id,
            reference="SKIPTEST0001",
            account_holder_name="A SKIPPED",
            bank_details_encrypted="not-read-here",
            account_ending="78",
            modulus_outcome=ModulusOutcome.VALID,
            source=MandateSource.PORTAL,
            status=MandateStatus.ACTIVE,
            collects_invoices=True,
        )
    )
    db.session.commit()
    assert_skipped(invoice, "direct_debit")


def test_a_letter_of_claim_reply_awaiting_an_officer_skips_the_accounts_debts(debt):
    account, invoice = debt
    db.session.add(
        LetterOfClaim(
            account_id=account.id,
            amount_pence=12_000,
            written_on=TODAY - timedelta(days=40),
            posted_on=TODAY - timedelta(days=39),
            reply_received_on=TODAY - timedelta(days=2),
        )
    )
    db.session.commit()
    assert_skipped(invoice, "claim_reply")


def test_a_statute_barred_debt_is_skipped(dept):
    account = emailable(surname="Old")
    invoice = overdue(account, dept, 7 * 366)
    assert_skipped(invoice, "statute_barred")


def test_a_debt_below_the_departments_minimum_is_skipped(db):
    install_templates()
    dept = make_ladder(minimum=12_001)
    account = emailable(surname="Small")
    invoice = overdue(account, dept, 20)
    assert_skipped(invoice, "below_minimum")


def test_the_minimum_counts_everything_the_account_owes_the_department(db):
    install_templates()
    dept = make_ladder(minimum=15_000)
    account = emailable(surname="Two")
    invoice = overdue(account, dept, 20)  # £120 due now
    overdue(account, dept, 2, 5_000)  # £50 not due yet: still owed
    runs.execute(TODAY, SYSTEM)
    assert stage_of(invoice.id) == RecoveryStage.REMINDER


def test_a_debt_that_reached_the_stage_before_is_skipped_as_already_there(debt):
    account, invoice = debt
    # (A plan that broke put it back at no stage after an earlier reminder.)
    db.session.add(
        DunningMove(
            invoice_id=invoice.id,
            account_id=account.id,
            from_stage=RecoveryStage.NONE,
            to_stage=RecoveryStage.REMINDER,
            outstanding_pence=12_000,
        )
    )
    db.session.commit()
    assert_skipped(invoice, "already_at_stage")
