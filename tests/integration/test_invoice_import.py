"""Invoices imported from the finance system: a file with any bad row is rejected
whole and writes nothing; the same file twice, or rows already imported, change
nothing; customers are matched on their finance customer id, created when new and
updated (audited) when their details change; an imported invoice is, in the ledger,
exactly what ledger.raise_invoice would have posted; progress is counted; an error
while writing leaves nothing behind."""

from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa

from shared.domain.vat import VatRate
from shared.models import (
    Address,
    AuditLog,
    ContactEvent,
    DebtorAccount,
    EntryKind,
    ImportStatus,
    Invoice,
    InvoiceImport,
    InvoiceImportFile,
    InvoiceLine,
    LedgerEntry,
    StaffRole,
)
from shared.services import actors, ledger
from shared.services.actors import SYSTEM
from shared.services.invoice_import import importer, writer
from tests.factories import make_account, make_staff
from tests.frozen_clock import frozen_clock
from tests.invoice_import_files import (
    SAMPLE_CSV,
    SAMPLE_XLSX,
    csv_bytes,
    ensure_vat_rates,
    row,
    sample_world,
)

pytestmark = frozen_clock


@pytest.fixture
def world(db):
    return sample_world()


def _import(content: bytes, *, name: str = "invoices.csv", actor=SYSTEM, listener=None):
    submitted = importer.start_file(
        content[:8], importer.digest_of(content), file_name=name, actor=actor
    )
    if not submitted.created:
        return submitted
    return importer.run_import(
        submitted.import_id, lambda: io.BytesIO(content), actor=actor, listener=listener
    )


def _count(db, model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _written(db) -> dict[str, int]:
    return {
        "invoices": _count(db, Invoice),
        "lines": _count(db, InvoiceLine),
        "entries": _count(db, LedgerEntry),
        "accounts": _count(db, DebtorAccount),
        "addresses": _count(db, Address),
        "timeline": _count(db, ContactEvent),
        "audit": _count(db, AuditLog, AuditLog.object_type != "invoice_import"),
    }


NOTHING = dict.fromkeys(
    ("invoices", "lines", "entries", "accounts", "addresses", "timeline", "audit"), 0
)


def _three_invoices(**bad) -> list[dict]:
    return [
        row(invoice_number="FS-1", customer_id="C1"),
        row(invoice_number="FS-1", customer_id="C1", line_description="second line"),
        row(invoice_number="FS-2", customer_id="C2", surname="Archer", **bad),
        row(invoice_number="FS-3", customer_id="C1"),
    ]


def test_a_file_with_one_bad_row_is_rejected_whole_naming_the_row_and_nothing_is_written(world, db):
    outcome = _import(csv_bytes(_three_invoices(unit_price="12.5O")))

    assert outcome.status == ImportStatus.REJECTED
    assert outcome.errors == ["Row 4: unit_price '12.5O' is not an amount of money"]
    assert _written(db) == NOTHING
    record = db.session.get(InvoiceImport, outcome.import_id)
    db.session.refresh(record)
    assert record.status == ImportStatus.REJECTED
    assert (record.errors, record.error_count, record.rows_total) == (outcome.errors, 1, 4)
    assert record.finished_at is not None
    [audit] = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.object_type == "invoice_import")
    )
    assert audit.action == "invoice_import.rejected" and audit.after["errors"] == 1


def test_the_errors_of_every_row_are_listed_in_row_order_and_capped(world, db, monkeypatch):
    monkeypatch.setattr(importer, "ERRORS_KEPT", 3)
    rows = [row(invoice_number=f"FS-{n}", quantity="x") for n in range(5)]
    rows.insert(0, row(invoice_number="FS-OK"))

    outcome = _import(csv_bytes(rows))

    assert outcome.error_count == 5
    assert outcome.errors == [f"Row {n}: quantity 'x' is not a whole number" for n in (3, 4, 5)]
    assert _written(db) == NOTHING


def test_the_same_file_twice_changes_nothing_the_second_time(world, db):
    content = csv_bytes(_three_invoices())
    first = _import(content)
    written = _written(db)

    again = _import(content, name="renamed.csv")

    assert first.status == ImportStatus.COMPLETED
    assert again == importer.Submitted(first.import_id, created=False)
    assert _written(db) == written
    assert _count(db, InvoiceImport) == 1


def test_rows_already_imported_are_skipped_and_only_the_new_invoices_written(world, db):
    _import(csv_bytes(_three_invoices()))
    before = _written(db)

    outcome = _import(csv_bytes([*_three_invoices(), row(invoice_number="FS-4", customer_id="C3")]))

    assert outcome.status == ImportStatus.COMPLETED
    assert (outcome.counts.invoices_created, outcome.skipped) == (1, 3)
    after = _written(db)
    assert after["invoices"] == before["invoices"] + 1
    assert after["entries"] == before["entries"] + 1
    assert after["accounts"] == before["accounts"] + 1  # C3 is new; C1 and C2 not touched
    # Only the new account's timeline entry and its creation's audit row.
    assert after["timeline"] == before["timeline"] + 1
    assert after["audit"] == before["audit"] + 1


