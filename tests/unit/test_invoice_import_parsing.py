"""Reading the finance system's invoice files (pure: no database): both formats, the
awkward cells real exports carry, and the rules that put rows together into invoices.
Expected pence are worked out by hand in each test, not by the code under test."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest

from shared.domain.invoice_import import (
    Assembler,
    Department,
    Facts,
    FileError,
    FileFormat,
    RawRow,
    detect_format,
    estimated_rows,
    parse_row,
    read_rows,
)
from shared.domain.vat import RatePeriod
from tests.invoice_import_files import (
    SAMPLE_CSV,
    SAMPLE_XLSX,
    VAT_HISTORY,
    csv_bytes,
    row,
    xlsx_bytes,
)

FACTS = Facts(
    departments={"ASC": Department(1, 30), "TWASTE": Department(2, 14)},
    income_codes={(1, "ASC-01"): (11, True), (1, "OLD"): (12, False)},
    vat_periods=[RatePeriod(rate, start, bp) for rate, start, bp in VAT_HISTORY],
)


def _rows(content: bytes, file_format=FileFormat.CSV) -> list[RawRow]:
    return list(read_rows(io.BytesIO(content), file_format))


def _parse(**overrides):
    return parse_row(RawRow(2, row(**overrides)), FACTS)


def _error(**overrides) -> str:
    result = _parse(**overrides)
    assert isinstance(result, list), f"expected an error, got {result}"
    [message] = result
    return message


# --- reading files -------------------------------------------------------------------


def test_a_csv_with_a_byte_order_mark_and_blank_lines_reads_its_rows_with_spreadsheet_numbers():
    content = csv_bytes([row(), row(invoice_number="FS-2")], bom=True)
    header, first, second = content.split(b"\r\n", 2)
    content = header + b"\r\n\r\n" + first + b"\r\n,,,\r\n" + second + b"\r\n\r\n"

    rows = _rows(content)

    assert [r.number for r in rows] == [3, 5]
    assert rows[0].cells["customer_id"] == "FIN00000001"  # the BOM is not in the first name
    assert rows[1].cells["invoice_number"] == "FS-2"


def test_columns_are_found_by_name_in_any_order_and_case():
    content = b"Unit_Price , customer_id\r\n12.50,C1\r\n"
    with pytest.raises(FileError, match="missing columns customer_kind"):
        _rows(content)
    names = ",".join(f" {n.upper()} " for n in reversed(row().keys()))
    values = ",".join(str(v) for v in reversed(row().values()))
    [found] = _rows(f"{names}\r\n{values}\r\n".encode())
    assert found.cells == row()


def test_an_unknown_column_is_refused_naming_it_rather_than_dropped():
    content = csv_bytes([row()]).replace(b"unit_price", b"unit_prce", 1)
    with pytest.raises(FileError) as refused:
        _rows(content)
    assert str(refused.value) == (
        "Row 1: the header does not follow the layout in docs/invoice-import.md: "
        "missing column unit_price; unknown column unit_prce"
    )


def test_a_csv_that_is_not_utf8_is_refused_with_the_row():
    content = csv_bytes([row(surname="Rogers")]).replace(b"Rogers", "Rögers".encode("cp1252"))
    with pytest.raises(
        FileError, match=r'Row 2: the file is not UTF-8 text \(save it as "CSV UTF-8"\)'
    ):
        _rows(content)


def test_an_xlsx_reads_typed_cells_dates_and_floats():
    content = xlsx_bytes(
        [row(issue_date=datetime(2026, 6, 1), quantity=3.0, unit_price=12.5, company_number=None)]
    )
    [found] = _rows(content, FileFormat.XLSX)
    assert found.number == 2
    assert found.cells["issue_date"] == datetime(2026, 6, 1)
    assert found.cells["quantity"] == 3
    assert found.cells["unit_price"] == 12.5


def test_the_format_is_told_from_the_bytes_not_the_name():
    assert detect_format(b"PK\x03\x04rest", "invoices.csv") == FileFormat.XLSX
    assert detect_format(b"customer_id,", "invoices.csv") == FileFormat.CSV
    with pytest.raises(FileError, match="named .xlsx but is not an Excel workbook"):
        detect_format(b"customer_id,", "invoices.xlsx")


def test_a_broken_xlsx_is_refused_as_a_file():
    with pytest.raises(FileError, match="The Excel workbook cannot be read"):
        _rows(b"PK\x03\x04 not really a zip", FileFormat.XLSX)


def test_the_row_estimate_counts_csv_lines_and_leaves_the_stream_at_its_start():
    stream = io.BytesIO(csv_bytes([row(), row(), row()]))
    assert estimated_rows(stream, FileFormat.CSV) == 3
    assert stream.tell() == 0


def test_the_two_samples_read_the_same_invoices():
    csv_rows = [parse_row(r, _sample_facts()) for r in _rows(SAMPLE_CSV.read_bytes())]
    xlsx_rows = [
        parse_row(r, _sample_facts()) for r in _rows(SAMPLE_XLSX.read_bytes(), FileFormat.XLSX)
    ]
    assert len(csv_rows) == 8
    assert csv_rows == xlsx_rows


def _sample_facts() -> Facts:
    codes = ("ASC", "TWASTE", "RENTS", "LICENSING")
    return Facts(
        departments={code: Department(n, 30) for n, code in enumerate(codes, start=1)},
        income_codes={},
        vat_periods=FACTS.vat_periods,
    )


# --- one row ------------------------------------------------------------------------


def test_a_good_row_is_read_with_vat_at_the_rate_in_force_on_the_issue_date():
    parsed = _parse(unit_price="£1,234.50", quantity="2", vat_rate="Standard")
    assert parsed.line.unit_price_pence == 123_450
    assert parsed.line.net_pence == 246_900
    assert parsed.line.vat_basis_points == 2000
    assert parsed.line.vat_pence == 49_380  # 20% of £2,469.00
    assert parsed.header.due_date == date(2026, 7, 1)  # ASC's 30 days' terms
    assert parsed.customer.postcode == "BC1 4AB"


def test_an_invoice_dated_in_2010_is_charged_the_17_and_a_half_percent_then_in_force():
    parsed = _parse(issue_date="2010-06-30", unit_price="10.00", vat_rate="standard")
    assert parsed.line.vat_basis_points == 1750
    assert parsed.line.vat_pence == 175  # 17.5% of £10.00


@pytest.mark.parametrize(
    ("cell", "pence"),
    [
        ("12.5", 1250),
        ("£1,234.50", 123_450),
        (" 7 ", 700),
        ("0", 0),
        (12.5, 1250),  # Excel's double for 12.50
        (0.1 + 0.2, 30),  # 0.30000000000000004: Excel shows 0.30
        (19.99, 1999),
        (3, 300),
    ],
)
def test_amounts_of_money_are_read_from_text_and_from_excels_numbers(cell, pence):
    assert _parse(unit_price=cell).line.unit_price_pence == pence


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("abc", "Row 2: unit_price 'abc' is not an amount of money"),
        ("-5.00", "Row 2: unit_price '-5.00' must not be negative"),
        ("£-5.00", "Row 2: unit_price '£-5.00' must not be negative"),
        (-5.0, "Row 2: unit_price '-5' must not be negative"),
        ("12.345", "Row 2: unit_price '12.345' has more than 2 decimal places"),
        (12.345, "Row 2: unit_price '12.345' has more than 2 decimal places"),
        ("", "Row 2: unit_price is blank"),
        ("20000000", "Row 2: unit_price '20000000' is more than £10,000,000.00"),
        (True, "Row 2: unit_price 'TRUE' is not an amount of money"),
    ],
)
def test_a_bad_amount_says_which_row_column_and_cell(cell, message):
    assert _error(unit_price=cell) == message


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"quantity": "2.5"}, "Row 2: quantity '2.5' is not a whole number"),
        ({"quantity": "0"}, "Row 2: quantity '0' must be between 1 and 1,000,000"),
        (
            {"issue_date": "31/02/2026"},
            "Row 2: issue_date '31/02/2026' is not a date like 2026-03-27",
        ),
        ({"due_date": "2026-05-01"}, "Row 2: due_date '2026-05-01' is before the issue_date"),
        ({"department_code": "PARKS"}, "Row 2: department_code 'PARKS' is not a department's code"),
        ({"income_code": "NOPE"}, "Row 2: income_code 'NOPE' is not one of ASC's income codes"),
        ({"income_code": "old"}, "Row 2: income_code 'old' is retired"),
        (
            {"vat_rate": "20%"},
            "Row 2: vat_rate '20%' is not one of standard, reduced, zero, exempt, outside_scope",
        ),
        (
            {"customer_kind": "company"},
            "Row 2: customer_kind 'company' is not person or organisation",
        ),
        ({"surname": ""}, "Row 2: surname is blank"),
        ({"customer_kind": "organisation"}, "Row 2: organisation_name is blank"),
        ({"postcode": "NOT A CODE"}, "Row 2: postcode 'NOT A CODE' is not a UK postcode"),
        (
            {"email": "linda.example.com"},
            "Row 2: email 'linda.example.com' is not an email address",
        ),
        (
            {"invoice_number": "X" * 21},
            "Row 2: invoice_number '" + "X" * 21 + "' is longer than 20 characters",
        ),
        ({"description": "d" * 301}, "Row 2: description is 301 characters; at most 300 fit"),
        (
            {"issue_date": "1960-01-01", "vat_rate": "reduced"},
            "Row 2: No reduced VAT rate was in force on 1 January 1960",
        ),
    ],
)
def test_each_rule_names_the_row_and_column(overrides, message):
    assert _error(**overrides) == message


def test_every_problem_of_a_row_is_listed_not_only_the_first():
    errors = _parse(quantity="x", unit_price="y", town="")
    assert errors == [
        "Row 2: town is blank",
        "Row 2: quantity 'x' is not a whole number",
        "Row 2: unit_price 'y' is not an amount of money",
    ]


def test_an_income_code_of_the_department_is_found_in_any_case():
    assert _parse(income_code="asc-01").header.income_code_id == 11


def test_a_person_keeps_no_organisation_fields_and_an_organisation_no_personal_name():
    person = _parse(organisation_name="Ignored Ltd").customer
    assert person.organisation_name is None and person.surname == "Rogers"
    organisation = _parse(
        customer_kind="Organisation", organisation_name="The Bull Inn", company_number="0456 7812"
    ).customer
    assert (organisation.kind, organisation.surname, organisation.company_number) == (
        "organisation",
        None,
        "04567812",
    )


# --- rows into invoices --------------------------------------------------------------


def _assemble(rows: list[dict]):
    assembler, errors, invoices = Assembler(), [], []
    for n, r in enumerate(rows, start=2):
        parsed = parse_row(RawRow(n, r), FACTS)
        assert not isinstance(parsed, list), parsed
        found, invoice = assembler.add(parsed)
        errors += found
        invoices += [invoice] if invoice else []
    found, invoice = assembler.finish()
    return errors + found, invoices + ([invoice] if invoice else [])


def test_rows_with_one_invoice_number_are_one_invoice_with_its_lines_in_order():
    errors, invoices = _assemble(
        [
            row(
                invoice_number="A",
                line_description="first",
                unit_price="10.00",
                vat_rate="standard",
            ),
            row(invoice_number="A", line_description="second", unit_price="5.00"),
            row(invoice_number="B"),
        ]
    )
    assert errors == []
    assert [i.header.invoice_number for i in invoices] == ["A", "B"]
    first = invoices[0]
    assert [line.description for line in first.lines] == ["first", "second"]
    assert (first.net_pence, first.vat_pence, first.total_pence) == (1500, 200, 1700)
    assert first.first_row == 2


def test_rows_of_one_invoice_must_agree_on_its_header():
    errors, _ = _assemble(
        [row(invoice_number="A"), row(invoice_number="A", issue_date="2026-06-02", description="x")]
    )
    assert errors == ["Row 3: issue_date, description differ from row 2's, for the same invoice A"]


def test_an_invoices_rows_must_be_together():
    errors, _ = _assemble(
        [row(invoice_number="A"), row(invoice_number="B"), row(invoice_number="A")]
    )
    assert errors == [
        "Row 4: invoice A began at row 2, and other invoices' rows came between: "
        "keep an invoice's rows together"
    ]


def test_a_customer_must_have_the_same_details_on_every_row():
    errors, _ = _assemble([row(invoice_number="A"), row(invoice_number="B", postcode="BC1 4AC")])
    assert errors == [
        "Row 3: customer FIN00000001's name, address or contact details differ from row 2's "
        "(every row of a customer must give the same details)"
    ]


def test_an_invoice_for_nothing_is_refused():
    errors, invoices = _assemble([row(unit_price="0.00")])
    assert errors == ["Row 2: invoice FS-1 comes to £0.00; an invoice must be for more than £0"]
    assert invoices == []
