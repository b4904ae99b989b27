"""`flask --app wsgi import invoices FILE` prints the summary and exits 0, refuses a
file with bad rows with each row's error and a non-zero exit, says a file was imported
already; and the worker's job runs an uploaded import on a real RQ worker, once."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from rq import Queue, SimpleWorker

from shared.jobs import invoice_imports as jobs
from shared.jobs.queues import redis_connection
from shared.models import ImportStatus, Invoice, InvoiceImport, StaffRole
from shared.services import actors
from shared.services.invoice_import import importer
from tests.factories import make_staff
from tests.frozen_clock import frozen_clock
from tests.invoice_import_files import SAMPLE_CSV, SAMPLE_XLSX, csv_bytes, row, sample_world

pytestmark = frozen_clock


@pytest.fixture
def runner(app, db):
    sample_world()
    return app.test_cli_runner()


def _invoices(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Invoice))


def test_importing_the_sample_prints_the_counts(runner, db):
    result = runner.invoke(args=["import", "invoices", str(SAMPLE_CSV)])

    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.output.splitlines()]
    assert ["Invoices", "created:", "5", "(£8,864.10)"] in lines
    assert ["Accounts", "created:", "4"] in lines
    assert _invoices(db) == 5


def test_the_same_file_again_says_when_it_was_imported_and_changes_nothing(runner, db):
    runner.invoke(args=["import", "invoices", str(SAMPLE_XLSX)])
    result = runner.invoke(args=["import", "invoices", "--format", "xlsx", str(SAMPLE_XLSX)])

    assert result.exit_code == 0
    assert "invoices.xlsx was already imported on 17 June 2026" in result.output
    assert "nothing changed" in result.output
    assert _invoices(db) == 5


def test_a_file_with_bad_rows_exits_non_zero_listing_them_and_imports_nothing(runner, db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        csv_bytes([row(invoice_number="A"), row(invoice_number="B", issue_date="2026-13-01")])
    )

    result = runner.invoke(args=["import", "invoices", str(bad)])

    assert result.exit_code == 1
    assert "Row 3: issue_date '2026-13-01' is not a date like 2026-03-27" in result.output
    assert "bad.csv: 1 error in the file, so nothing was imported" in result.output
    assert _invoices(db) == 0


def test_a_format_that_is_not_the_files_is_refused(runner, db):
    result = runner.invoke(args=["import", "invoices", "--format", "xlsx", str(SAMPLE_CSV)])
    assert result.exit_code == 1
    assert "The file is not XLSX: it reads as CSV" in result.output


def test_an_uploaded_import_runs_once_on_a_worker(app, db, redis_url, monkeypatch):
    # A queue and job ids of this test run's own: the test Redis is shared.
    monkeypatch.setattr(jobs, "QUEUE", f"test-invoice-imports-{os.getpid()}")
    monkeypatch.setattr(jobs, "job_id", lambda i: f"test-invoice-import-{os.getpid()}-{i}")
    sample_world()
    officer = make_staff(role=StaffRole.OFFICER)
    submitted = importer.submit_file(
        SAMPLE_CSV.read_bytes(), file_name="invoices.csv", actor=actors.staff(officer.id)
    )
    connection = redis_connection(redis_url)
    queue = Queue(jobs.QUEUE, connection=connection)
    try:
        assert jobs.enqueue_import(submitted.import_id, app=app)
        assert not jobs.enqueue_import(submitted.import_id, app=app)  # one job an import

        # In this process and app context: SimpleWorker runs the job without forking.
        SimpleWorker([queue], connection=connection).work(burst=True)

        job = queue.fetch_job(jobs.job_id(submitted.import_id))
        assert job.return_value() == "completed"
        record = db.session.get(InvoiceImport, submitted.import_id)
        db.session.refresh(record)
        assert record.status == ImportStatus.COMPLETED
        assert _invoices(db) == 5
        assert jobs.import_invoices(submitted.import_id) is None  # ran already: nothing more
    finally:
        job = queue.fetch_job(jobs.job_id(submitted.import_id))
        if job is not None:
            job.delete()