def test_an_invoice_number_already_used_otherwise_is_an_error_on_the_invoices_first_row(world, db):
    _import(csv_bytes([row(invoice_number="FS-1", customer_id="C1", unit_price="10.00")]))

    outcome = _import(
        csv_bytes(
            [
                row(invoice_number="FS-9", customer_id="C1"),
                row(invoice_number="FS-1", customer_id="C1", unit_price="11.00"),
            ]
        )
    )

    assert outcome.status == ImportStatus.REJECTED
    [message] = outcome.errors
    assert message.startswith("Row 3: invoice number FS-1 is already used, by account A")
    assert message.endswith("'s invoice for £10.00 (customer C1), not customer C1's for £11.00")
    assert _count(db, Invoice) == 1


def test_a_new_customer_gets_an_account_and_a_known_one_is_matched_and_updated_with_audit(
    world, db
):
    known = make_account(
        finance_customer_id="C1", surname="Rogers", forename="Linda", email="old@example.com"
    )
    old_line1 = known.addresses[0].line1
    officer = make_staff(role=StaffRole.OFFICER)

    outcome = _import(csv_bytes(_three_invoices()), actor=actors.staff(officer.id))

    assert (outcome.counts.accounts_created, outcome.counts.accounts_updated) == (1, 1)
    db.session.expire_all()
    matched = db.session.get(DebtorAccount, known.id)
    assert matched.email == "linda@example.com"
    assert matched.title == "Mrs"
    assert matched.primary_address.line1 == "14 Church Lane"
    assert matched.primary_address.postcode_key == "BC14AB"
    assert len(matched.addresses) == 1  # the address was brought up to date, not added
    assert _count(db, Invoice, Invoice.account_id == known.id) == 2
    [update] = db.session.scalars(
        sa.select(AuditLog).where(
            AuditLog.account_id == known.id, AuditLog.action == "account.details_updated"
        )
    )
    assert update.actor_id == officer.id
    assert update.before["email"] == "old@example.com"
    assert update.after["email"] == "linda@example.com"
    assert update.before["address"] == f"{old_line1}, Ambridge, AB1 2CD"
    assert update.after["address"] == "14 Church Lane, Borchester, Borsetshire, BC1 4AB"
    assert "surname" not in update.before  # unchanged fields are not listed

    created = db.session.scalars(
        sa.select(DebtorAccount).where(DebtorAccount.finance_customer_id == "C2")
    ).one()
    assert created.surname == "Archer"
    assert created.reference.startswith("A") and len(created.reference) == 9
    [creation] = db.session.scalars(
        sa.select(AuditLog).where(
            AuditLog.account_id == created.id, AuditLog.action == "account.created"
        )
    )
    assert creation.after["finance_customer_id"] == "C2"


def test_each_account_touched_gets_one_timeline_entry_naming_its_invoices(world, db):
    _import(csv_bytes(_three_invoices()))

    summaries = sorted(db.session.scalars(sa.select(ContactEvent.summary)))
    assert summaries == [
        "2 invoices imported from the finance system (£300.00): FS-1, FS-3",
        "Invoice FS-2 imported from the finance system for £100.00",
    ]


def test_an_imported_invoice_is_in_the_ledger_what_raise_invoice_posts(world, db):
    officer = make_staff(role=StaffRole.OFFICER)
    actor = actors.staff(officer.id)
    lines = [
        row(
            invoice_number="FS-T",
            department_code="TWASTE",
            issue_date="2026-05-04",
            due_date="2026-06-03",
            purchase_order="PO-1",
            line_description="Weekly collection",
            quantity="4",
            unit_price="12.33",
            vat_rate="standard",
        ),
        row(
            invoice_number="FS-T",
            department_code="TWASTE",
            issue_date="2026-05-04",
            due_date="2026-06-03",
            purchase_order="PO-1",
            line_description="Duty of care note",
            quantity="1",
            unit_price="35.00",
            vat_rate="exempt",
        ),
    ]
    _import(csv_bytes(lines), actor=actor)
    imported = db.session.scalars(sa.select(Invoice).where(Invoice.number == "FS-T")).one()
    twin_account = make_account(surname="Twin")
    twin = ledger.raise_invoice(
        account_id=twin_account.id,
        department_id=world["TWASTE"],
        number="TWIN-1",
        issue_date=date(2026, 5, 4),
        due_date=date(2026, 6, 3),
        description=lines[0]["description"],
        lines=[
            ledger.LineInput("Weekly collection", 4, 1233, VatRate.STANDARD),
            ledger.LineInput("Duty of care note", 1, 3500, VatRate.EXEMPT),
        ],
        actor=actor,
        purchase_order="PO-1",
    )

    def invoice_fields(invoice):
        skip = {"id", "number", "account_id", "import_id", "created_at"}
        return {
            c.name: getattr(invoice, c.key) for c in Invoice.__table__.columns if c.name not in skip
        }

    def line_fields(invoice):
        skip = {"id", "invoice_id"}
        return [
            {
                c.name: getattr(line, c.key)
                for c in InvoiceLine.__table__.columns
                if c.name not in skip
            }
            for line in invoice.lines
        ]

    def entry_fields(invoice):
        skip = {"id", "account_id", "invoice_id", "created_at"}
        [entry] = db.session.scalars(
            sa.select(LedgerEntry).where(LedgerEntry.invoice_id == invoice.id)
        )
        return {
            c.name: getattr(entry, c.key)
            for c in LedgerEntry.__table__.columns
            if c.name not in skip
        }

    assert invoice_fields(imported) == invoice_fields(twin)
    assert line_fields(imported) == line_fields(twin)
    assert entry_fields(imported) == entry_fields(twin)
    assert entry_fields(imported)["kind"] == EntryKind.INVOICE
    assert imported.total_pence == 4 * 1233 + 986 + 3500  # VAT 20% of £49.32 is £9.86


