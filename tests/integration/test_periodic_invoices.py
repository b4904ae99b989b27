"""Periodic invoices: setting a schedule up, and the daily run raising each period once
(twice on one day, after days without a run, and with two runs at once on PostgreSQL),
ending a schedule at its count, and raising nothing for a cancelled one."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from shared.domain.vat import VatRate
from shared.extensions import db
from shared.models import (
    AuditLog,
    Channel,
    ContactEvent,
    IncomeCode,
    Invoice,
    InvoiceSchedule,
    InvoiceScheduleRun,
    LedgerEntry,
    OutboxMessage,
    ScheduleStatus,
    StaffRole,
    VatRatePeriod,
)
from shared.services import actors
from shared.services import invoice_schedule_runs as schedule_runs
from shared.services import invoice_schedules as schedules
from shared.services.errors import Conflict, Forbidden
from tests.append_only import assert_refuses_change_and_removal
from tests.conftest import _is_postgres
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock

LIMIT = 100_000  # £1,000


@pytest.fixture(autouse=True)
def vat_rates(db):
    ensure_vat_rates(db)


def ensure_vat_rates(db) -> None:
    """Migration 0019's VAT history, if this database has lost it: PostgreSQL test
    databases are emptied with TRUNCATE between tests, seeded rows included."""
    if db.session.scalar(sa.select(sa.func.count(VatRatePeriod.id))):
        return
    db.session.add_all(
        VatRatePeriod(rate=rate, valid_from=start, basis_points=bp)
        for rate, start, bp in (
            (VatRate.STANDARD, date(2011, 1, 4), 2000),
            (VatRate.REDUCED, date(1997, 9, 1), 500),
            (VatRate.ZERO, date(1973, 4, 1), 0),
            (VatRate.EXEMPT, date(1973, 4, 1), 0),
            (VatRate.OUTSIDE_SCOPE, date(1973, 4, 1), 0),
        )
    )
    db.session.commit()


@pytest.fixture
def officer(db):
    return make_staff(StaffRole.OFFICER, invoice_limit_pence=LIMIT)


@pytest.fixture
def department(db):
    return make_department(name="Commercial property", payment_terms_days=14)


@pytest.fixture
def account(db):
    # Prefers email: the contact rules keep a preference for post even when the debtor
    # agreed to email (shared/domain/contact_rules.py), and this tenant chose email.
    return make_account(
        email="tenant@example.com", consent_email=True, preferred_channel=Channel.EMAIL
    )


def request_for(department, **changes) -> schedules.ScheduleRequest:
    fields = dict(
        department_id=department.id,
        description="Rent of unit 4, Borchester market",
        frequency="monthly",
        start=TODAY,
        lines=[
            schedules.LineRequest("Rent", 1, 40_000, VatRate.STANDARD),
            schedules.LineRequest("Service charge", 2, 2_500),
        ],
        count=3,
    )
    fields.update(changes)
    return schedules.ScheduleRequest(**fields)


def create(account, department, officer, **changes):
    return schedules.create_schedule(
        account.id, request_for(department, **changes), actors.staff(officer.id), today=TODAY
    )


def runs(schedule_id: int) -> list[InvoiceScheduleRun]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(InvoiceScheduleRun)
        .where(InvoiceScheduleRun.schedule_id == schedule_id)
        .order_by(InvoiceScheduleRun.sequence)
    ).all()


def schedule_row(schedule_id: int) -> InvoiceSchedule:
    db.session.expire_all()
    return db.session.get(InvoiceSchedule, schedule_id)


# --- setting up -----------------------------------------------------------------------


def test_an_officer_sets_up_a_schedule_with_its_first_date_and_history(
    account, department, officer
):
    view = create(account, department, officer)

    assert view.status == ScheduleStatus.ACTIVE
    assert view.next_date == TODAY
    # £400 + 20% VAT, and 2 x £25 outside the scope of VAT.
    assert view.invoice_total_pence == 48_000 + 5_000
    assert view.terms == f"Monthly from {TODAY:%-d %B %Y}, 3 invoices"
    audit = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "invoice_schedule.created")
    ).one()
    assert audit.account_id == account.id and audit.actor_id == officer.id
    assert db.session.scalar(
        sa.select(ContactEvent.summary).where(ContactEvent.account_id == account.id)
    ).startswith("Periodic invoice set up: Rent of unit 4")


def test_a_schedule_above_the_officers_invoice_limit_is_refused_and_nothing_is_saved(
    account, department
):
    small = make_staff(StaffRole.OFFICER, invoice_limit_pence=50_000)
    with pytest.raises(schedules.ScheduleRefused, match="ask an officer who can issue"):
        create(account, department, small)
    assert db.session.scalar(sa.select(sa.func.count(InvoiceSchedule.id))) == 0


def test_a_service_department_user_cannot_set_one_up_alone(account, department):
    raiser = make_staff(
        StaffRole.SERVICE_DEPARTMENT, department_id=department.id, invoice_limit_pence=LIMIT * 10
    )
    with pytest.raises(schedules.ScheduleRefused, match="ask an officer"):
        create(account, department, raiser)
    assert db.session.scalar(sa.select(sa.func.count(InvoiceSchedule.id))) == 0


def test_an_auditor_cannot_set_one_up(account, department):
    with pytest.raises(Forbidden):
        create(account, department, make_staff(StaffRole.AUDITOR, invoice_limit_pence=LIMIT))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"description": "  "}, "description"),
        ({"start": TODAY - timedelta(days=1)}, "start_date"),
        ({"count": 2, "end": TODAY + timedelta(days=60)}, "ends"),
        ({"count": None, "end": TODAY - timedelta(days=1)}, "end_date"),
        ({"lines": []}, "lines"),
        ({"lines": [schedules.LineRequest("Nothing", 1, 0)]}, "lines"),
        ({"frequency": "daily"}, "frequency"),
        ({"department_id": 999_999}, "department_id"),
    ],
)
def test_a_bad_schedule_is_refused_naming_the_field(account, department, officer, changes, field):
    with pytest.raises(schedules.ScheduleRefused) as refused:
        create(account, department, officer, **changes)
    assert refused.value.field == field
    assert db.session.scalar(sa.select(sa.func.count(InvoiceSchedule.id))) == 0


def test_an_income_code_of_another_department_is_refused(account, department, officer):
    other = make_department(name="Parks")
    code = IncomeCode(
        department_id=other.id,
        code="P100",
        description="Pitches",
        cost_centre="C1",
        ledger_code="L1",
    )
    db.session.add(code)
    db.session.commit()
    with pytest.raises(schedules.ScheduleRefused) as refused:
        create(account, department, officer, income_code_id=code.id)
    assert refused.value.field == "income_code_id"


def test_no_schedule_is_set_up_on_a_deceased_account(department, officer):
    with pytest.raises(schedules.ScheduleRefused, match="died"):
        create(make_account(deceased=True), department, officer)


# --- the daily run ----------------------------------------------------------------------


def test_running_twice_on_the_same_day_raises_the_period_once(account, department, officer):
    view = create(account, department, officer)

    first = schedule_runs.raise_due(TODAY)
    second = schedule_runs.raise_due(TODAY)

    assert (first.raised, second.raised) == (1, 0)
    assert [r.period_date for r in runs(view.id)] == [TODAY]
    invoice = db.session.get(Invoice, runs(view.id)[0].invoice_id)
    assert invoice.total_pence == 53_000
    assert invoice.issue_date == TODAY
    assert invoice.due_date == TODAY + timedelta(days=14)  # the department's terms
    assert invoice.raised_by_staff_id == officer.id
    assert invoice.number.startswith("INV")
    assert (
        db.session.scalar(
            sa.select(LedgerEntry.amount_pence).where(LedgerEntry.invoice_id == invoice.id)
        )
        == 53_000
    )
    assert schedule_row(view.id).next_period_date == date(2026, 7, 17)


def test_the_debtor_is_sent_each_invoice_once(account, department, officer):
    create(account, department, officer)
    schedule_runs.raise_due(TODAY)
    schedule_runs.raise_due(TODAY)
    sent = db.session.scalars(sa.select(OutboxMessage)).all()
    assert len(sent) == 1
    # The same copy an officer-issued invoice gets: by email, with the invoice's PDF.
    invoice = db.session.scalars(sa.select(Invoice)).one()
    assert sent[0].template == "invoice_issued"
    assert sent[0].recipient == "tenant@example.com"
    assert sent[0].payload == {"attachment": {"document": "invoice", "id": invoice.id}}
    assert f"Pay by: {invoice.due_date:%-d %B %Y}" in sent[0].body


def test_after_days_without_a_run_each_missed_period_is_raised_once(account, department, officer):
    view = create(account, department, officer, frequency="weekly", count=None)
    catch_up = TODAY + timedelta(days=15)  # periods on TODAY, +7 and +14 missed

    counts = schedule_runs.raise_due(catch_up)
    again = schedule_runs.raise_due(catch_up)

    assert (counts.raised, again.raised) == (3, 0)
    assert [r.period_date for r in runs(view.id)] == [
        TODAY,
        TODAY + timedelta(days=7),
        TODAY + timedelta(days=14),
    ]
    assert [r.sequence for r in runs(view.id)] == [1, 2, 3]
    # Raised late, dated the day they really went out, with the full payment terms.
    issued = db.session.scalars(sa.select(Invoice.issue_date)).all()
    assert issued == [catch_up] * 3
    assert schedule_row(view.id).next_period_date == TODAY + timedelta(days=21)


def test_reaching_the_count_ends_the_schedule(account, department, officer):
    view = create(account, department, officer, count=2)

    schedule_runs.raise_due(TODAY)
    counts = schedule_runs.raise_due(TODAY + timedelta(days=31))
    later = schedule_runs.raise_due(TODAY + timedelta(days=400))

    assert (counts.raised, counts.ended, later.raised) == (1, 1, 0)
    row = schedule_row(view.id)
    assert row.status == ScheduleStatus.ENDED
    assert row.next_period_date is None and row.raised_count == 2
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action == "invoice_schedule.ended")
        )
        == 1
    )


def test_reaching_the_end_date_ends_the_schedule(account, department, officer):
    view = create(account, department, officer, count=None, end=TODAY + timedelta(days=40))
    counts = schedule_runs.raise_due(TODAY + timedelta(days=90))
    assert (counts.raised, counts.ended) == (2, 1)
    assert schedule_row(view.id).status == ScheduleStatus.ENDED


def test_a_cancelled_schedule_raises_nothing(account, department, officer):
    view = create(account, department, officer)
    schedules.cancel_schedule(account.id, view.id, "Tenant gave notice", actors.staff(officer.id))

    counts = schedule_runs.raise_due(TODAY + timedelta(days=90))

    assert counts.raised == 0
    assert runs(view.id) == []
    row = schedule_row(view.id)
    assert row.status == ScheduleStatus.CANCELLED
    assert row.cancel_reason == "Tenant gave notice"
    assert row.cancelled_by_staff_id == officer.id


def test_a_schedule_cannot_be_cancelled_twice(account, department, officer):
    view = create(account, department, officer)
    staff = actors.staff(officer.id)
    schedules.cancel_schedule(account.id, view.id, "Ended", staff)
    with pytest.raises(Conflict):
        schedules.cancel_schedule(account.id, view.id, "Again", staff)


def test_cancelling_needs_a_reason(account, department, officer):
    view = create(account, department, officer)
    with pytest.raises(schedules.ScheduleRefused):
        schedules.cancel_schedule(account.id, view.id, "  ", actors.staff(officer.id))
    assert schedule_row(view.id).status == ScheduleStatus.ACTIVE


def test_a_deceased_account_is_not_billed_and_its_schedule_is_cancelled(
    account, department, officer
):
    view = create(account, department, officer)
    account.deceased = True
    db.session.commit()

    counts = schedule_runs.raise_due(TODAY)

    assert (counts.raised, counts.cancelled_deceased) == (0, 1)
    assert schedule_row(view.id).status == ScheduleStatus.CANCELLED
    assert db.session.scalar(sa.select(sa.func.count(Invoice.id))) == 0


def test_an_account_in_breathing_space_is_still_billed(account, department, officer):
    view = create(account, department, officer)
    account.breathing_space_type = "standard"
    account.breathing_space_start = TODAY - timedelta(days=5)
    db.session.commit()
    assert schedule_runs.raise_due(TODAY).raised == 1
    assert len(runs(view.id)) == 1
    detail = db.session.scalar(
        sa.select(ContactEvent.detail).where(
            ContactEvent.summary.startswith("Periodic invoice INV")
        )
    )
    assert "Raised during Breathing Space" in detail


def test_one_bad_schedule_does_not_stop_the_rest(account, department, officer, monkeypatch):
    broken = create(account, department, officer)
    fine = create(make_account(surname="Jones"), department, officer)
    real = schedule_runs._issue

    def issue(schedule, *args):
        if schedule.id == broken.id:
            raise RuntimeError("simulated failure")
        return real(schedule, *args)

    monkeypatch.setattr(schedule_runs, "_issue", issue)
    counts = schedule_runs.raise_due(TODAY)

    assert (counts.raised, counts.failed) == (1, 1)
    assert runs(broken.id) == [] and len(runs(fine.id)) == 1
    # Tried again by the next run.
    monkeypatch.setattr(schedule_runs, "_issue", real)
    assert schedule_runs.raise_due(TODAY).raised == 1


def test_each_raised_invoice_is_on_the_timeline_and_in_the_audit_log(account, department, officer):
    create(account, department, officer)
    schedule_runs.raise_due(TODAY)
    summaries = db.session.scalars(
        sa.select(ContactEvent.summary).where(ContactEvent.account_id == account.id)
    ).all()
    assert any(s.startswith("Periodic invoice INV") for s in summaries)
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditLog.id)).where(
                AuditLog.action == "invoice_schedule.raised"
            )
        )
        == 1
    )


def test_the_page_read_lists_raised_invoices_and_the_next_date(account, department, officer):
    view = create(account, department, officer)
    schedule_runs.raise_due(TODAY)
    [listed] = schedules.schedules_for_account(account.id)
    assert listed.id == view.id
    assert [r.period_date for r in listed.raised] == [TODAY]
    assert listed.next_date == date(2026, 7, 17)


@pytest.mark.parametrize(
    ("table", "assignment"),
    [("invoice_schedule_runs", "sequence = 9"), ("invoice_schedule_lines", "quantity = 9")],
)
def test_schedule_lines_and_runs_are_append_only(
    app, account, department, officer, table, assignment
):
    create(account, department, officer)
    schedule_runs.raise_due(TODAY)
    assert_refuses_change_and_removal(app, table, assignment)


# --- the CLI and the job ------------------------------------------------------------------


def test_the_cli_command_raises_for_the_given_date(app, account, department, officer):
    create(account, department, officer)
    result = app.test_cli_runner().invoke(
        args=["invoices", "raise-periodic", "--date", TODAY.isoformat()]
    )
    assert result.exit_code == 0, result.output
    assert "raised 1" in result.output
    assert db.session.scalar(sa.select(sa.func.count(InvoiceScheduleRun.id))) == 1


def test_the_queued_job_raises_for_its_day(app, account, department, officer):
    from shared.jobs.invoice_schedules import raise_periodic_invoices

    create(account, department, officer)
    assert raise_periodic_invoices(TODAY.isoformat())["raised"] == 1


def test_one_days_job_is_queued_once(app, redis_url):
    from rq.job import Job

    from shared.jobs import invoice_schedules as jobs
    from shared.jobs.queues import redis_connection

    connection = redis_connection(redis_url)
    day = date(2031, 2, 15)
    connection.delete(f"rq:job:{jobs.job_id(day)}")
    try:
        assert jobs.enqueue_periodic_invoices(connection, day) is True
        assert jobs.enqueue_periodic_invoices(connection, day) is False
        job = Job.fetch("invoices-periodic-2031-02-15", connection=connection)
        assert job.args == ("2031-02-15",)
        assert job.origin == jobs.QUEUE
    finally:
        Job.fetch(jobs.job_id(day), connection=connection).delete()
        connection.close()


def test_the_scheduler_enqueues_the_run_daily(redis_url):
    from rq.cron import CronScheduler

    from shared.jobs.invoice_schedules import enqueue_todays_periodic_invoices
    from shared.jobs.queues import QUEUE_NAMES, redis_connection

    connection = redis_connection(redis_url)
    scheduler = CronScheduler(connection=connection)
    scheduler.load_config_from_file("shared.jobs.cron_config")
    job = next(j for j in scheduler.get_jobs() if j.func is enqueue_todays_periodic_invoices)
    assert job.cron == "15 6 * * *"
    assert job.queue_name in QUEUE_NAMES
    connection.close()


# --- two runs at once -------------------------------------------------------------------


@pytest.mark.skipif(
    not _is_postgres(),
    reason="PostgreSQL only: SQLite lets one writer in at a time, so runs never interleave",
)
def test_two_runs_at_once_still_raise_each_period_once(app, account, department, officer):
    views = [create(account, department, officer, frequency="weekly", count=None)]
    views += [
        create(make_account(surname=f"Tenant{n}"), department, officer, frequency="weekly")
        for n in range(5)
    ]
    catch_up = TODAY + timedelta(days=14)  # three periods each
    start = threading.Barrier(2)
    results, errors = [], []

    def run():
        with app.app_context():
            try:
                start.wait(timeout=30)
                results.append(schedule_runs.raise_due(catch_up))
            except Exception as exc:  # a deadlock or duplicate would show here
                errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sum(r.raised for r in results) == 3 * len(views)
    assert sum(r.failed for r in results) == 0
    for view in views:
        assert [r.sequence for r in runs(view.id)] == [1, 2, 3]
    numbers = db.session.scalars(sa.select(Invoice.number)).all()
    assert len(numbers) == len(set(numbers)) == 3 * len(views)
