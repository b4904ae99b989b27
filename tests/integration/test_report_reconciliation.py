"""The reconciliation report, on a ledger built with the real services: on good data the
books balance as figures (ledger total = outstanding less unallocated credit), the queue
agrees and it says the books reconcile; a deliberately broken ledger is named; and the
day's journal totals are the journal service's own, before and after it is written."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import sqlalchemy as sa
from flask import current_app

from shared.extensions import db
from shared.models import (
    Allocation,
    GlJournal,
    JournalVia,
    LedgerEntry,
    PaymentMethod,
    StaffRole,
    UnallocatedCredit,
)
from shared.reports import reconciliation_report as report
from shared.reports.base import ReportFilters
from shared.reports.reconciliation import ledger_totals
from shared.reports.registry import get_report
from shared.services import journal, ledger
from shared.services.actors import SYSTEM, staff
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import parse, text

pytestmark = frozen_clock

DAY = date(2026, 6, 16)


def on(time_machine, day: date, hour: int = 11) -> None:
    time_machine.move_to(datetime.combine(day, time(hour, 0), tzinfo=UTC), tick=False)


def filters(as_at: date = TODAY) -> ReportFilters:
    return ReportFilters(
        today=TODAY, as_at=as_at, date_from=date(2026, 4, 1), date_to=TODAY, financial_year=2026
    )


def table(result, key):
    [found] = [t for t in result.tables if t.key == key]
    return found


def figure(result, label):
    [found] = [f for f in result.figures if f.label == label]
    return found.value


class Books:
    """Two invoices part paid and part written off, and a payment with nothing to pay."""

    def __init__(self, time_machine):
        dept = make_department("TW", name="Trade waste")
        self.officer = make_staff(full_name="Olive Officer")
        self.a, self.b = make_account(), make_account(surname="Jones")
        on(time_machine, DAY)
        self.inv1, self.inv2 = (
            ledger.raise_invoice(
                account_id=self.a.id,
                department_id=dept.id,
                number=number,
                issue_date=date(2026, 5, 1),
                due_date=date(2026, 5, 31),
                description="Bin lifts",
                lines=[ledger.LineInput("Bin lifts", 1, pence)],
                actor=SYSTEM,
            )
            for number, pence in (("REC-1", 10_000), ("REC-2", 5_000))
        )
        actor = staff(self.officer.id)
        # Oldest due first: £100 to REC-1, £20 to REC-2.
        self.paid = ledger.record_payment(
            account_id=self.a.id,
            amount_pence=12_000,
            method=PaymentMethod.BANK_TRANSFER,
            actor=actor,
        ).entry
        self.spare = ledger.record_payment(
            account_id=self.b.id, amount_pence=4_000, method=PaymentMethod.CARD, actor=actor
        ).entry
        ledger.write_off(
            invoice_id=self.inv2.id, amount_pence=1_000, reason="Small balance", actor=actor
        )
        on(time_machine, TODAY)


@pytest.fixture
def books(app, time_machine):
    return Books(time_machine)


def test_good_books_balance_as_figures_the_queue_agrees_and_they_reconcile(books):
    result = report.build(filters())

    # Owed: REC-2's £50 less £20 paid less £10 written off; spare credit: £40.
    assert figure(result, "Outstanding on invoices") == 2_000
    assert figure(result, "Unallocated credit") == 4_000
    ledger_sum = db.session.scalar(sa.select(sa.func.sum(LedgerEntry.amount_pence)))
    assert figure(result, "Ledger total") == ledger_sum == 15_000 - 12_000 - 4_000 - 1_000
    assert figure(result, "Difference") == 0
    assert figure(result, "Discrepancies") == 0
    balance = {r["item"]: r["amount"] for r in table(result, "balance").rows}
    assert balance["What the ledger should total"] == 2_000 - 4_000 == ledger_sum
    queue = [r["amount"] for r in table(result, "unallocated").rows]
    assert queue == [4_000, 4_000, 0]
    assert table(result, "unallocated").note == "The queue agrees with the ledger."
    discrepancies = table(result, "discrepancies")
    assert discrepancies.rows == []
    assert discrepancies.note == report.RECONCILE
    assert result.scope.startswith("The books reconcile")


def test_an_allocation_over_the_invoice_total_is_named_and_the_books_do_not_reconcile(books):
    # Inserted directly, as no service would: £500 of a £120 payment on a £50 invoice.
    db.session.add(
        Allocation(credit_entry_id=books.paid.id, invoice_id=books.inv2.id, amount_pence=50_000)
    )
    db.session.commit()

    result = report.build(filters())

    problems = [r["problem"] for r in table(result, "discrepancies").rows]
    assert "invoice REC-2: allocations 53000p outside 0..5000p" in problems
    assert any(p.startswith(f"credit entry {books.paid.id}: value 12000p") for p in problems)
    assert figure(result, "Discrepancies") == len(problems) >= 2
    assert table(result, "discrepancies").note != report.RECONCILE
    assert result.scope.startswith("The books do not reconcile")


def test_a_queue_that_disagrees_with_the_ledger_is_shown_as_a_difference_and_named(books):
    db.session.execute(
        sa.update(UnallocatedCredit)
        .where(UnallocatedCredit.credit_entry_id == books.spare.id)
        .values(unallocated_pence=3_000)
    )
    db.session.commit()

    result = report.build(filters())

    assert [r["amount"] for r in table(result, "unallocated").rows] == [4_000, 3_000, -1_000]
    assert table(result, "unallocated").note.startswith("The queue does not agree")
    assert [r["problem"] for r in table(result, "discrepancies").rows] == [
        f"credit entry {books.spare.id}: 4000p unallocated but 3000p "
        "in the unallocated payments queue"
    ]
    totals = ledger_totals()
    assert (totals.queue_pence, totals.available_pence, totals.queue_difference_pence) == (
        3_000,
        4_000,
        -1_000,
    )


def by_code_from_service(day: date) -> dict[tuple[str, str], tuple[int, int]]:
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for line in journal.journal_for(day).journal.lines:
        debit, credit = out.get((line.ledger_code, line.cost_centre), (0, 0))
        out[(line.ledger_code, line.cost_centre)] = (
            debit + line.debit_pence,
            credit + line.credit_pence,
        )
    return out


def journal_rows(result) -> dict[tuple[str, str], tuple[int, int]]:
    return {
        (r["ledger_code"], r["cost_centre"]): (r["debit"], r["credit"])
        for r in table(result, "journal_by_code").rows
    }


def record(result) -> dict[str, str]:
    return {r["item"]: r["value"] for r in table(result, "journal_record").rows}


def test_the_days_journal_totals_are_the_journal_services_before_and_after_it_is_written(
    books, time_machine
):
    service = journal.journal_for(DAY).journal
    before = report.build(filters(DAY))

    by_code = journal_rows(before)
    assert by_code == by_code_from_service(DAY)
    control = current_app.config["GL_DEBTORS_CONTROL_CODE"]
    # Debtors control moves by the day's ledger amounts: £150 debit, £170 credit.
    assert by_code[(control, "")] == (15_000, 17_000)
    journal_table = table(before, "journal_by_code")
    assert journal_table.totals["debit"] == journal_table.totals["credit"] == service.debit_pence
    assert figure(before, "Journal debits, 16 June 2026") == service.debit_pence
    assert figure(before, "Journal credits, 16 June 2026") == service.credit_pence
    assert record(before)["Written"].startswith("No: write it")
    assert record(before)["Debits equal credits"].startswith("Yes")

    written = journal.export_journal(DAY, staff(books.officer.id), via=JournalVia.COMMAND)
    after = report.build(filters(DAY))

    stored = db.session.scalar(sa.select(GlJournal).where(GlJournal.day == DAY))
    assert journal_rows(after) == by_code
    assert record(after)["Written"] == "Yes"
    assert record(after)["SHA-256"] == stored.sha256 == written.journal.sha256
    assert record(after)["Written by"] == "Olive Officer"
    assert record(after)["Entries made since it was written"].startswith("None")
    assert table(after, "journal_by_code").totals["debit"] == stored.debit_total_pence

    # An entry made late on the day after its journal was written: the sent file stands.
    on(time_machine, DAY, hour=22)
    ledger.record_payment(
        account_id=books.b.id, amount_pence=500, method=PaymentMethod.CASH, actor=SYSTEM
    )
    on(time_machine, TODAY)
    late = report.build(filters(DAY))
    assert journal_rows(late) == by_code
    assert record(late)["Entries made since it was written"].startswith("1 ledger entry was made")


def test_todays_journal_is_shown_so_far_and_an_empty_day_says_nothing_was_posted(books):
    today = report.build(filters(TODAY))
    assert record(today)["Written"].startswith("No: the day is not over")

    empty = report.build(filters(date(2026, 6, 1)))
    assert table(empty, "journal_by_code").rows == []
    assert table(empty, "journal_by_code").note == "Nothing was posted on 1 June 2026."
    assert record(empty)["Debits equal credits"] == "Yes: £0.00 each"


def test_the_report_is_registered_for_a_day_and_not_in_the_pack(app):
    found = get_report("reconciliation")
    assert found is not None and found.build is report.build
    assert found.uses == {"as_at"} and not found.in_pack


def test_the_page_says_the_books_reconcile_and_shows_the_days_journal(client, books):
    leader = make_staff(StaffRole.TEAM_LEADER, full_name="Tess Leader")
    signed_in_session(client, leader)

    response = client.get("/backoffice/reports/reconciliation?as_at=2026-06-16")

    assert response.status_code == 200
    page = parse(response)
    assert report.RECONCILE in text(page)
    assert "Nothing to show" in text(page.select_one("#table-discrepancies"))
    journal_table = page.select_one("#table-journal_by_code")
    control = current_app.config["GL_DEBTORS_CONTROL_CODE"]
    [control_row] = [
        [text(c) for c in tr.select("th, td")]
        for tr in journal_table.select("tbody tr")
        if text(tr).startswith(control)
    ]
    assert control_row[2:4] == ["£150.00", "£170.00"]
    assert "16 June 2026" in text(page.select_one("main"))


def test_the_page_names_a_discrepancy(client, books):
    db.session.add(
        Allocation(credit_entry_id=books.paid.id, invoice_id=books.inv2.id, amount_pence=50_000)
    )
    db.session.commit()
    signed_in_session(client, make_staff(StaffRole.AUDITOR))

    page = parse(client.get("/backoffice/reports/reconciliation"))

    assert "invoice REC-2: allocations 53000p outside 0..5000p" in text(
        page.select_one("#table-discrepancies")
    )
    assert report.RECONCILE not in text(page)
