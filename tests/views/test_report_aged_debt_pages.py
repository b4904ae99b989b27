"""The aged-debt report through the generic report pages and the command line: the
figures as at a past date, a cell's link to the accounts behind it, each account's
link to its case, a bad drill-down parameter as a field error, and the CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from shared.models import PaymentMethod, StaffRole
from shared.services import ledger
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import error_summary, parse, text

pytestmark = frozen_clock


def on(time_machine, day: date) -> None:
    time_machine.move_to(datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC), tick=True)


@pytest.fixture
def book(db, time_machine):
    """Trade waste: one debtor owing £1,000 from 1 February, £400 paid on 10 April."""
    waste = make_department("TW", name="Trade waste")
    account = make_account(surname="Archer", reference="AC0000001")
    on(time_machine, date(2026, 1, 2))
    ledger.raise_invoice(
        account_id=account.id,
        department_id=waste.id,
        number="INV-1",
        issue_date=date(2026, 1, 2),
        due_date=date(2026, 2, 1),
        description="Bin lifts",
        lines=[ledger.LineInput("Bin lifts", 1, 100_000)],
        actor=SYSTEM,
    )
    on(time_machine, date(2026, 4, 10))
    ledger.record_payment(
        account_id=account.id, amount_pence=40_000, method=PaymentMethod.CHEQUE, actor=SYSTEM
    )
    on(time_machine, TODAY)
    return account


@pytest.fixture
def leader(client, db):
    person = make_staff(role=StaffRole.TEAM_LEADER)
    signed_in_session(client, person)
    return person


def test_the_page_shows_the_figures_as_at_a_past_date_and_links_each_cell(client, book, leader):
    page = client.get("/backoffice/reports/aged-debt?as_at=2026-03-31")
    assert page.status_code == 200
    html = parse(page)
    main = text(html.select_one("main"))
    assert "as at 31 March 2026" in main
    assert "£1,000.00" in main  # before the April payment
    table = html.select_one("#table-by_department")
    row = next(tr for tr in table.select("tbody tr") if "Trade waste" in text(tr))
    # 58 days past due: 31 to 60 days; its total too. Cells of £0 link nowhere.
    link, total = row.select("a[href*='aged-debt-accounts']")
    assert (text(link), text(total)) == ("£1,000.00", "£1,000.00")
    query = parse_qs(urlsplit(link["href"]).query)
    assert query == {"as_at": ["2026-03-31"], "department": ["TW"], "bucket": ["31_60"]}
    assert html.select("figure svg[role='img']"), "the chart is drawn on the server"

    accounts = parse(client.get(link["href"]))
    (case_link,) = accounts.select("#table-accounts a")
    assert case_link["href"] == "/backoffice/accounts/AC0000001"
    assert "£1,000.00" in text(accounts.select_one("#table-accounts"))


def test_today_the_page_shows_what_is_owed_now(client, book, leader):
    main = text(parse(client.get("/backoffice/reports/aged-debt")).select_one("main"))
    assert "£600.00" in main and "as at 17 June 2026" in main


def test_a_bad_drill_down_parameter_is_a_field_error_not_a_failure(client, book, leader):
    page = client.get("/backoffice/reports/aged-debt-accounts?bucket=2_weeks")
    assert page.status_code == 200
    assert any("Choose an age" in message for message, _ in error_summary(parse(page)))


def test_the_csv_download_carries_the_figures_as_numbers(client, book, leader):
    response = client.get("/backoffice/reports/aged-debt/export.csv?as_at=2026-03-31")
    assert response.status_code == 200
    cells = department_row(response.data.decode("utf-8-sig"))
    assert (cells["31 to 60 days"], cells["Total"], cells["Accounts in debt"]) == (
        "1000.00",
        "1000.00",
        "1",
    )


def test_the_command_line_writes_the_report_as_at_a_date_as_csv(app, book):
    result = app.test_cli_runner().invoke(
        args=["reports", "aged-debt", "--format", "csv", "--as-at", "2026-03-31"]
    )
    assert result.exit_code == 0, result.output
    assert department_row(result.output)["31 to 60 days"] == "1000.00"
    today = app.test_cli_runner().invoke(args=["reports", "aged-debt", "--format", "csv"])
    assert today.exit_code == 0, today.output
    cells = department_row(today.output)
    assert (cells["61 to 90 days"], cells["91 to 180 days"]) == ("0.00", "600.00")  # 136 days


def department_row(body: str) -> dict[str, str]:
    """The Trade waste row of the department table, by column heading."""
    rows = list(csv.reader(io.StringIO(body)))
    header = next(r for r in rows if r and r[0] == "Department")
    waste = next(r for r in rows if r and r[0] == "Trade waste")
    return dict(zip(header, waste, strict=True))
