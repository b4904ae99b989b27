"""Each department's monthly report pack: a PDF of the department's reports for a month
that has ended (read back with pypdf: its own figures only, a cover, page numbers,
table headers repeated), kept once per department and month, emailed once to the
department's contact with the PDF attached however often the run repeats, kept unsent
when the department has no contact email, and built again after a failure.

The data is made by the ledger services on known days of May 2026 (the clock is frozen
in June). Beside the reports other modules register, the tests register small reports
of their own with known answers (and one that fails on demand), removed afterwards."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from datetime import date

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from shared import documents
from shared.extensions import db as _db
from shared.models import (
    AuditLog,
    Invoice,
    OutboxMessage,
    PaymentMethod,
    ReportPack,
    ReportPackStatus,
    ServiceDepartment,
)
from shared.reports import registry
from shared.reports.base import Column, Report, ReportFilters, ReportResult, ReportTable
from shared.services import ledger, report_packs
from shared.services.actors import SYSTEM
from shared.services.errors import InvalidRequest
from shared.services.ledger import LineInput
from tests.factories import make_account, make_department
from tests.frozen_clock import frozen_clock
from tests.messaging_fixtures import run_outbox_jobs

pytestmark = frozen_clock

MAY = date(2026, 5, 1)


def pdf_text(pdf: bytes) -> list[str]:
    """Each page's text, whitespace made single spaces."""
    return [
        re.sub(r"\s+", " ", page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages
    ]


def _raised_in_period(filters: ReportFilters) -> ReportResult:
    """A known answer: what the department's invoices issued in the period total."""
    total, count = _db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(Invoice.total_pence), 0), sa.func.count())
        .join(ServiceDepartment, ServiceDepartment.id == Invoice.department_id)
        .where(
            ServiceDepartment.code == filters.department_code,
            Invoice.issue_date >= filters.date_from,
            Invoice.issue_date <= filters.date_to,
        )
    ).one()
    CALLS.append(filters)
    return ReportResult(
        title="Raised in the period (test)",
        description="Invoices issued in the period.",
        scope=f"{filters.date_from:%-d %B %Y} to {filters.date_to:%-d %B %Y}",
        tables=[
            ReportTable(
                key="raised",
                caption="Raised",
                columns=(Column("what", "What"), Column("raised", "Raised", "money")),
                rows=[{"what": "Invoices", "raised": int(total)}],
                note=f"{count} invoices",
            )
        ],
    )


def _long_list(filters: ReportFilters) -> ReportResult:
    rows = [{"row": f"ROW-{n:04d}", "amount": n} for n in range(1, 181)]
    return ReportResult(
        title="A long list (test)",
        description="Enough rows to run over several pages.",
        tables=[
            ReportTable(
                key="long",
                caption="Long list",
                columns=(Column("row", "Row label"), Column("amount", "Row amount", "money")),
                rows=rows,
            )
        ],
    )


def _breaks_for_trade(filters: ReportFilters) -> ReportResult:
    if BROKEN and filters.department_code == "TRADE":
        raise RuntimeError("the ledger is on fire")
    return ReportResult(title="Breaks on demand (test)", description="Fine unless broken.")


CALLS: list[ReportFilters] = []
BROKEN: list[bool] = []
RAISED = Report(
    key="pack-test-raised",
    title="Raised in the period (test)",
    description="",
    build=_raised_in_period,
    uses=frozenset({"department", "from", "to"}),
    in_pack=True,
)
LONG = Report(
    key="pack-test-long",
    title="A long list (test)",
    description="",
    build=_long_list,
    in_pack=True,
)
BREAKS = Report(
    key="pack-test-breaks",
    title="Breaks on demand (test)",
    description="",
    build=_breaks_for_trade,
    in_pack=True,
)
COUNCIL_WIDE = Report(
    key="pack-test-council-wide",
    title="Every department at once (test)",
    description="",
    build=_long_list,
    uses=frozenset({"as_at"}),
    in_pack=True,
)


@pytest.fixture
def with_reports():
    """Register test reports for the test; take them out again after."""
    added: list[str] = []

    def add(*reports: Report) -> None:
        registry.all_reports()  # the real ones first
        for report in reports:
            registry.register(report)
            added.append(report.key)

    yield add
    for key in added:
        registry._REPORTS.pop(key, None)
    CALLS.clear()
    BROKEN.clear()


@pytest.fixture
def only_reports():
    """As if no report were registered but those the test adds (the real ones are
    tested by the first tests; the rest need not lay out their pages every time)."""
    registry.all_reports()
    saved = dict(registry._REPORTS)
    registry._REPORTS.clear()

    def add(*reports: Report) -> None:
        for report in reports:
            registry.register(report)

    yield add
    registry._REPORTS.clear()
    registry._REPORTS.update(saved)
    CALLS.clear()
    BROKEN.clear()


