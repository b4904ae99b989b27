"""The daily journal to the general ledger, from a real day of postings made by the
ledger services: it balances, it moves debtors control by exactly the day's ledger
amounts, income codes get the day's invoices' net, it is stored once and given back
byte for byte, and an entry made later never changes a sent journal."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from shared import clock
from shared.models import (
    AuditLog,
    EntryKind,
    GlJournal,
    GlJournalEvent,
    IncomeCode,
    Invoice,
    JournalEventKind,
    JournalVia,
    LedgerEntry,
    PaymentMethod,
    VatRatePeriod,
)
from shared.services import journal, ledger
from shared.services.actors import SYSTEM, staff
from shared.services.errors import InvalidRequest
from tests.append_only import assert_refuses_change_and_removal
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock

DAY = TODAY
NEXT_DAY_NOON = datetime(2026, 6, 18, 11, 0, tzinfo=UTC)
CONTROL, VAT, BANK, CARD, DD, WRITE_OFF, SUSPENSE = (
    "B4010",
    "B6210",
    "B1010",
    "B1050",
    "B1060",
    "R8200",
    "B9999",
)


def _rows(content: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content)))


def _pence(text: str) -> int:
    pounds, _, part = text.partition(".")
    return int(pounds) * 100 + int(part)


def _net(rows, code, description_start=""):
    """Debits less credits on `code` (lines whose description starts so)."""
    return sum(
        _pence(r["debit"]) - _pence(r["credit"])
        for r in rows
        if r["ledger_code"] == code and r["description"].startswith(description_start)
    )


def _day_ledger_sum(db, day):
    start, end = clock.day_starts(day), clock.day_starts(day + timedelta(days=1))
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_pence), 0)).where(
            LedgerEntry.created_at >= start, LedgerEntry.created_at < end
        )
    )


def _vat_rates(db):
    """Today's VAT rates, if the database under test has none (PostgreSQL's per-test
    truncation empties the rates migration 0019 seeds)."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(VatRatePeriod)):
        return
    for rate, points in ((ledger.VatRate.STANDARD, 2000), (ledger.VatRate.REDUCED, 500)):
        db.session.add(VatRatePeriod(rate=rate, valid_from=date(2011, 1, 4), basis_points=points))
    for rate in (ledger.VatRate.ZERO, ledger.VatRate.EXEMPT, ledger.VatRate.OUTSIDE_SCOPE):
        db.session.add(VatRatePeriod(rate=rate, valid_from=date(1973, 4, 1), basis_points=0))
    db.session.commit()


