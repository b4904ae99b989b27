"""Every registered management report, through the generic pages: the index lists what
a person may open, each report renders with its defaults and downloads as CSV and XLSX
(each download on the audit log), a bad filter is a field error that runs nothing, and
no query string, however odd, makes a report fail. The command line offers the same
reports with the same filters."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from shared.models import AuditLog, StaffRole
from shared.reports.registry import all_reports
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import error_summary, parse

pytestmark = frozen_clock

KEYS = [r.key for r in all_reports()]
LISTED = [r.key for r in all_reports() if r.listed]


@pytest.fixture
def leader(client, db):
    make_department("TW", name="Trade waste")
    make_account()
    person = make_staff(role=StaffRole.TEAM_LEADER, full_name="Tess Leader")
    signed_in_session(client, person)
    return person


def test_the_reports_are_registered():
    assert {"aged-debt", "collection", "write-offs", "reconciliation"} <= set(KEYS)


def test_the_index_lists_every_report_a_team_leader_may_open(client, leader):
    page = client.get("/backoffice/reports")
    assert page.status_code == 200
    links = {a["href"].split("?")[0] for a in parse(page).select("main a")}
    for key in LISTED:
        assert f"/backoffice/reports/{key}" in links


def test_an_officer_sees_only_their_own_activity_listed_and_may_not_open_the_rest(client, db):
    officer = make_staff(role=StaffRole.OFFICER)
    signed_in_session(client, officer)
    page = client.get("/backoffice/reports")
    hrefs = {a["href"].split("?")[0] for a in parse(page).select("main dl a")}
    assert hrefs == {"/backoffice/reports/officer-activity"}
    assert client.get("/backoffice/reports/aged-debt").status_code == 403
    assert client.get("/backoffice/reports/aged-debt/export.csv").status_code == 403


def test_a_service_department_user_has_no_reports(client, db):
    department = make_department("TW", name="Trade waste")
    person = make_staff(role=StaffRole.SERVICE_DEPARTMENT, department_id=department.id)
    signed_in_session(client, person)
    assert client.get("/backoffice/reports").status_code == 403


@pytest.mark.parametrize("key", LISTED)
def test_each_report_renders_with_its_defaults_and_offers_both_downloads(client, leader, key):
    page = client.get(f"/backoffice/reports/{key}")
    assert page.status_code == 200
    html = parse(page)
    assert html.select_one("h1").get_text(strip=True)
    assert html.select("table.govuk-table"), "a report shows its figures in a table"
    for svg in html.select("figure.app-chart svg.app-chart__svg"):
        assert svg["role"] == "img" and svg["aria-labelledby"]
    downloads = [a["href"] for a in html.select("a[href*='/export.']")]
    assert any(".xlsx?" in h or h.endswith(".xlsx") for h in downloads)
    assert any(".csv?" in h or h.endswith(".csv") for h in downloads)


@pytest.mark.parametrize("key", LISTED)
def test_each_report_downloads_as_csv_and_xlsx_and_each_download_is_audited(
    client, leader, db, key
):
    as_csv = client.get(f"/backoffice/reports/{key}/export.csv")
    assert as_csv.status_code == 200
    assert as_csv.mimetype == "text/csv"
    assert f'filename="{key}-' in as_csv.headers["Content-Disposition"]
    assert list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    as_xlsx = client.get(f"/backoffice/reports/{key}/export.xlsx")
    assert as_xlsx.status_code == 200
    assert load_workbook(io.BytesIO(as_xlsx.data)).sheetnames
    audited = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "report.exported", AuditLog.object_id == key)
    ).all()
    assert sorted(a.after["format"] for a in audited) == ["csv", "xlsx"]
    assert all(a.actor_id == leader.id for a in audited)


def test_an_unknown_report_or_format_is_not_found(client, leader):
    assert client.get("/backoffice/reports/no-such-report").status_code == 404
    assert client.get("/backoffice/reports/aged-debt/export.pdf").status_code == 404


def test_a_bad_filter_is_a_field_error_and_nothing_is_run_or_exported(client, leader, db):
    page = client.get("/backoffice/reports/collection?from=2026-05-01&to=2026-04-01&department=ZZ")
    assert page.status_code == 200
    html = parse(page)
    summary = error_summary(html)
    assert ("The end of the period must be on or after its start", "#to") in summary
    assert ("There is no department with the code ZZ", "#department") in summary
    assert html.select_one("#to-error") and html.select_one("#department-error")
    assert not html.select("table.govuk-table")
    # What was typed stays in the field, to be put right.
    assert html.select_one("input#to")["value"] == "2026-04-01"
    refused = client.get("/backoffice/reports/collection/export.csv?to=31/2/2026")
    assert refused.status_code == 400
    assert not db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "report.exported")
    ).all()


ODD = [
    "",
    " ",
    "0",
    "-1",
    "99999999999999999999",
    "2026-02-30",
    "31/12/9999",
    "x" * 300,
    "'; DROP TABLE invoices; --",
    "\u0000",
    "ª",
    "1_30",
    "over_365",
    "none",
    "TW",
]


@pytest.mark.parametrize("key", KEYS)
def test_no_query_string_makes_a_report_fail(client, leader, key):
    names = [
        "as_at",
        "from",
        "to",
        "year",
        "department",
        "bucket",
        "stage",
        "after",
        "day",
        "channel",
        "page",
        "table",
    ]
    for n, value in enumerate(ODD):
        query = {names[(n + i) % len(names)]: value for i in range(4)}
        response = client.get(f"/backoffice/reports/{key}", query_string=query)
        assert response.status_code < 500, (key, query)


def test_the_command_line_lists_the_reports_and_writes_one_as_csv(app, db):
    make_department("TW", name="Trade waste")
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["reports", "list"])
    assert listed.exit_code == 0
    for key in KEYS:
        assert key in listed.output
    written = runner.invoke(args=["reports", "collection", "--format", "csv", "--department", "tw"])
    assert written.exit_code == 0, written.output
    assert "Department" in written.output or "Month" in written.output


def test_the_command_line_refuses_a_bad_filter_saying_which(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reports", "aged-debt", "--as-at", "31/2/2026"])
    assert result.exit_code == 1
    assert "as_at: The date the figures are as at must be a real date" in result.output
    result = runner.invoke(args=["reports", "aged-debt", "--format", "xlsx"])
    assert result.exit_code == 1 and "--format xlsx needs --output" in result.output
    result = runner.invoke(args=["reports", "aged-debt", "--param", "oops"])
    assert result.exit_code == 2 and "NAME=VALUE" in result.output


def test_the_command_line_writes_xlsx_to_a_file(app, db, tmp_path):
    make_department("TW", name="Trade waste")
    target = tmp_path / "aged.xlsx"
    result = app.test_cli_runner().invoke(
        args=["reports", "aged-debt", "--format", "xlsx", "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert load_workbook(target).sheetnames
