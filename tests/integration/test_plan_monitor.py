"""The daily plan monitor on real plans, payments and holds: readings, reminders,
broken and completed plans, Breathing Space, re-runs, the CLI and the RQ job id."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from shared.domain.holds import BS_STANDARD, HoldTerms
from shared.models import (
    Arrangement,
    ArrangementDebt,
    ArrangementStatus,
    AuditLog,
    Channel,
    ContactEvent,
    Frequency,
    Instalment,
    Invoice,
    OutboxChannel,
    OutboxMessage,
    PaymentMethod,
    PaymentRoute,
    RecoveryStage,
    StaffRole,
)
from shared.services import actors, holds, ledger, plan_monitor, plans
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock
START = TODAY + timedelta(days=7)  # the first instalment's due date
INSTALMENT = 3_000  # four monthly instalments of £30.00


@pytest.fixture
def plan(db):
    """An active plan of 4 x £30.00 monthly from START covering one £120.00 invoice."""
    account = make_account(email="debtor@example.com", preferred_channel=Channel.EMAIL)
    department = make_department(name="Trade waste")
    invoice = ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number="INV-MON1",
        issue_date=TODAY - timedelta(days=60),
        due_date=TODAY - timedelta(days=30),
        description="Trade waste collections",
        lines=[ledger.LineInput("Collections", 1, 4 * INSTALMENT)],
        actor=SYSTEM,
    )
    arrangement = plans.propose(
        account_id=account.id,
        invoice_ids=[invoice.id],
        terms=plans.Terms(Frequency.MONTHLY, START, count=4),
        payment_route=PaymentRoute.CARD,
        actor=SYSTEM,
    )
    assert arrangement.status == ArrangementStatus.ACTIVE
    return {"account_id": account.id, "invoice_id": invoice.id, "plan_id": arrangement.id}


def pay(plan, pence, reference=None):
    return ledger.record_payment(
        account_id=plan["account_id"],
        amount_pence=pence,
        method=PaymentMethod.CARD,
        external_reference=reference,
        actor=SYSTEM,
    )


def instalments(db, plan):
    return db.session.scalars(
        sa.select(Instalment)
        .where(Instalment.arrangement_id == plan["plan_id"])
        .order_by(Instalment.sequence)
    ).all()


def due(db, plan, sequence):
    return instalments(db, plan)[sequence - 1].due_date


def arrangement(db, plan):
    return db.session.get(Arrangement, plan["plan_id"])


def templates(db):
    return db.session.scalars(sa.select(OutboxMessage.template).order_by(OutboxMessage.id)).all()


def timeline(db, plan):
    return db.session.scalars(
        sa.select(ContactEvent.summary)
        .where(ContactEvent.account_id == plan["account_id"])
        .order_by(ContactEvent.id)
    ).all()


def test_an_instalment_paid_on_time_is_marked_paid_on_the_run_date(db, plan):
    pay(plan, INSTALMENT)
    counts = plan_monitor.run(START + timedelta(days=1))

    first, second, *_ = instalments(db, plan)
    assert (first.paid_pence, first.paid_on, first.missed_on) == (
        INSTALMENT,
        START + timedelta(days=1),
        None,
    )
    assert (second.paid_pence, second.paid_on) == (0, None)
    assert counts.as_dict() == {
        "checked": 1,
        "paid_updates": 1,
        "reminders": 0,
        "broken": 0,
        "completed": 0,
        "skipped_breathing_space": 0,
        "skipped_deceased": 0,
        "skipped_on_hold": 0,
        "due_reminders": 0,
    }
    assert arrangement(db, plan).status == ArrangementStatus.ACTIVE
    # The day it became paid stays the day it was first seen paid.
    plan_monitor.run(START + timedelta(days=5))
    assert instalments(db, plan)[0].paid_on == START + timedelta(days=1)


def test_a_late_payment_within_the_tolerance_sends_no_reminder(db, plan):
    last_day = START + timedelta(days=7)
    plan_monitor.run(last_day)
    assert instalments(db, plan)[0].missed_on is None
    pay(plan, INSTALMENT)
    plan_monitor.run(last_day)

    first = instalments(db, plan)[0]
    assert (first.paid_pence, first.paid_on, first.reminded_at) == (INSTALMENT, last_day, None)
    assert templates(db) == ["plan_active"]


def test_one_missed_instalment_gets_one_reminder_and_the_plan_goes_on(db, plan):
    day = START + timedelta(days=8)
    counts = plan_monitor.run(day)

    first = instalments(db, plan)[0]
    assert first.missed_on == day
    assert first.reminded_at is not None
    assert counts.reminders == 1
    [reminder] = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.template == "plan_missed_payment")
    ).all()
    assert reminder.dedupe_key == f"plan-missed:{first.id}"
    assert reminder.recipient == "debtor@example.com"
    assert "£30.00" in reminder.body
    assert arrangement(db, plan).status == ArrangementStatus.ACTIVE
    assert any("payment 1 of £30.00" in s and "missed" in s for s in timeline(db, plan))

    entries, notices = len(timeline(db, plan)), templates(db)
    again = plan_monitor.run(day)
    assert (again.reminders, again.paid_updates, again.broken) == (0, 0, 0)
    assert templates(db) == notices
    assert len(timeline(db, plan)) == entries


def test_catching_up_a_missed_instalment_clears_the_miss(db, plan):
    plan_monitor.run(START + timedelta(days=8))
    pay(plan, INSTALMENT)
    plan_monitor.run(START + timedelta(days=9))

    first = instalments(db, plan)[0]
    assert (first.paid_pence, first.missed_on, first.paid_on) == (
        INSTALMENT,
        None,
        START + timedelta(days=9),
    )


def test_a_second_miss_breaks_the_plan_and_returns_its_debts_to_their_stage(db, plan):
    # Recovery moved on while the plan ran; breaking puts the debt back where it was.
    db.session.execute(
        sa.update(Invoice)
        .where(Invoice.id == plan["invoice_id"])
        .values(recovery_stage=RecoveryStage.FINAL_DEMAND)
    )
    db.session.commit()
    stage_at_start = db.session.scalar(
        sa.select(ArrangementDebt.stage_at_start).where(
            ArrangementDebt.arrangement_id == plan["plan_id"]
        )
    )
    assert stage_at_start != RecoveryStage.FINAL_DEMAND.value
    day = due(db, plan, 2) + timedelta(days=8)

    counts = plan_monitor.run(day)

    assert counts.broken == 1
    broken = arrangement(db, plan)
    assert broken.status == ArrangementStatus.BROKEN
    assert broken.end_reason == "2 payments missed"
    assert broken.ended_at is not None
    assert broken.broken_reviewed_at is None
    assert [q.id for q in plans.broken_to_review(day).items] == [plan["plan_id"]]
    invoice = db.session.get(Invoice, plan["invoice_id"])
    assert invoice.recovery_stage.value == stage_at_start
    assert templates(db) == ["plan_active", "plan_broken"]  # no "please pay to keep it"
    assert db.session.scalar(
        sa.select(OutboxMessage.dedupe_key).where(OutboxMessage.template == "plan_broken")
    ) == (f"plan-broken:{plan['plan_id']}")
    assert db.session.scalar(
        sa.select(AuditLog.action).where(
            AuditLog.object_type == "arrangement", AuditLog.action == "plan.broken"
        )
    )
    assert any(s.endswith("broken: 2 payments missed") for s in timeline(db, plan))
    assert [i.missed_on for i in instalments(db, plan)][:2] == [day, day]

    again = plan_monitor.run(day)
    assert (again.checked, again.broken) == (0, 0)
    assert templates(db) == ["plan_active", "plan_broken"]


def test_a_payment_after_the_plan_broke_does_not_revive_it(db, plan):
    plan_monitor.run(due(db, plan, 2) + timedelta(days=8))
    readings = [(i.paid_pence, i.paid_on) for i in instalments(db, plan)]
    pay(plan, 4 * INSTALMENT)

    counts = plan_monitor.run(due(db, plan, 2) + timedelta(days=9))

    assert counts.checked == 0
    assert arrangement(db, plan).status == ArrangementStatus.BROKEN
    assert [(i.paid_pence, i.paid_on) for i in instalments(db, plan)] == readings
    assert "plan_completed" not in templates(db)


def test_a_plan_paid_off_early_is_completed(db, plan):
    pay(plan, 4 * INSTALMENT)
    counts = plan_monitor.run(START + timedelta(days=2))

    assert counts.completed == 1
    completed = arrangement(db, plan)
    assert completed.status == ArrangementStatus.COMPLETED
    assert completed.ended_at is not None
    assert all(i.paid_pence == i.amount_pence for i in instalments(db, plan))
    assert templates(db) == ["plan_active", "plan_completed"]
    assert any(s.endswith("completed: paid in full") for s in timeline(db, plan))
    assert plan_monitor.run(START + timedelta(days=2)).completed == 0
    assert templates(db) == ["plan_active", "plan_completed"]


def test_part_payments_fill_the_earliest_instalment_first(db, plan):
    pay(plan, 4_500)
    plan_monitor.run(START + timedelta(days=1))

    readings = [(i.paid_pence, i.paid_on) for i in instalments(db, plan)]
    assert readings == [(3_000, START + timedelta(days=1)), (1_500, None), (0, None), (0, None)]


def test_a_reversed_payment_unmarks_the_instalment_it_paid(db, plan):
    entry_id = pay(plan, INSTALMENT).entry.id
    plan_monitor.run(START + timedelta(days=1))  # it empties the session: keep ids, not rows
    ledger.reverse(entry_id=entry_id, reason="Card chargeback", actor=SYSTEM)

    plan_monitor.run(START + timedelta(days=2))

    first = instalments(db, plan)[0]
    assert (first.paid_pence, first.paid_on) == (0, None)


def test_money_paid_before_the_plan_began_does_not_count_towards_it(db, plan):
    # The plan covers what was owed when it began, so only later money pays it.
    assert plan_monitor.run(START).paid_updates == 0
    assert all(i.paid_pence == 0 for i in instalments(db, plan))


def test_breathing_space_holds_back_the_reminder_and_says_why_once(db, plan):
    officer = make_staff(StaffRole.OFFICER)
    holds.place_hold(
        plan["account_id"],
        HoldTerms(
            kind="breathing_space",
            starts_on=TODAY,
            expires_on=TODAY + timedelta(days=60),
            breathing_space_type=BS_STANDARD,
        ),
        "Debt adviser notified us",
        actors.staff(officer.id),
        today=TODAY,
    )
    day = START + timedelta(days=8)

    counts = plan_monitor.run(day)

    assert (counts.reminders, counts.skipped_breathing_space) == (0, 1)
    assert "plan_missed_payment" not in templates(db)
    first = instalments(db, plan)[0]
    assert (first.missed_on, first.reminded_at) == (day, None)
    skipped = [s for s in timeline(db, plan) if "Breathing Space" in s and "not sent" in s]
    assert len(skipped) == 1

    plan_monitor.run(day)
    assert len([s for s in timeline(db, plan) if "Breathing Space" in s and "not sent" in s]) == 1


def test_breathing_space_also_stops_the_plan_breaking(db, plan):
    officer = make_staff(StaffRole.OFFICER)
    holds.place_hold(
        plan["account_id"],
        HoldTerms(
            kind="breathing_space",
            starts_on=TODAY,
            expires_on=TODAY + timedelta(days=60),
            breathing_space_type=BS_STANDARD,
        ),
        "Debt adviser notified us",
        actors.staff(officer.id),
        today=TODAY,
        invoice_id=plan["invoice_id"],
    )
    counts = plan_monitor.run(due(db, plan, 2) + timedelta(days=8))  # inside the 60 days

    assert (counts.broken, counts.skipped_breathing_space) == (0, 1)
    assert arrangement(db, plan).status == ArrangementStatus.ACTIVE
    assert templates(db) == ["plan_active"]


def test_a_deceased_debtor_gets_no_reminder_or_break_and_an_officer_gets_a_follow_up(db, plan):
    officer = make_staff(StaffRole.OFFICER)
    holds.place_hold(
        plan["account_id"],
        HoldTerms("deceased", TODAY, date_of_death=TODAY - timedelta(days=1)),
        "Death notified by the family",
        actors.staff(officer.id),
        today=TODAY,
    )
    day = due(db, plan, 2) + timedelta(days=8)  # two payments missed

    counts = plan_monitor.run(day)
    plan_monitor.run(day)

    assert (counts.reminders, counts.broken, counts.skipped_deceased) == (0, 0, 1)
    assert arrangement(db, plan).status == ArrangementStatus.ACTIVE
    assert "plan_missed_payment" not in templates(db)
    followed_up = db.session.scalars(
        sa.select(ContactEvent.summary).where(
            ContactEvent.account_id == plan["account_id"], ContactEvent.follow_up_date == day
        )
    ).all()
    assert len(followed_up) == 1 and followed_up[0].endswith("the debtor has died")


def test_a_card_plan_gets_one_reminder_with_a_pay_link_shortly_before_each_payment(db, plan):
    # Four days before: too early (the default is three).
    assert plan_monitor.run(START - timedelta(days=4)).due_reminders == 0

    counts = plan_monitor.run(START - timedelta(days=3))
    again = plan_monitor.run(START - timedelta(days=2))

    assert (counts.due_reminders, again.due_reminders) == (1, 0)
    [notice] = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.template == "plan_payment_due")
    ).all()
    assert notice.recipient == "debtor@example.com"
    assert "£30.00" in notice.body and "http://127.0.0.1:5000/pay" in notice.body
    assert sum("reminder that payment 1" in s for s in timeline(db, plan)) == 1


def test_a_paid_instalment_or_a_direct_debit_plan_gets_no_due_reminder(db, plan):
    pay(plan, INSTALMENT)
    assert plan_monitor.run(START - timedelta(days=1)).due_reminders == 0
    db.session.execute(
        sa.update(Arrangement)
        .where(Arrangement.id == plan["plan_id"])
        .values(payment_route=PaymentRoute.DIRECT_DEBIT)
    )
    db.session.commit()
    second_due = due(db, plan, 2)
    assert plan_monitor.run(second_due - timedelta(days=1)).due_reminders == 0
    assert "plan_payment_due" not in templates(db)


def test_no_due_reminder_in_breathing_space(db, plan):
    officer = make_staff(StaffRole.OFFICER)
    holds.place_hold(
        plan["account_id"],
        HoldTerms(
            kind="breathing_space",
            starts_on=TODAY,
            expires_on=TODAY + timedelta(days=60),
            breathing_space_type=BS_STANDARD,
        ),
        "Debt adviser notified us",
        actors.staff(officer.id),
        today=TODAY,
    )
    assert plan_monitor.run(START - timedelta(days=1)).due_reminders == 0
    assert "plan_payment_due" not in templates(db)


def test_the_cli_command_monitors_for_the_given_date(app, db, plan):
    day = START + timedelta(days=8)
    result = app.test_cli_runner().invoke(args=["plans", "monitor", "--date", day.isoformat()])

    assert result.exit_code == 0, result.output
    assert "checked 1" in result.output
    assert "reminders 1" in result.output
    assert instalments(db, plan)[0].missed_on == day


def test_the_cli_command_refuses_a_malformed_date(app):
    result = app.test_cli_runner().invoke(args=["plans", "monitor", "--date", "31/01/2026"])
    assert result.exit_code != 0
    assert "YYYY-MM-DD" in result.output or "%Y-%m-%d" in result.output


def test_one_days_monitor_job_is_queued_once(app, redis_url):
    from rq.job import Job

    from shared.jobs import plan_monitor as jobs
    from shared.jobs.queues import redis_connection

    connection = redis_connection(redis_url)
    day = date(2031, 1, 15)
    connection.delete(f"rq:job:{jobs.job_id(day)}")  # left over from an interrupted run
    try:
        assert jobs.enqueue_plan_monitor(connection, day) is True
        assert jobs.enqueue_plan_monitor(connection, day) is False
        job = Job.fetch("plans-monitor-2031-01-15", connection=connection)
        assert job.args == ("2031-01-15",)
        assert job.origin == jobs.QUEUE
    finally:
        Job.fetch(jobs.job_id(day), connection=connection).delete()
        connection.close()


def test_the_queued_job_runs_the_monitor_for_its_day(app, db, plan):
    from shared.jobs.plan_monitor import monitor_plans

    counts = monitor_plans((START + timedelta(days=8)).isoformat())
    assert counts["reminders"] == 1


def test_the_scheduler_enqueues_the_monitor_daily(redis_url):
    from rq.cron import CronScheduler

    from shared.jobs.plan_monitor import enqueue_todays_plan_monitor
    from shared.jobs.queues import QUEUE_NAMES, redis_connection

    connection = redis_connection(redis_url)
    scheduler = CronScheduler(connection=connection)
    scheduler.load_config_from_file("shared.jobs.cron_config")
    job = next(j for j in scheduler.get_jobs() if j.func is enqueue_todays_plan_monitor)
    assert job.cron == "0 6 * * *"
    assert job.queue_name in QUEUE_NAMES
    connection.close()


def test_plans_are_read_page_by_page_and_each_page_is_committed(db, plan):
    other = make_account(surname="Jones", email="jones@example.com")
    invoice = ledger.raise_invoice(
        account_id=other.id,
        department_id=db.session.scalar(sa.select(Invoice.department_id)),
        number="INV-MON2",
        issue_date=TODAY - timedelta(days=60),
        due_date=TODAY - timedelta(days=30),
        description="Trade waste collections",
        lines=[ledger.LineInput("Collections", 1, 2 * INSTALMENT)],
        actor=SYSTEM,
    )
    plans.propose(
        account_id=other.id,
        invoice_ids=[invoice.id],
        terms=plans.Terms(Frequency.MONTHLY, START, count=2),
        payment_route=PaymentRoute.CARD,
        actor=SYSTEM,
    )
    pay(plan, INSTALMENT)

    counts = plan_monitor.run(START + timedelta(days=8), batch_size=1)

    assert (counts.checked, counts.paid_updates, counts.reminders) == (2, 2, 1)  # paid, missed
    db.session.rollback()  # nothing left uncommitted to lose
    paid = db.session.scalars(
        sa.select(Instalment.paid_pence).where(Instalment.sequence == 1).order_by(Instalment.id)
    ).all()
    assert paid == [INSTALMENT, 0]
    assert templates(db).count("plan_missed_payment") == 1


# --- other holds (issue 11, item 10): the hold page's promise, kept by the monitor -------


def _hold(plan, kind, invoice_id=None):
    officer = make_staff(StaffRole.OFFICER)
    holds.place_hold(
        plan["account_id"],
        HoldTerms(kind, TODAY, TODAY + timedelta(days=200)),
        "Placed by an officer",
        actors.staff(officer.id),
        today=TODAY,
        invoice_id=invoice_id,
    )


@pytest.mark.parametrize("kind", ["dispute", "query"])
def test_a_dispute_or_query_on_the_plans_debt_stops_its_reminder_and_breaking_noted_once(
    db, plan, kind
):
    _hold(plan, kind, plan["invoice_id"])
    day = due(db, plan, 2) + timedelta(days=8)  # two payments missed: would break

    counts = plan_monitor.run(day)
    plan_monitor.run(day)

    assert (counts.reminders, counts.broken, counts.skipped_on_hold) == (0, 0, 1)
    assert arrangement(db, plan).status == ArrangementStatus.ACTIVE
    assert templates(db) == ["plan_active"]
    noted = [s for s in timeline(db, plan) if s.endswith(f"a {kind} hold is in force")]
    assert len(noted) == 1  # the break held back, noted once however often it runs


def test_a_vulnerability_review_on_the_account_stops_the_due_reminder(db, plan):
    _hold(plan, "vulnerability_review")

    assert plan_monitor.run(START - timedelta(days=1)).due_reminders == 0
    assert "plan_payment_due" not in templates(db)


def test_a_hold_on_another_debt_does_not_stop_the_plans_reminder(db, plan):
    other = ledger.raise_invoice(
        account_id=plan["account_id"],
        department_id=make_department(name="Rents").id,
        number="INV-OTHER",
        issue_date=TODAY - timedelta(days=10),
        due_date=TODAY,
        description="Rent",
        lines=[ledger.LineInput("Rent", 1, 1_000)],
        actor=SYSTEM,
    )
    _hold(plan, "dispute", other.id)

    assert plan_monitor.run(START + timedelta(days=8)).reminders == 1


def test_a_payment_request_waiting_in_the_outbox_is_withdrawn_when_breathing_space_starts(db, plan):
    plan_monitor.run(START - timedelta(days=3))  # the "payment due soon" notice is queued
    db.session.add(
        OutboxMessage(
            account_id=plan["account_id"],
            channel=OutboxChannel.EMAIL,
            template="card_payment_receipt",
            recipient="debtor@example.com",
            subject="Payment received",
            body="Thank you",
        )
    )
    db.session.commit()
    officer = make_staff(StaffRole.OFFICER)

    holds.place_hold(
        plan["account_id"],
        HoldTerms(
            kind="breathing_space",
            starts_on=TODAY,
            expires_on=TODAY + timedelta(days=60),
            breathing_space_type=BS_STANDARD,
        ),
        "Debt adviser notified us",
        actors.staff(officer.id),
        today=TODAY,
    )

    statuses = dict(
        db.session.execute(sa.select(OutboxMessage.template, OutboxMessage.status)).all()
    )
    assert statuses["plan_payment_due"] == "cancelled"
    assert statuses["card_payment_receipt"] == "pending"
    assert statuses["plan_active"] != "cancelled"
    assert any("asking for payment withdrawn" in s for s in timeline(db, plan))
    assert db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "outbox.withdrawn"))


def test_a_missed_payment_on_a_queried_debt_gets_no_reminder_while_the_query_lasts(db, plan):
    _hold(plan, "query", plan["invoice_id"])

    counts = plan_monitor.run(START + timedelta(days=8))

    assert (counts.reminders, counts.skipped_on_hold) == (0, 1)
    assert instalments(db, plan)[0].reminded_at is None
    assert "plan_missed_payment" not in templates(db)