class Day:
    """A day with every kind of posting, made through the ledger services."""

    def __init__(self, db):
        _vat_rates(db)
        self.department = make_department()
        self.officer = make_staff()
        self.actor = staff(self.officer.id)
        self.trade = self._code("TRW", "Trade waste", "C100", "I2001")
        self.licences = self._code("LIC", "Licences", "C200", "I3001")
        self.a, self.b = make_account(), make_account(surname="Jones")
        # Trade waste, 20%: £100 + £20 VAT.
        self.inv1 = self._invoice("J1", 10_000, ledger.VatRate.STANDARD, self.trade)
        # Licences, outside the scope of VAT: £50.
        self.inv2 = self._invoice("J2", 5_000, ledger.VatRate.OUTSIDE_SCOPE, self.licences)
        # No income code, 5%: £30 + £1.50 VAT.
        self.inv3 = self._invoice("J3", 3_000, ledger.VatRate.REDUCED, None)
        self.payments = {}
        for method, pence in (
            (PaymentMethod.CARD, 1_000),
            (PaymentMethod.TELEPHONE_CARD, 700),
            (PaymentMethod.DIRECT_DEBIT, 1_500),
            (PaymentMethod.BANK_TRANSFER, 900),
            (PaymentMethod.CHEQUE, 400),
            (PaymentMethod.CASH, 100),
        ):
            self.payments[method] = ledger.record_payment(
                account_id=self.a.id, amount_pence=pence, method=method, actor=self.actor
            ).entry
        # £12 credited off the £120 invoice (no document: VAT share 12 * 20/120 = £2).
        self.credit_note = ledger.raise_credit_note(
            invoice_id=self.inv1.id, amount_pence=1_200, reason="Bin not lifted", actor=self.actor
        )
        self.write_off = ledger.write_off(
            invoice_id=self.inv2.id, amount_pence=1_000, reason="Uneconomic", actor=self.actor
        )
        # A credit note given in error, reversed: £10.50 of the £31.50 (VAT £0.50 each way).
        note = ledger.raise_credit_note(
            invoice_id=self.inv3.id, amount_pence=1_050, reason="In error", actor=self.actor
        )
        ledger.reverse(entry_id=note.id, reason="Given in error", actor=self.actor)
        # A returned Direct Debit.
        ledger.reverse(
            entry_id=self.payments[PaymentMethod.DIRECT_DEBIT].id,
            reason="ARUDD: refer to payer",
            actor=self.actor,
        )
        # Account B pays £80 by card with nothing owed: £5 refunded, £20 moved to A,
        # a £3 refund comes back unpaid.
        spare = ledger.record_payment(
            account_id=self.b.id, amount_pence=8_000, method=PaymentMethod.CARD, actor=self.actor
        ).entry
        ledger.refund(source_entry_id=spare.id, amount_pence=500, reason="Overpaid", actor=SYSTEM)
        returned = ledger.refund(
            source_entry_id=spare.id, amount_pence=300, reason="Overpaid", actor=SYSTEM
        )
        ledger.post_refund_returned(refund_entry_id=returned.id, reason="Card closed", actor=SYSTEM)
        db.session.commit()
        ledger.transfer_credit(
            source_entry_id=spare.id,
            to_account_id=self.a.id,
            amount_pence=2_000,
            reason="Paid on the wrong account",
            actor=self.actor,
        )

    def _code(self, code, description, centre, ledger_code):
        row = IncomeCode(
            department_id=self.department.id,
            code=code,
            description=description,
            cost_centre=centre,
            ledger_code=ledger_code,
        )
        from shared.extensions import db

        db.session.add(row)
        db.session.commit()
        return row

    def _invoice(self, number, net, rate, code):
        from shared.extensions import db

        invoice = ledger.raise_invoice(
            account_id=self.a.id,
            department_id=self.department.id,
            number=number,
            issue_date=DAY,
            due_date=DAY + timedelta(days=30),
            description="Service",
            lines=[ledger.LineInput("Service", 1, net, rate)],
            actor=self.actor,
        )
        if code is not None:
            invoice.income_code_id = code.id
            db.session.commit()
        return invoice


@pytest.fixture
def day(app, db):
    return Day(db)


@pytest.fixture
def next_day(time_machine):
    def move():
        time_machine.move_to(NEXT_DAY_NOON, tick=True)

    return move


def test_a_day_with_every_kind_of_posting_gives_a_balanced_journal(day, db, next_day):
    next_day()
    result = journal.export_journal(DAY, SYSTEM, via=JournalVia.COMMAND)
    rows = _rows(result.journal.content)

    debits = sum(_pence(r["debit"]) for r in rows)
    credits = sum(_pence(r["credit"]) for r in rows)
    assert debits == credits == result.journal.debit_pence == result.journal.credit_pence
    assert debits > 0
    assert all(_pence(r["debit"]) == 0 or _pence(r["credit"]) == 0 for r in rows)
    assert [int(r["line_no"]) for r in rows] == list(range(1, len(rows) + 1))
    assert {r["journal_date"] for r in rows} == {"2026-06-17"}
    assert {r["reference"] for r in rows} == {"AR-JNL-20260617"}


def test_debtors_control_moves_by_exactly_the_days_ledger_amounts(day, db, next_day):
    next_day()
    rows = _rows(journal.export_journal(DAY, SYSTEM, via=JournalVia.COMMAND).journal.content)
    assert _net(rows, CONTROL) == _day_ledger_sum(db, DAY)
    entries = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry))
    assert db.session.scalar(sa.select(GlJournal.entry_count)) == entries