def test_an_invoice_issued_when_vat_was_17_and_a_half_percent_is_charged_that(world, db):
    _import(csv_bytes([row(issue_date="2010-03-01", unit_price="100.00", vat_rate="standard")]))
    [line] = db.session.scalars(sa.select(InvoiceLine))
    assert (line.vat_basis_points, line.vat_pence) == (1750, 1750)


def test_progress_is_counted_for_each_pass_and_stored_on_the_import(world, db):
    heard = []
    rows = [row(invoice_number=f"FS-{n}", customer_id=f"C{n % 7}") for n in range(1200)]
    # C0..C6 keep one set of details each: the same row() values.

    outcome = _import(csv_bytes(rows), listener=lambda *a: heard.append(a))

    assert outcome.status == ImportStatus.COMPLETED
    statuses = [status for status, _, _ in heard]
    assert statuses[0] == ImportStatus.VALIDATING and statuses[-1] == ImportStatus.IMPORTING
    assert (ImportStatus.VALIDATING, 1200, None) in heard
    assert heard[-1] == (ImportStatus.IMPORTING, 1200, 1200)
    record = db.session.get(InvoiceImport, outcome.import_id)
    db.session.refresh(record)
    assert (record.rows_total, record.rows_processed, record.invoices_created) == (1200, 1200, 1200)
    assert record.accounts_created == 7


def test_an_error_while_writing_leaves_nothing_and_marks_the_import_failed(world, db, monkeypatch):
    def broken(self):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(writer.Writer, "_timeline", broken)

    with pytest.raises(RuntimeError, match="the disk is full"):
        _import(csv_bytes(_three_invoices()))

    assert _written(db) == NOTHING
    record = db.session.scalars(sa.select(InvoiceImport)).one()
    assert record.status == ImportStatus.FAILED
    assert record.errors == ["The import stopped on an error (RuntimeError): nothing was imported"]
    # A failed file may be imported again, and then goes in.
    monkeypatch.undo()
    ensure_vat_rates()
    assert _import(csv_bytes(_three_invoices())).status == ImportStatus.COMPLETED


def test_the_xlsx_sample_imports_the_same_invoices_as_the_csv_sample(world, db):
    from_csv = _import(SAMPLE_CSV.read_bytes())
    csv_invoices = {
        i.number: (i.total_pence, i.due_date) for i in db.session.scalars(sa.select(Invoice))
    }
    assert from_csv.counts.invoices_created == 5
    assert csv_invoices["FS2026-000102"][0] == 597_260  # £4,938 + £987.60 + £12 + £35

    # The same invoices from the workbook are already imported: all skipped.
    from_xlsx = _import(SAMPLE_XLSX.read_bytes(), name="invoices.xlsx")
    assert from_xlsx.status == ImportStatus.COMPLETED
    assert (from_xlsx.counts.invoices_created, from_xlsx.skipped) == (0, 5)


def test_a_queued_upload_runs_from_its_stored_file_which_is_then_deleted(world, db):
    officer = make_staff(role=StaffRole.OFFICER)
    submitted = importer.submit_file(
        SAMPLE_XLSX.read_bytes(), file_name="invoices.xlsx", actor=actors.staff(officer.id)
    )
    assert _count(db, InvoiceImportFile) == 1

    outcome = importer.run_stored_import(submitted.import_id)

    assert outcome.status == ImportStatus.COMPLETED
    assert outcome.counts.invoices_created == 5
    assert _count(db, InvoiceImportFile) == 0
    assert importer.run_stored_import(submitted.import_id) is None  # run once
    entry = db.session.scalars(sa.select(LedgerEntry)).first()
    assert entry.created_by_staff_id == officer.id


def test_an_empty_or_oversized_upload_is_refused_before_anything_is_kept(world, db, monkeypatch):
    with pytest.raises(importer.InvalidRequest, match="The file is empty"):
        importer.submit_file(b"", file_name="x.csv", actor=SYSTEM)
    monkeypatch.setattr(importer, "MAX_FILE_BYTES", 10)
    with pytest.raises(importer.InvalidRequest, match="must be smaller than"):
        importer.submit_file(b"x" * 11, file_name="x.csv", actor=SYSTEM)
    assert _count(db, InvoiceImport) == 0
