"""Invoice files for the import's tests: rows as dicts in the layout of
docs/invoice-import.md, written as CSV or XLSX, and the database they fit (the
departments named, the VAT history)."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from shared.domain.invoice_import import NAMES
from shared.domain.vat import VatRate
from shared.extensions import db
from shared.models import VatRatePeriod
from tests.factories import make_department

SAMPLES = Path(__file__).resolve().parent.parent / "docs" / "samples"
SAMPLE_CSV = SAMPLES / "invoices.csv"
SAMPLE_XLSX = SAMPLES / "invoices.xlsx"
SAMPLE_DEPARTMENTS = ("ASC", "TWASTE", "RENTS", "LICENSING")

# Migration 0019's history of UK rates: PostgreSQL test databases are emptied with
# TRUNCATE between tests, seeded rows included, so tests put it back.
VAT_HISTORY = (
    (VatRate.STANDARD, date(1991, 4, 1), 1750),
    (VatRate.STANDARD, date(2008, 12, 1), 1500),
    (VatRate.STANDARD, date(2010, 1, 1), 1750),
    (VatRate.STANDARD, date(2011, 1, 4), 2000),
    (VatRate.REDUCED, date(1997, 9, 1), 500),
    (VatRate.ZERO, date(1973, 4, 1), 0),
    (VatRate.EXEMPT, date(1973, 4, 1), 0),
    (VatRate.OUTSIDE_SCOPE, date(1973, 4, 1), 0),
)


def ensure_vat_rates() -> None:
    if db.session.scalar(sa.select(sa.func.count(VatRatePeriod.id))):
        return
    db.session.add_all(
        VatRatePeriod(rate=rate, valid_from=start, basis_points=bp)
        for rate, start, bp in VAT_HISTORY
    )
    db.session.commit()


def sample_world() -> dict[str, int]:
    """The departments the sample files name, and the VAT history: department ids by code."""
    ensure_vat_rates()
    return {code: make_department(code).id for code in SAMPLE_DEPARTMENTS}


def row(**overrides) -> dict[str, object]:
    """One line of one invoice for a person, every column filled in; override any."""
    base = {
        "customer_id": "FIN00000001",
        "customer_kind": "person",
        "title": "Mrs",
        "forename": "Linda",
        "surname": "Rogers",
        "organisation_name": "",
        "company_number": "",
        "address_line1": "14 Church Lane",
        "address_line2": "",
        "town": "Borchester",
        "county": "Borsetshire",
        "postcode": "BC1 4AB",
        "email": "linda@example.com",
        "mobile": "07700 900123",
        "invoice_number": "FS-1",
        "department_code": "ASC",
        "income_code": "",
        "issue_date": "2026-06-01",
        "due_date": "",
        "description": "Care contributions for May 2026",
        "purchase_order": "",
        "line_description": "Residential care contribution",
        "quantity": "1",
        "unit_price": "100.00",
        "vat_rate": "outside_scope",
    }
    unknown = set(overrides) - set(base)
    assert not unknown, f"not columns of the layout: {unknown}"
    return base | overrides


def csv_bytes(rows: list[dict], *, bom: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(NAMES)
    for r in rows:
        writer.writerow(["" if r.get(name) is None else r.get(name) for name in NAMES])
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode()


def xlsx_bytes(rows: list[dict]) -> bytes:
    """The rows in a workbook as Excel keeps them: cells typed as given (dates, floats)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Invoices"
    sheet.append(list(NAMES))
    for r in rows:
        sheet.append([None if r.get(name) in ("", None) else r.get(name) for name in NAMES])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def typed_like_excel(r: dict) -> dict:
    """A CSV row's cells as Excel would type them: dates as dates, amounts and
    quantities as numbers (floats), empty cells as nothing."""
    typed = dict(r)
    for name in ("issue_date", "due_date"):
        if r.get(name):
            typed[name] = date.fromisoformat(str(r[name]))
    typed["quantity"] = float(r["quantity"])
    typed["unit_price"] = float(str(r["unit_price"]).replace("£", "").replace(",", ""))
    return typed


def sample_rows() -> list[dict]:
    with SAMPLE_CSV.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def write_sample_xlsx() -> None:
    """docs/samples/invoices.xlsx from docs/samples/invoices.csv (run by hand when the
    CSV changes: `.venv/bin/python -c 'from tests.invoice_import_files import
    write_sample_xlsx; write_sample_xlsx()'`; a test checks the two read the same)."""
    SAMPLE_XLSX.write_bytes(xlsx_bytes([typed_like_excel(r) for r in sample_rows()]))