def test_income_codes_are_credited_with_the_days_invoices_net(day, db, next_day):
    next_day()
    rows = _rows(journal.export_journal(DAY, SYSTEM, via=JournalVia.COMMAND).journal.content)
    for code in (day.trade, day.licences):
        net = db.session.scalar(
            sa.select(sa.func.sum(Invoice.net_pence)).where(Invoice.income_code_id == code.id)
        )
        assert -_net(rows, code.ledger_code, "Invoices raised") == net
        income_rows = [r for r in rows if r["ledger_code"] == code.ledger_code]
        assert {r["cost_centre"] for r in income_rows} == {code.cost_centre}
    # The invoice with no income code: its net to suspense.
    assert -_net(rows, SUSPENSE, "Invoices raised") == day.inv3.net_pence
    assert -_net(rows, VAT, "Invoices raised") == 2_000 + 150


def test_each_kind_lands_on_the_account_it_belongs_to(day, db, next_day):
    next_day()
    rows = _rows(journal.export_journal(DAY, SYSTEM, via=JournalVia.COMMAND).journal.content)
    # Card: £10 + £7 telephone + £80 on B, less the £5 and £3 refunds, plus £3 back.
    assert _net(rows, CARD) == 1_000 + 700 + 8_000 - 500 - 300 + 300
    # Direct Debit: £15 in, £15 returned.
    assert _net(rows, DD) == 1_500 - 1_500
    assert _net(rows, BANK) == 900 + 400 + 100
    # The credit note: £10 off trade waste income, £2 off output VAT.
    assert _net(rows, day.trade.ledger_code, "Credit notes") == 1_000
    assert _net(rows, VAT, "Credit notes - TRW") == 200
    assert _net(rows, VAT, "Credit notes - no income code") == 50
    # The reversed credit note mirrors it: £10 back to suspense income, £0.50 to VAT.
    assert _net(rows, SUSPENSE, "Credit notes") == 1_000
    assert _net(rows, SUSPENSE, "Reversed: credit notes") == -1_000
    assert _net(rows, VAT, "Reversed: credit notes") == -50
    assert _net(rows, WRITE_OFF) == 1_000
    write_off = next(r for r in rows if r["ledger_code"] == WRITE_OFF)
    assert write_off["cost_centre"] == day.licences.cost_centre
    # The transfer pairs on debtors control and touches nothing else.
    assert _net(rows, CONTROL, "Credit transferred out") == 2_000
    assert _net(rows, CONTROL, "Credit transferred into") == -2_000
    assert not [r for r in rows if "do not pair" in r["description"]]


def test_a_journal_exported_twice_is_the_same_file_marked_already_sent(day, db, next_day):
    next_day()
    first = journal.export_journal(DAY, staff(day.officer.id), via=JournalVia.BACK_OFFICE)
    second = journal.export_journal(DAY, SYSTEM, via=JournalVia.COMMAND)

    assert first.created is True and second.created is False
    assert second.journal.content_bytes == first.journal.content_bytes
    assert second.journal.sha256 == hashlib.sha256(first.journal.content_bytes).hexdigest()
    assert second.journal.written_by == day.officer.full_name
    assert second.journal.written_at == first.journal.written_at
    assert second.late is None
    kinds = db.session.scalars(sa.select(GlJournalEvent.kind).order_by(GlJournalEvent.id)).all()
    assert kinds == [JournalEventKind.WRITTEN, JournalEventKind.WRITTEN_AGAIN]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GlJournal)) == 1
    actions = db.session.scalars(
        sa.select(AuditLog.action).where(AuditLog.object_type == "gl_journal")
    ).all()
    assert actions == ["gl_journal.written", "gl_journal.written_again"]


def test_a_journal_written_by_the_system_says_how(app, db, next_day):
    next_day()
    journal.export_journal(DAY, SYSTEM, via=JournalVia.SCHEDULE)
    again = journal.export_journal(DAY, SYSTEM, via=JournalVia.COMMAND)
    assert again.journal.written_by == "the daily job"


