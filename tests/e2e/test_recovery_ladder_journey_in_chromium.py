"""The recovery ladder journey the issue names, in Chromium: an administrator installs the
standard templates and ladders, changes a department's ladder (a shorter reminder gap)
and the reminder letter's wording; a team leader previews a dry run (which changes
nothing), then runs it (a real RQ worker picks the job up); an officer builds the day's
print batch and releases it to the printer; the letter, with the administrator's wording,
is on the debtor's case as posted, and its PDF opens. axe runs on every page of the way."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from shared import clock
from shared.extensions import db
from shared.models import (
    DunningMove,
    Invoice,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
    PrintBatch,
    PrintBatchStatus,
    RecoveryStage,
    StaffRole,
)
from shared.services import ledger
from shared.services.actors import SYSTEM
from tests.conftest import TEST_REDIS_URL, make_config
from tests.e2e.conftest import axe_violations, serve
from tests.e2e.test_first_pages_in_chromium import _sign_in_with_the_setup_key
from tests.factories import make_account, make_department, make_staff

pytestmark = pytest.mark.e2e
PASSWORD = "a long passphrase"
WORDING = "Our records show this bill is still unpaid. Please pay {amount_due} by {pay_by_date}."


def _own_redis_db() -> str:
    """A Redis database of this test's own: the run's job must not meet other tests' jobs."""
    base = TEST_REDIS_URL.rsplit("/", 1)[0]
    return f"{base}/13"


@pytest.fixture
def ladder_server(database_url):
    from shared.app import create_app
    from shared.jobs.queues import redis_connection

    redis_url = _own_redis_db()
    redis_connection(redis_url).flushdb()
    app = create_app(make_config(database_url, REDIS_URL=redis_url))
    with serve(app) as base:
        yield app, base
    redis_connection(redis_url).flushdb()


def _accessible(page) -> None:
    page.wait_for_load_state()
    assert axe_violations(page) == [], page.url


def _work_the_queue(app) -> None:
    """What the worker process does: take the queued run and do it, in this process."""
    from rq import Queue, SimpleWorker

    from shared.jobs.dunning import QUEUE
    from shared.jobs.queues import redis_connection

    connection = redis_connection(str(app.config["REDIS_URL"]))
    with app.app_context():
        SimpleWorker([Queue(QUEUE, connection=connection)], connection=connection).work(
            burst=True, logging_level="WARNING"
        )


def test_an_admin_sets_the_ladder_a_team_leader_runs_it_and_the_letter_is_posted(
    ladder_server, page_factory
):
    app, base = ladder_server
    today = clock.today()  # a live server on real time: see tests/frozen_clock.py
    with app.app_context():
        make_staff(StaffRole.ADMIN, email="ada@council.example", password=PASSWORD)
        make_staff(StaffRole.TEAM_LEADER, email="tess@council.example", password=PASSWORD)
        make_staff(StaffRole.OFFICER, email="olly@council.example", password=PASSWORD)
        department = make_department(name="Trade waste")
        account = make_account(surname="Grundy", postcode="AM3 4GR")
        invoice = ledger.raise_invoice(
            account_id=account.id,
            department_id=department.id,
            number="INV00000414",
            issue_date=today - timedelta(days=40),
            due_date=today - timedelta(days=10),  # 10 days late: the standard ladder waits 14
            description="Trade waste collection",
            lines=[ledger.LineInput("Bins", 1, 24_000)],
            actor=SYSTEM,
        )
        reference, invoice_id, department_id = account.reference, invoice.id, department.id

    # The administrator installs the standard templates and ladders ...
    admin, _ = page_factory()
    _sign_in_with_the_setup_key(admin, base, "ada@council.example", PASSWORD)
    admin.goto(f"{base}/backoffice/admin/message-templates")
    _accessible(admin)
    admin.get_by_role("button", name="Install standard templates").click()
    admin.locator(".govuk-notification-banner").wait_for()
    # ... brings the reminder forward to 7 days after the due date ...
    admin.goto(f"{base}/backoffice/admin/recovery-ladder/{department_id}")
    _accessible(admin)
    admin.locator("#reminder-days").fill("7")
    admin.get_by_role("button", name="Save recovery ladder").click()
    admin.locator(".govuk-notification-banner").wait_for()
    assert "7 days" in admin.locator("main").inner_text()
    # ... and rewrites the reminder letter, previewing it first.
    admin.goto(f"{base}/backoffice/admin/message-templates")
    admin.get_by_role("link", name="Edit English letter dunning.reminder", exact=True).click()
    _accessible(admin)
    admin.get_by_label("Message").fill(WORDING)
    admin.get_by_label("Preview with an account (optional)").fill(reference)
    admin.get_by_role("button", name="Preview").click()
    _accessible(admin)
    assert "£240.00" in admin.locator("#preview-result").inner_text()
    admin.get_by_role("button", name="Save template").click()
    admin.locator(".govuk-notification-banner").wait_for()

    # The team leader previews a dry run: it says what would happen and changes nothing.
    leader, _ = page_factory()
    _sign_in_with_the_setup_key(leader, base, "tess@council.example", PASSWORD)
    leader.goto(f"{base}/backoffice/dunning-runs")
    _accessible(leader)
    leader.get_by_role("button", name="Preview").click()
    _accessible(leader)
    preview = leader.locator("main").inner_text()
    assert "Preview for" in preview
    assert "Trade waste" in preview and "£240.00" in preview
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DunningMove)) == 0
    # Then runs it; a worker does the run; the page shows it done.
    leader.get_by_role("button", name="Run now").click()
    _work_the_queue(app)
    leader.reload()
    _accessible(leader)
    assert "Completed" in leader.locator("main").inner_text()
    with app.app_context():
        stage = db.session.get(Invoice, invoice_id).recovery_stage
        assert stage == RecoveryStage.REMINDER
        [letter] = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.channel == OutboxChannel.LETTER)
        ).all()
        assert letter.status == OutboxStatus.PENDING  # not sent until the batch is released
        assert "Please pay £240.00 by" in letter.body
        letter_id = letter.id

    # The officer builds the day's print batch and releases it to the printer.
    officer, _ = page_factory()
    _sign_in_with_the_setup_key(officer, base, "olly@council.example", PASSWORD)
    officer.goto(f"{base}/backoffice/print-batches")
    _accessible(officer)
    officer.get_by_role("button", name="Build today's batch").click()
    _accessible(officer)
    officer.get_by_label("I have checked the batch").check()
    officer.get_by_role("button", name="Release to the printer").click()
    officer.locator(".govuk-notification-banner").wait_for()
    with app.app_context():
        db.session.expire_all()
        [batch] = db.session.scalars(sa.select(PrintBatch)).all()
        assert batch.status == PrintBatchStatus.RELEASED
        assert db.session.get(OutboxMessage, letter_id).status == OutboxStatus.SENT

    # The letter is on the case's timeline as posted, and its PDF carries the new wording.
    officer.goto(f"{base}/backoffice/accounts/{reference}/timeline")
    _accessible(officer)
    assert "Letter posted" in officer.locator("main").inner_text()
    response = officer.request.get(f"{base}/backoffice/letters/{letter_id}.pdf")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(response.body())).pages)
    assert "Please pay £240.00 by" in " ".join(text.split())
    assert "AM3 4GR" in text