def _invoice(department, account, number: str, pence: int, issued: date) -> Invoice:
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number=number,
        issue_date=issued,
        due_date=issued.replace(day=issued.day + 14),
        description=f"Service {number}",
        lines=[LineInput(description="Service", quantity=1, unit_price_pence=pence)],
        actor=SYSTEM,
    )


class Council:
    """Trade waste and Adult care, each with a May invoice and a May payment; Parking
    with invoices but no contact email; Libraries with no invoice by the end of May."""

    def __init__(self):
        self.trade = make_department("TRADE", name="Trade waste", contact_email="trade@c.example")
        self.care = make_department("CARE", name="Adult care", contact_email="care@c.example")
        self.parking = make_department("PARK", name="Parking")
        self.libraries = make_department("LIB", name="Libraries", contact_email="lib@c.example")
        a, b, c = make_account(), make_account(surname="Jones"), make_account(surname="Khan")
        _invoice(self.trade, a, "TW1001", 123_456, date(2026, 5, 4))
        _invoice(self.care, b, "AC2002", 987_654, date(2026, 5, 6))
        _invoice(self.parking, c, "PK3003", 5_000, date(2026, 5, 8))
        _invoice(self.libraries, c, "LB4004", 7_000, date(2026, 6, 2))  # June: not May's
        for account, pence in ((a, 23_456), (b, 87_654)):
            ledger.record_payment(
                account_id=account.id,
                amount_pence=pence,
                method=PaymentMethod.BANK_TRANSFER,
                actor=SYSTEM,
                effective_date=date(2026, 5, 20),
            )


@pytest.fixture
def council(db):
    return Council()


def _packs(db) -> dict[str, ReportPack]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(ServiceDepartment.code, ReportPack).join(
            ReportPack, ReportPack.department_id == ServiceDepartment.id
        )
    ).all()
    return {code: pack for code, pack in rows}


def _pack_emails(db) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.template == "report_pack")
            .order_by(OutboxMessage.recipient)
        )
    )


# --- the PDF ------------------------------------------------------------------------------


def test_a_departments_pack_has_its_own_figures_and_not_another_departments(council, with_reports):
    with_reports(RAISED)
    from shared.reports.packs import render_pack

    built = render_pack(council.trade, date(2026, 5, 19))
    pages = pdf_text(built.pdf)
    text = " ".join(pages)

    assert built.page_count == len(pages) > 1
    assert "Income recovery report pack" in pages[0]
    assert "Trade waste (TRADE)" in pages[0]
    assert "May 2026" in pages[0] and "Produced 17 June 2026" in pages[0]
    assert "Raised in the period (test)" in pages[0]  # the contents
    # The known answer: Trade waste raised £1,234.56 in May, in one invoice.
    assert "Invoices £1,234.56" in text and "1 invoices" in text
    # Nothing of Adult care's: its £9,876.54 invoice, its £876.54 payment, its name.
    for theirs in ("9,876.54", "876.54", "Adult care", "AC2002", "Parking"):
        assert theirs not in text, theirs
    for n, page in enumerate(pages, start=1):
        assert f"Page {n} of {len(pages)}" in page
    [filters] = CALLS
    assert filters.department_code == "TRADE"
    assert (filters.date_from, filters.date_to) == (date(2026, 5, 1), date(2026, 5, 31))
    assert filters.as_at == filters.today == date(2026, 5, 31)
    assert filters.financial_year == 2026
    assert built.sha256 == hashlib.sha256(built.pdf).hexdigest()


def test_every_registered_pack_report_is_in_the_pack_and_council_wide_ones_are_left_out(
    council, with_reports
):
    with_reports(RAISED, COUNCIL_WIDE)
    from shared.reports.packs import pack_reports, render_pack

    included, left_out = pack_reports()
    assert [r.key for r in left_out] == ["pack-test-council-wide"]
    built = render_pack(council.trade, MAY)
    assert built.reports == tuple(r.key for r in included)
    text = " ".join(pdf_text(built.pdf))
    for report in included:
        assert report.key in built.reports
    assert "Not in this pack, because they cover every department: Every department" in text
    assert "ROW-0001" not in text  # the council-wide report's rows are not there


def test_a_long_table_repeats_its_headers_on_every_page_it_runs_onto(council, only_reports):
    only_reports(LONG)
    from shared.reports.packs import render_pack

    pages = pdf_text(render_pack(council.trade, MAY).pdf)
    with_rows = [page for page in pages if "ROW-0" in page]
    assert len(with_rows) >= 3
    assert all("Row label Row amount" in page for page in with_rows)
    assert "ROW-0180 £1.80" in with_rows[-1]