def test_a_day_with_nothing_gives_a_header_only_balanced_journal(app, db, next_day):
    next_day()
    result = journal.export_journal(DAY, SYSTEM, via=JournalVia.SCHEDULE)
    assert result.journal.content == (
        "journal_date,line_no,ledger_code,cost_centre,description,effective_date,"
        "debit,credit,reference\r\n"
    )
    assert (result.journal.line_count, result.journal.entry_count) == (0, 0)
    assert result.journal.debit_pence == result.journal.credit_pence == 0


@pytest.mark.parametrize("offset", [0, 1, 400])
def test_a_day_that_has_not_ended_is_refused_and_nothing_stored(app, db, offset):
    with pytest.raises(InvalidRequest, match="once that day has ended"):
        journal.export_journal(TODAY + timedelta(days=offset), SYSTEM, via=JournalVia.COMMAND)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GlJournal)) == 0


def test_an_entry_backdated_to_a_sent_day_goes_in_the_day_it_was_made(day, db, next_day):
    next_day()
    sent = journal.export_journal(DAY, SYSTEM, via=JournalVia.SCHEDULE).journal
    # Made on the 18th, effective the 17th: after the 17th's journal was sent.
    ledger.record_payment(
        account_id=day.a.id,
        amount_pence=2_500,
        method=PaymentMethod.CHEQUE,
        actor=day.actor,
        effective_date=DAY,
    )

    again = journal.export_journal(DAY, SYSTEM, via=JournalVia.COMMAND)
    assert again.journal.content == sent.content and again.late is None
    today_rows = _rows(journal.journal_for(DAY + timedelta(days=1)).content)
    assert today_rows == [
        {
            "journal_date": "2026-06-18",
            "line_no": "1",
            "ledger_code": CONTROL,
            "cost_centre": "",
            "description": "Payments received by bank",
            "effective_date": "2026-06-17",
            "debit": "0.00",
            "credit": "25.00",
            "reference": "AR-JNL-20260618",
        },
        {
            "journal_date": "2026-06-18",
            "line_no": "2",
            "ledger_code": BANK,
            "cost_centre": "",
            "description": "Payments received by bank",
            "effective_date": "2026-06-17",
            "debit": "25.00",
            "credit": "0.00",
            "reference": "AR-JNL-20260618",
        },
    ]


def test_an_entry_that_lands_in_a_sent_day_is_reported_and_the_file_kept(day, db, next_day):
    next_day()
    sent = journal.export_journal(DAY, SYSTEM, via=JournalVia.SCHEDULE).journal
    # What only a transaction open across midnight could do: an entry stamped the 17th,
    # committed after the 17th's journal was written.
    db.session.add(
        LedgerEntry(
            account_id=day.a.id,
            kind=EntryKind.PAYMENT,
            amount_pence=-700,
            method=PaymentMethod.CASH,
            effective_date=DAY,
            created_at=datetime(2026, 6, 17, 22, 59),  # 23:59 BST
        )
    )
    db.session.commit()

    again = journal.export_journal(DAY, SYSTEM, via=JournalVia.COMMAND)
    assert again.journal.content == sent.content
    assert again.late is not None
    assert again.late.entries_now == again.late.entries_sent + 1
    assert again.late.control_movement_now_pence == again.late.control_movement_sent_pence - 700
    assert "1 ledger entry was made on this day after its journal was written" in (
        again.late.message
    )
    audit = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "gl_journal.written_again")
    ).one()
    assert audit.after["late_entries"] == 1


