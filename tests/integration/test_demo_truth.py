"""The demo is a council's book as the product would have made it (issue 16): recovery
stages only where the ladder's runs put them, Direct Debit plans only with a mandate,
nothing the system recorded timed after the demo's now, and an account for every journey,
named by `flask demo logins` (what `make run` prints)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from shared import clock
from shared.demo import seed_demo
from shared.demo.journeys import demo_journeys
from shared.extensions import db as _db
from shared.models import (
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    Arrangement,
    ArrangementStatus,
    DebtorAccount,
    DunningMove,
    DunningRun,
    Invoice,
    Mandate,
    OutboxMessage,
    PaymentRoute,
    PortalUser,
    PortalUserAccount,
    RecoveryStage,
    StaffUser,
)
from shared.models.directdebit import LIVE_MANDATE_STATUSES
from shared.services.plans import reads as plan_reads
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import parse

pytestmark = frozen_clock

DEBTORS = 300  # what `make run` seeds

# Timestamps that are meant to lie ahead: when a lock or a code runs out, when a text
# deferred by quiet hours may go.
FUTURE_BY_DESIGN = {
    ("portal_users", "locked_until"),
    ("staff_users", "locked_until"),
    ("portal_one_time_codes", "expires_at"),
    ("outbox_messages", "not_before"),
}
# Reference data the migrations insert (VAT rates, the Bank of England base rate), stamped
# when the test database was migrated, by the real clock.
MIGRATED = {"vat_rate_periods", "base_rate_periods"}
# Dates of things that happened (the rest are due dates, review dates and the like).
EVENT_DATES = {
    "ledger_entries": ("effective_date",),
    "invoices": ("issue_date",),
    "instalments": ("paid_on", "missed_on"),
    "debtor_accounts": ("date_of_death", "breathing_space_start"),
    "dunning_runs": ("run_date",),
    "letters_of_claim": ("written_on", "posted_on"),
    "bacs_reports": ("report_date",),
    "bacs_files": ("input_day",),
    "unallocated_credits": ("since",),
    "print_batches": ("batch_date",),
}


@pytest.fixture
def seeded(app, db):
    return seed_demo(DEBTORS, seed=1, today=TODAY)


def _as_datetime(value):
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _as_date(value):
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def test_every_recovery_stage_was_put_there_by_a_run_of_the_ladder_with_its_message(seeded, db):
    staged = db.session.execute(
        sa.select(Invoice.id, Invoice.recovery_stage, Invoice.recovery_stage_at).where(
            Invoice.recovery_stage != RecoveryStage.NONE
        )
    ).all()
    moves = db.session.execute(
        sa.select(DunningMove.invoice_id, DunningMove.to_stage, DunningMove.outbox_message_id)
        .join(DunningRun, DunningRun.id == DunningMove.run_id)
        .order_by(DunningRun.run_date, DunningMove.id)
    ).all()
    latest = {m.invoice_id: m for m in moves}  # the last move of each invoice
    assert staged
    for invoice_id, stage, stage_at in staged:
        assert invoice_id in latest, f"invoice {invoice_id} is at {stage} with no move"
        assert latest[invoice_id].to_stage == stage
        assert latest[invoice_id].outbox_message_id is not None
        assert stage_at is not None
    # A debt long overdue climbed the ladder over the runs of the last few weeks.
    reached = {m.to_stage for m in moves}
    assert {RecoveryStage.REMINDER, RecoveryStage.FINAL_DEMAND, RecoveryStage.PRE_ACTION} <= (
        reached
    )
    run_dates = sorted(db.session.scalars(sa.select(DunningRun.run_date)))
    assert len(run_dates) >= 3 and run_dates[-1] == TODAY
    messages = set(db.session.scalars(sa.select(OutboxMessage.id)))
    assert {m.outbox_message_id for m in moves} <= messages


def test_every_active_plan_paid_by_direct_debit_has_a_live_mandate_and_ended_plans_were_paid_by_card(  # noqa: E501
    seeded, db
):
    live = set(
        db.session.scalars(
            sa.select(Mandate.account_id).where(Mandate.status.in_(LIVE_MANDATE_STATUSES))
        )
    )
    by_direct_debit = db.session.execute(
        sa.select(Arrangement.account_id, Arrangement.status).where(
            Arrangement.payment_route == PaymentRoute.DIRECT_DEBIT
        )
    ).all()
    active = [a for a, status in by_direct_debit if status == ArrangementStatus.ACTIVE]
    assert active
    assert [a for a in active if a not in live] == []
    # A plan that ended was paid before the demo's Direct Debit book began: by card.
    ended = {ArrangementStatus.BROKEN, ArrangementStatus.COMPLETED}
    assert [a for a, status in by_direct_debit if status in ended] == []


def test_nothing_the_system_recorded_is_timed_after_the_demos_now(seeded, db):
    now = clock.utcnow()
    later = []
    for table in _db.metadata.sorted_tables:
        if table.name in MIGRATED:
            continue
        for column in table.columns:
            if (table.name, column.name) in FUTURE_BY_DESIGN:
                continue
            if isinstance(column.type, sa.DateTime):
                value = _as_datetime(db.session.scalar(sa.select(sa.func.max(column))))
                if value is not None and value > now:
                    later.append(f"{table.name}.{column.name} {value}")
            elif column.name in EVENT_DATES.get(table.name, ()):
                value = _as_date(db.session.scalar(sa.select(sa.func.max(column))))
                if value is not None and value > TODAY:
                    later.append(f"{table.name}.{column.name} {value}")
    assert later == []


def test_demo_logins_name_an_account_whose_plan_needs_an_ie_statement_and_a_write_off_waiting(
    seeded, app, db, client
):
    output = app.test_cli_runner().invoke(args=["demo", "logins"]).output
    named = demo_journeys()

    assert named.income_expenditure_reference in output
    assert named.income_expenditure_email in output
    account = db.session.scalars(
        sa.select(DebtorAccount).where(
            DebtorAccount.reference == named.income_expenditure_reference
        )
    ).one()
    debts = plan_reads.plannable_debts(account.id)
    assert plan_reads.income_expenditure_needed(account.id, [d.invoice_id for d in debts])
    assert db.session.scalar(
        sa.select(PortalUser.id)
        .join(PortalUserAccount, PortalUserAccount.portal_user_id == PortalUser.id)
        .where(
            PortalUserAccount.account_id == account.id,
            PortalUser.email == named.income_expenditure_email,
        )
    )

    assert named.write_off_invoice in output and named.write_off_reference in output
    request = db.session.scalars(
        sa.select(ApprovalRequest).where(
            ApprovalRequest.kind == ApprovalKind.WRITE_OFF,
            ApprovalRequest.status == ApprovalStatus.PENDING,
        )
    ).one()
    officer = db.session.get(StaffUser, request.requested_by_staff_id)
    assert request.amount_pence > officer.write_off_limit_pence
    assert _as_datetime(request.requested_at).date() < TODAY
    leader = db.session.scalars(
        sa.select(StaffUser).where(StaffUser.email == named.write_off_approver)
    ).one()
    signed_in_session(client, leader)
    page = parse(client.get("/backoffice/approvals"))
    assert named.write_off_invoice in page.get_text()
