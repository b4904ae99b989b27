"""The parts every management report is made of: filters read from a URL, charts as
SVG with their text alternative, and the CSV, XLSX and text exports."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook

from shared.reports.base import (
    Chart,
    Column,
    ReportResult,
    ReportTable,
    Series,
    parse_filters,
)
from shared.reports.charts import axis_label, render_chart, summarise
from shared.reports.export import UnknownTable, to_csv, to_text, to_xlsx

TODAY = date(2026, 12, 7)
CODES = {"TW", "ASC"}


def _parse(**args):
    return parse_filters(args, today=TODAY, department_codes=lambda: CODES)


def test_filters_default_to_today_and_the_financial_year_so_far():
    filters, errors = _parse()
    assert errors == {}
    assert filters.as_at == TODAY
    assert (filters.date_from, filters.date_to) == (date(2026, 4, 1), TODAY)
    assert filters.financial_year == 2026
    assert filters.department_code is None


def test_filters_read_dates_as_people_type_them_and_keep_report_parameters():
    filters, errors = _parse(
        as_at="31/3/2026",
        **{"from": "2026-01-01", "to": "31 3 2026"},
        department="tw",
        bucket="1_30",
    )
    assert errors == {}
    assert filters.as_at == date(2026, 3, 31)
    assert (filters.date_from, filters.date_to) == (date(2026, 1, 1), date(2026, 3, 31))
    assert filters.department_code == "TW"
    assert filters.params == {"bucket": "1_30"}
    assert filters.query()["department"] == "TW" and filters.query()["bucket"] == "1_30"


def test_each_bad_filter_is_an_error_naming_its_field():
    _, errors = _parse(as_at="31/2/2026", **{"from": "2026-12-01", "to": "2026-11-01"}, year="1999")
    assert set(errors) == {"as_at", "to", "year"}
    assert "real date" in errors["as_at"]
    assert "on or after its start" in errors["to"]
    _, errors = _parse(as_at="2027-01-01", department="NOPE")
    assert "today or in the past" in errors["as_at"]
    assert errors["department"] == "There is no department with the code NOPE"


def test_a_future_financial_year_is_refused():
    _, errors = _parse(year="2027")
    assert "2000 to 2026" in errors["year"]


CHART = Chart(
    title="Collected by month",
    categories=("Apr", "May", "Jun"),
    series=(
        Series("Card online", (1000_00, 2500_00, 0)),
        Series("Direct Debit", (500_00, 0, 300_00)),
    ),
    kind="stacked",
    target=3000_00,
    target_label="Target",
)


def test_a_chart_is_an_svg_image_labelled_by_its_title_and_a_summary_of_its_numbers():
    html = str(render_chart(CHART))
    assert 'role="img"' in html
    title_id = html.split('id="', 1)[1].split('"', 1)[0]
    assert f'aria-labelledby="{title_id} ' in html
    assert "Card online: £3,500.00 in all, the most in May (£2,500.00)." in html
    assert "Target: £3,000.00." in html
    # Each bar says its exact value on hover; nothing drawn for a zero.
    assert "<title>Card online, May: £2,500.00</title>" in html
    assert "Card online, Jun" not in html
    # A legend in HTML, the target dashed.
    assert html.count("<li class") == 3 and 'stroke-dasharray="6 4"' in html
    assert "style=" not in html  # the CSP forbids inline styles


def test_stacked_bars_reach_the_sum_of_their_segments_and_the_axis_covers_the_target():
    html = str(render_chart(CHART))
    assert ">£3k<" in html  # the target's gridline is drawn
    grouped = str(
        render_chart(Chart("x", ("A",), (Series("s", (5,)), Series("t", (-5,))), "count"))
    )
    assert ">-6<" in grouped and ">6<" in grouped  # the axis covers both signs


def test_a_chart_of_nothing_says_so_and_draws_no_svg():
    html = str(render_chart(Chart("Empty", (), ())))
    assert "There is nothing to show." in html and "<svg class" not in html


def test_rates_are_summarised_as_a_range_not_a_total():
    chart = Chart("Rate", ("Q1", "Q2"), (Series("Rate", (9000, 9550)),), value_kind="percent")
    assert summarise(chart) == "Rate: from 90.0% (Q1) to 95.5% (Q2)."


def test_axis_labels_are_short():
    assert axis_label(123_456_789_00, "money") == "£123m"
    assert axis_label(35_000_00, "money") == "£35k"
    assert axis_label(9500, "percent") == "95%"
    assert axis_label(1200, "count") == "1,200"


RESULT = ReportResult(
    title="Aged debt",
    description="d",
    scope="As at 7 December 2026",
    tables=[
        ReportTable(
            "accounts",
            "Accounts",
            (
                Column("name", "Name"),
                Column("owed", "Owed", "money"),
                Column("rate", "Rate", "percent"),
                Column("due", "Due", "date"),
            ),
            rows=[
                {
                    "name": '=HYPERLINK("http://x")',
                    "owed": 123456,
                    "rate": 9512,
                    "due": date(2026, 1, 2),
                },
                {"name": "Ann Jones", "owed": -5, "rate": None, "due": None},
            ],
            totals={"owed": 123451},
        ),
        ReportTable("second", "Second table", (Column("n", "N", "count"),), rows=[{"n": 3}]),
    ],
)


def test_csv_keeps_numbers_as_numbers_and_text_that_looks_like_a_formula_as_text():
    rows = list(csv.reader(io.StringIO(to_csv(RESULT, "accounts").decode("utf-8-sig"))))
    assert rows[0] == ["Name", "Owed", "Rate", "Due"]
    assert rows[1] == ['\'=HYPERLINK("http://x")', "1234.56", "95.12", "2026-01-02"]
    assert rows[2] == ["Ann Jones", "-0.05", "", ""]
    whole = ReportTable(
        "t", "T", (Column("owed", "Owed", "money"), Column("r", "R", "percent")), []
    )
    assert to_csv(ReportResult("x", "y", tables=[whole])).decode("utf-8-sig") == "Owed,R\r\n"
    pounds = [{"owed": 100000, "r": 9500}]
    written = to_csv(ReportResult("x", "y", tables=[ReportTable("t", "T", whole.columns, pounds)]))
    assert written.decode("utf-8-sig").splitlines()[1] == "1000.00,95.00"
    assert rows[3] == ["Total", "1234.51", "", ""]


def test_csv_of_several_tables_heads_each_with_its_caption():
    text = to_csv(RESULT).decode("utf-8-sig")
    assert text.startswith("Accounts\r\nName,Owed")
    assert "\r\n\r\nSecond table\r\nN\r\n3\r\n" in text


def test_asking_for_a_table_a_report_does_not_have_names_the_ones_it_has():
    try:
        to_csv(RESULT, "nope")
    except UnknownTable as exc:
        assert "accounts, second" in str(exc)
    else:
        raise AssertionError("no error")


def test_xlsx_has_a_sheet_per_table_with_real_numbers_dates_and_formula_free_text():
    book = load_workbook(io.BytesIO(to_xlsx(RESULT)))
    assert book.sheetnames == ["Accounts", "Second table"]
    sheet = book["Accounts"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Aged debt" and values[1][0] == "As at 7 December 2026"
    header = values.index(["Name", "Owed", "Rate", "Due"])
    first = sheet.cell(row=header + 2, column=1)
    assert first.value == '=HYPERLINK("http://x")' and first.data_type == "s"
    owed = sheet.cell(row=header + 2, column=2)
    assert float(owed.value) == 1234.56 and owed.number_format == "£#,##0.00"
    assert float(sheet.cell(row=header + 2, column=3).value) == 0.9512
    assert sheet.cell(row=header + 2, column=4).value.date() == date(2026, 1, 2)
    assert sheet.cell(row=header + 4, column=1).value == "Total"


def test_the_text_export_aligns_columns_for_a_terminal():
    text = to_text(RESULT, "accounts")
    assert "Aged debt\nAs at 7 December 2026\n\nAccounts\n" in text
    assert "£1,234.56" in text and "95.1%" in text and "Total" in text