def test_the_days_edges_are_englands_midnights(app, db, next_day):
    account = make_account()
    for stamp in (
        datetime(2026, 6, 16, 22, 59, 59),  # 23:59:59 BST on the 16th
        datetime(2026, 6, 16, 23, 0, 0),  # midnight BST: the 17th
        datetime(2026, 6, 17, 22, 59, 59),
        datetime(2026, 6, 17, 23, 0, 0),  # the 18th
    ):
        db.session.add(
            LedgerEntry(
                account_id=account.id,
                kind=EntryKind.PAYMENT,
                amount_pence=-100,
                method=PaymentMethod.CASH,
                effective_date=DAY,
                created_at=stamp,
            )
        )
    db.session.commit()
    next_day()
    assert journal.journal_for(DAY).journal.entry_count == 2
    assert journal.journal_for(DAY - timedelta(days=1)).journal.entry_count == 1


def test_stored_journals_cannot_be_changed_or_deleted(app, db, next_day):
    next_day()
    journal.export_journal(DAY, SYSTEM, via=JournalVia.COMMAND)
    assert_refuses_change_and_removal(app, "gl_journals", "content = 'edited'")
    assert_refuses_change_and_removal(app, "gl_journal_events", "staff_id = NULL")


def test_the_cli_writes_the_file_and_says_already_sent_the_second_time(
    day, app, tmp_path, next_day
):
    next_day()
    runner = app.test_cli_runner()
    first = runner.invoke(
        args=["ledger", "journal", "--date", "2026-06-17", "--out", str(tmp_path)]
    )
    assert first.exit_code == 0, first.output
    written = (tmp_path / "journal-2026-06-17.csv").read_bytes()
    stored = journal.export_journal(DAY, SYSTEM, via=JournalVia.COMMAND).journal
    assert written == stored.content_bytes
    assert f"SHA-256 {stored.sha256}" in first.output
    assert "Already sent" not in first.output

    (tmp_path / "journal-2026-06-17.csv").unlink()
    second = runner.invoke(
        args=["ledger", "journal", "--date", "2026-06-17", "--out", str(tmp_path)]
    )
    assert second.exit_code == 0, second.output
    assert "Already sent on 18 June 2026" in second.output and "the command line" in second.output
    assert (tmp_path / "journal-2026-06-17.csv").read_bytes() == written


def test_the_cli_refuses_a_day_not_yet_ended(app, tmp_path):
    out = tmp_path / "journals"
    result = app.test_cli_runner().invoke(
        args=["ledger", "journal", "--date", TODAY.isoformat(), "--out", str(out)]
    )
    assert result.exit_code != 0
    assert "once that day has ended" in result.output
    assert not out.exists()


def test_one_days_journal_job_is_queued_once(app, redis_url):
    from rq.job import Job

    from shared.jobs import journal as jobs
    from shared.jobs.queues import redis_connection

    connection = redis_connection(redis_url)
    day = date(2031, 1, 15)
    connection.delete(f"rq:job:{jobs.job_id(day)}")  # left over from an interrupted run
    try:
        assert jobs.enqueue_journal(connection, day) is True
        assert jobs.enqueue_journal(connection, day) is False
        job = Job.fetch("gl-journal-2031-01-15", connection=connection)
        assert job.args == ("2031-01-15",)
        assert job.origin == jobs.QUEUE
    finally:
        Job.fetch(jobs.job_id(day), connection=connection).delete()
        connection.close()


def test_the_job_writes_the_day_once(day, db, next_day):
    from shared.jobs.journal import write_journal

    next_day()
    first = write_journal("2026-06-17")
    second = write_journal("2026-06-17")
    assert first["created"] is True and second["created"] is False
    assert first["sha256"] == second["sha256"]
    assert first["debit_pence"] == first["credit_pence"] > 0


def test_the_scheduler_enqueues_yesterdays_journal_daily(redis_url):
    from rq.cron import CronScheduler

    from shared.jobs.journal import enqueue_yesterdays_journal
    from shared.jobs.queues import QUEUE_NAMES, redis_connection

    connection = redis_connection(redis_url)
    scheduler = CronScheduler(connection=connection)
    scheduler.load_config_from_file("shared.jobs.cron_config")
    job = next(j for j in scheduler.get_jobs() if j.func is enqueue_yesterdays_journal)
    assert job.cron == "15 2 * * *"
    assert job.queue_name in QUEUE_NAMES
    connection.close()