def test_with_no_report_in_the_pack_the_pack_says_so(council, only_reports):
    from shared.reports.packs import render_pack

    pages = pdf_text(render_pack(council.trade, MAY).pdf)
    assert len(pages) == 2
    assert "Trade waste (TRADE)" in pages[0]
    assert "No report is in the monthly pack yet" in pages[1]


# --- sending ------------------------------------------------------------------------------


def test_each_department_is_emailed_its_pack_once_even_when_the_run_repeats(
    council, only_reports, db
):
    only_reports(RAISED)
    first = report_packs.send_monthly_packs(MAY, SYSTEM)
    second = report_packs.send_monthly_packs(date(2026, 5, 31), SYSTEM)

    assert {o.department_code: o.status for o in first.outcomes} == {
        "CARE": "queued",
        "PARK": "no_contact",
        "TRADE": "queued",
    }
    assert {o.department_code: o.status for o in second.outcomes} == dict.fromkeys(
        ("CARE", "PARK", "TRADE"), "already"
    )
    packs = _packs(db)
    assert set(packs) == {"CARE", "PARK", "TRADE"}  # Libraries raised nothing by 31 May
    care, trade = _pack_emails(db)
    assert (care.recipient, trade.recipient) == ("care@c.example", "trade@c.example")
    assert trade.subject == "Trade waste: income recovery report pack for May 2026"
    assert trade.account_id is None and trade.status == "pending"
    assert "It holds:\n- Raised in the period (test)\n" in trade.body
    for code, email in (("CARE", care), ("TRADE", trade)):
        pack = packs[code]
        assert pack.month == MAY and pack.status == ReportPackStatus.QUEUED
        assert pack.outbox_message_id == email.id and pack.sent_to == email.recipient
        assert pack.pdf_sha256 == hashlib.sha256(pack.pdf).hexdigest()
        assert pack.page_count == len(PdfReader(io.BytesIO(pack.pdf)).pages)
        attachment = documents.render_attachment(email.payload["attachment"])
        assert attachment.content == pack.pdf
        assert attachment.content_type == "application/pdf"
        assert attachment.filename == f"report-pack-{code.lower()}-2026-05.pdf"
    assert "£1,234.56" in " ".join(pdf_text(packs["TRADE"].pdf))
    assert "£9,876.54" in " ".join(pdf_text(packs["CARE"].pdf))
    audits = db.session.scalars(
        sa.select(AuditLog.action).where(AuditLog.object_type == "report_pack")
    ).all()
    assert sorted(audits) == ["report_pack.no_contact", "report_pack.queued", "report_pack.queued"]


def test_a_department_without_a_contact_email_has_its_pack_kept_unsent(council, only_reports, db):
    report_packs.send_monthly_packs(MAY, SYSTEM)

    parking = _packs(db)["PARK"]
    assert parking.status == ReportPackStatus.NO_CONTACT
    assert parking.sent_to is None and parking.outbox_message_id is None
    assert parking.pdf.startswith(b"%PDF") and parking.page_count == 2
    assert "parking" not in {m.recipient for m in _pack_emails(db)}


def test_a_failed_pack_is_recorded_and_built_again_by_the_next_run(council, only_reports, db):
    only_reports(RAISED, BREAKS)
    BROKEN.append(True)
    first = report_packs.send_monthly_packs(MAY, SYSTEM)

    outcomes = {o.department_code: o for o in first.outcomes}
    assert outcomes["TRADE"].status == "failed"
    assert outcomes["CARE"].status == "queued"  # one department's failure leaves the rest
    failed = _packs(db)["TRADE"]
    assert failed.status == ReportPackStatus.FAILED
    assert failed.error == "Breaks on demand (test): RuntimeError: the ledger is on fire"
    assert failed.pdf is None and failed.outbox_message_id is None
    assert [m.recipient for m in _pack_emails(db)] == ["care@c.example"]

    BROKEN.clear()
    second = report_packs.send_monthly_packs(MAY, SYSTEM)

    outcomes = {o.department_code: o.status for o in second.outcomes}
    assert outcomes == {"CARE": "already", "PARK": "already", "TRADE": "queued"}
    retried = _packs(db)["TRADE"]
    assert retried.id == failed.id and retried.status == ReportPackStatus.QUEUED
    assert retried.error is None and retried.pdf.startswith(b"%PDF")
    assert [m.recipient for m in _pack_emails(db)] == ["care@c.example", "trade@c.example"]
    trail = db.session.execute(
        sa.select(AuditLog.action, AuditLog.after)
        .where(AuditLog.object_type == "report_pack", AuditLog.object_id == str(failed.id))
        .order_by(AuditLog.id)
    ).all()
    assert [action for action, _ in trail] == ["report_pack.failed", "report_pack.queued"]
    assert trail[1][1]["retried_after_failure"] is True


