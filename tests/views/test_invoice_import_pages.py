"""The invoice import pages: an officer uploads the finance system's file and is taken
to its status page, which refreshes itself while the import waits or runs, shows the
counts when done, and the rows and reasons when the file is rejected. A file too big,
empty or not a file of invoices is refused on the upload page. Only staff who may
import invoices reach the pages."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from shared.jobs import invoice_imports as jobs
from shared.models import ImportStatus, Invoice, InvoiceImport, StaffRole
from shared.services.invoice_import import importer
from tests.factories import make_staff
from tests.frozen_clock import frozen_clock
from tests.invoice_import_files import SAMPLE_CSV, csv_bytes, row, sample_world
from tests.views.conftest import signed_in_session
from tests.views.pages import error_summary, parse, text, title

pytestmark = frozen_clock
UPLOAD = "/backoffice/invoice-imports"


@pytest.fixture
def officer(client, db):
    sample_world()
    person = make_staff(role=StaffRole.OFFICER)
    signed_in_session(client, person)
    return person


@pytest.fixture
def enqueued(monkeypatch):
    """The import ids the pages enqueue (no worker here: tests run the job by hand)."""
    ids: list[int] = []
    monkeypatch.setattr(
        "backoffice.invoice_imports.enqueue_import", lambda import_id: ids.append(import_id)
    )
    return ids


def _upload(client, content: bytes, name: str):
    token = parse(client.get(UPLOAD)).select_one("input[name=csrf_token]")["value"]
    return client.post(
        UPLOAD,
        data={"csrf_token": token, "invoices": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def _invoices(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Invoice))


def test_uploading_queues_the_import_and_its_page_refreshes_until_it_has_run(
    client, officer, db, enqueued
):
    response = _upload(client, SAMPLE_CSV.read_bytes(), "invoices.csv")

    assert response.status_code == 302
    [import_id] = enqueued
    status_path = response.headers["Location"]
    assert status_path == f"{UPLOAD}/{import_id}"
    waiting = parse(client.get(status_path))
    assert title(waiting).startswith(f"Invoice import {import_id}: queued")
    assert waiting.select_one("meta[http-equiv=refresh]")["content"] == "3"
    assert "Waiting for a worker" in text(waiting.select_one("#progress"))
    assert _invoices(db) == 0

    assert jobs.import_invoices(import_id) == "completed"

    done = parse(client.get(status_path))
    assert done.select_one("meta[http-equiv=refresh]") is None
    rows = {
        text(r.select_one("dt")): text(r.select_one("dd"))
        for r in done.select("#summary .govuk-summary-list__row")
    }
    assert rows["Invoices created"] == "5 (£8,864.10)"
    assert rows["Accounts created"] == "4"
    assert rows["Skipped as already imported"] == "0"
    assert _invoices(db) == 5


def test_a_rejected_file_shows_each_row_and_why_and_nothing_was_imported(
    client, officer, db, enqueued
):
    content = csv_bytes([row(invoice_number="A"), row(invoice_number="B", quantity="lots")])
    response = _upload(client, content, "bad.csv")
    [import_id] = enqueued
    jobs.import_invoices(import_id)

    page = parse(client.get(response.headers["Location"]))

    assert title(page).startswith(f"Invoice import {import_id}: rejected")
    assert "Nothing was imported: 1 problem in the file" in text(page)
    assert [text(li) for li in page.select("#errors li")] == [
        "Row 3: quantity 'lots' is not a whole number"
    ]
    assert _invoices(db) == 0


def test_uploading_the_same_file_again_imports_nothing_and_says_when_it_was(
    client, officer, db, enqueued
):
    first = _upload(client, SAMPLE_CSV.read_bytes(), "invoices.csv")
    jobs.import_invoices(enqueued[0])

    again = _upload(client, SAMPLE_CSV.read_bytes(), "copy.csv")

    assert again.headers["Location"] == first.headers["Location"]
    assert len(enqueued) == 1
    page = parse(client.get(again.headers["Location"]))
    assert "already imported on 17 June 2026" in text(page)
    assert "so nothing was imported again" in text(page)
    assert _invoices(db) == 5


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "The file is empty"),
        (
            b"not a workbook",
            "invoices.xlsx",
            "The file is named .xlsx but is not an Excel workbook",
        ),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_on_the_upload_page(
    client, officer, db, enqueued, content, name, message
):
    page = parse(_upload(client, content, name))
    assert title(page).startswith("Error:")
    assert error_summary(page) == [(message, "#invoices")]
    assert enqueued == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InvoiceImport)) == 0


def test_a_file_too_big_is_refused_with_the_limit(client, officer, db, enqueued, monkeypatch):
    monkeypatch.setattr(importer, "MAX_FILE_BYTES", 100)
    page = parse(_upload(client, SAMPLE_CSV.read_bytes(), "invoices.csv"))
    [(message, _)] = error_summary(page)
    assert message.startswith("The file must be smaller than 0 MB")
    assert enqueued == []


def test_no_file_chosen_asks_for_one(client, officer):
    token = parse(client.get(UPLOAD)).select_one("input[name=csrf_token]")["value"]
    page = parse(client.post(UPLOAD, data={"csrf_token": token}))
    assert error_summary(page) == [("Choose the invoice file to import", "#invoices")]


def test_the_upload_page_lists_past_imports_newest_first(client, officer, db, enqueued):
    _upload(client, csv_bytes([row(invoice_number="A")]), "first.csv")
    _upload(client, csv_bytes([row(invoice_number="B")]), "second.csv")
    jobs.import_invoices(enqueued[0])

    page = parse(client.get(UPLOAD))

    listed = [[text(td) for td in tr.select("td")] for tr in page.select("#imports tbody tr")]
    assert [(r[0], r[3]) for r in listed] == [("second.csv", "Queued"), ("first.csv", "Completed")]


def test_an_import_that_does_not_exist_is_not_found(client, officer):
    assert client.get(f"{UPLOAD}/999999").status_code == 404


@pytest.mark.parametrize("role", [StaffRole.ADMIN, StaffRole.AUDITOR])
def test_staff_who_may_not_import_invoices_are_refused(client, db, role):
    signed_in_session(client, make_staff(role=role))
    assert client.get(UPLOAD).status_code == 403


def test_importing_sets_the_status_page_counting_rows_while_it_runs(client, officer, db):
    # What the page says mid-run, from the row a running import leaves.
    content = csv_bytes([row()])
    submitted = importer.submit_file(content, file_name="x.csv", actor=importer.actors.SYSTEM)
    db.session.execute(
        sa.update(InvoiceImport)
        .where(InvoiceImport.id == submitted.import_id)
        .values(status=ImportStatus.IMPORTING, rows_total=400, rows_processed=100)
    )
    db.session.commit()

    page = parse(client.get(f"{UPLOAD}/{submitted.import_id}"))

    assert text(page.select_one("#progress")).startswith("Importing: 100 of 400 rows (25%)")
    assert page.select_one("progress")["value"] == "100"
    assert page.select_one("meta[http-equiv=refresh]") is not None