@pytest.mark.parametrize("month", [date(2026, 6, 1), date(2026, 6, 30), date(2026, 7, 1)])
def test_a_month_that_has_not_ended_is_refused_and_nothing_is_built(council, db, month):
    with pytest.raises(InvalidRequest, match="has not ended yet.*latest month.*May 2026"):
        report_packs.send_monthly_packs(month, SYSTEM)
    assert _packs(db) == {}


def test_last_month_crosses_the_year():
    assert report_packs.last_month(date(2027, 1, 1)) == date(2026, 12, 1)
    assert report_packs.last_month(date(2026, 6, 17)) == date(2026, 5, 1)
    assert report_packs.last_month(date(2026, 12, 31)) == date(2026, 11, 1)


def test_the_emailed_pack_carries_the_stored_pdf(outbox_app, mailbox, only_reports):
    Council()
    report_packs.send_monthly_packs(MAY, SYSTEM)
    stored = _packs(_db)["TRADE"].pdf

    run_outbox_jobs(outbox_app)  # the worker closes the session: read what is needed first

    [mail] = mailbox.messages(to="trade@c.example")
    assert mail["subject"] == "Trade waste: income recovery report pack for May 2026"
    [attachment] = mail["attachments"]
    assert attachment["filename"] == "report-pack-trade-2026-05.pdf"
    assert base64.b64decode(attachment["content_base64"]) == stored
    # Adult care's went too; nothing for Parking (no contact) or Libraries (no invoice).
    assert sorted(m["to"] for m in mailbox.messages()) == ["care@c.example", "trade@c.example"]


# --- the command line and the job ----------------------------------------------------------


def test_the_command_sends_last_months_packs_by_default_then_nothing(council, app, only_reports):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["reports", "send-packs"])
    assert first.exit_code == 0, first.output
    assert "Report packs for May 2026:" in first.output
    assert "TRADE      Trade waste: sent to trade@c.example (2 pages)" in first.output
    assert "PARK       Parking: built (2 pages), not sent: the department has no contact email" in (
        first.output
    )
    second = runner.invoke(args=["reports", "send-packs", "--month", "2026-05"])
    assert second.exit_code == 0, second.output
    assert second.output.count("already done before: nothing sent") == 3


@pytest.mark.parametrize(
    ("month", "says"),
    [
        ("2026-06", "June 2026 has not ended yet"),
        ("2026-09", "September 2026 has not ended yet"),
        ("2026-13", "month must be in 1..12"),
        ("May 2026", "a month is written YYYY-MM"),
        ("2026-5", "a month is written YYYY-MM"),
    ],
)
def test_the_command_refuses_a_month_that_is_not_over_or_not_a_month(council, app, db, month, says):
    result = app.test_cli_runner().invoke(args=["reports", "send-packs", "--month", month])
    assert result.exit_code != 0
    assert says in result.output and "Nothing was sent" in result.output
    assert _packs(db) == {} and _pack_emails(db) == []


def test_the_job_sends_a_month_once(council, app, only_reports, db):
    from shared.jobs.report_packs import send_report_packs

    first = send_report_packs("2026-05-01")
    second = send_report_packs("2026-05-31")
    assert first == {"month": "2026-05", "queued": 2, "no_contact": 1, "failed": 0, "already": 0}
    assert second == {"month": "2026-05", "queued": 0, "no_contact": 0, "failed": 0, "already": 3}
    assert len(_pack_emails(db)) == 2


def test_one_months_job_is_queued_once(app, redis_url):
    from rq.job import Job

    from shared.jobs import report_packs as jobs
    from shared.jobs.queues import redis_connection

    connection = redis_connection(redis_url)
    month = date(2031, 1, 1)
    connection.delete(f"rq:job:{jobs.job_id(month)}")  # left over from an interrupted run
    try:
        assert jobs.enqueue_report_packs(connection, month) is True
        assert jobs.enqueue_report_packs(connection, date(2031, 1, 20)) is False
        job = Job.fetch("report-packs-2031-01", connection=connection)
        assert job.args == ("2031-01-01",)
        assert job.origin == jobs.QUEUE
    finally:
        Job.fetch(jobs.job_id(month), connection=connection).delete()
        connection.close()


def test_the_scheduler_enqueues_last_months_packs_on_the_first_at_six(redis_url):
    from rq.cron import CronScheduler

    from shared.jobs.queues import QUEUE_NAMES, redis_connection
    from shared.jobs.report_packs import enqueue_last_months_packs

    connection = redis_connection(redis_url)
    scheduler = CronScheduler(connection=connection)
    scheduler.load_config_from_file("shared.jobs.cron_config")
    job = next(j for j in scheduler.get_jobs() if j.func is enqueue_last_months_packs)
    assert job.cron == "0 6 1 * *"
    assert job.queue_name in QUEUE_NAMES
    connection.close()
