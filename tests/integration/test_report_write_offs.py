"""The write-off schedule, from write-offs, credit notes and refunds made through the real
approval workflow on known days: it lists exactly the period's entries with the person
who asked and the second person who approved, a reversed write-off sits beside its
reversal and nets to nil, and every total equals the ledger's own movements."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import aliased

from shared.extensions import db
from shared.models import CreditNote, EntryKind, LedgerEntry, PaymentMethod, StaffRole
from shared.reports import write_offs
from shared.reports.base import ReportFilters
from shared.reports.registry import get_report
from shared.services import actors, approvals, ledger
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import parse, text

pytestmark = frozen_clock

FROM, TO = date(2026, 4, 1), date(2026, 5, 31)
WITHIN = write_offs.WITHIN_LIMIT


def on(time_machine, day: date) -> None:
    """Move the one clock to midday (UTC, so the English day is `day`) of `day`."""
    time_machine.move_to(datetime.combine(day, time(11, 0), tzinfo=UTC), tick=False)


def filters(department: str | None = None, date_from=FROM, date_to=TO) -> ReportFilters:
    return ReportFilters(
        today=TODAY,
        as_at=TODAY,
        date_from=date_from,
        date_to=date_to,
        financial_year=2026,
        department_code=department,
    )


class World:
    """Write-offs before, in and after the period, one reversed in it, one made before
    it and reversed in it, one approved by a team leader, one posted directly by the
    system; a credit note and a refund; and requests pending or rejected (no entry)."""

    def __init__(self, time_machine):
        self.tw = make_department("TW", name="Trade waste")
        self.care = make_department("CARE", name="Adult social care")
        self.olive = make_staff(StaffRole.OFFICER, full_name="Olive Officer", **self._limits())
        self.owen = make_staff(StaffRole.OFFICER, full_name="Owen Officer", **self._limits())
        self.tess = make_staff(
            StaffRole.TEAM_LEADER,
            full_name="Tess Leader",
            write_off_limit_pence=1_000_000,
            refund_limit_pence=1_000_000,
        )
        self.a1 = make_account(surname="Archer", reference="WO000001")
        self.a2 = make_account(surname="Grundy", reference="WO000002")
        self.a3 = make_account(surname="Aldridge", reference="WO000003")
        olive, owen, tess = (actors.staff(p.id) for p in (self.olive, self.owen, self.tess))

        on(time_machine, date(2026, 3, 2))
        inv = {
            name: self._invoice(account, dept, name, pence)
            for name, account, dept, pence in (
                ("WO-0", self.a1, self.tw, 20_000),
                ("WO-1", self.a1, self.tw, 30_000),
                ("WO-2", self.a2, self.care, 50_000),
                ("WO-3", self.a2, self.tw, 10_000),
                ("WO-4", self.a2, self.care, 10_000),
                ("WO-5", self.a2, self.care, 60_000),
            )
        }
        self.inv = inv

        def write_off(invoice, pence, code, reason, actor):
            return approvals.request_write_off(
                invoice_id=inv[invoice].id,
                amount_pence=pence,
                reason_code=code,
                reason=reason,
                actor=actor,
            )

        on(time_machine, date(2026, 3, 20))
        self.w0 = write_off("WO-0", 3_000, "statute_barred", "Six years", olive).entry
        on(time_machine, date(2026, 4, 15))
        self.w1 = write_off("WO-1", 5_000, "uneconomical", "Costs more to chase", olive).entry
        on(time_machine, date(2026, 4, 20))
        asked = write_off("WO-2", 40_000, "insolvency", "Company in liquidation", olive)
        assert not asked.posted
        on(time_machine, date(2026, 4, 22))
        approvals.approve(request_id=asked.request.id, actor=tess)
        on(time_machine, date(2026, 5, 1))
        self.w3 = write_off("WO-3", 8_000, "deceased_no_estate", "No estate", owen).entry
        on(time_machine, date(2026, 5, 3))
        ledger.reverse(entry_id=self.w3.id, reason="An estate was found", actor=tess)
        on(time_machine, date(2026, 5, 5))
        ledger.reverse(entry_id=self.w0.id, reason="Debt acknowledged", actor=tess)
        on(time_machine, date(2026, 5, 10))
        approvals.request_credit_note(
            invoice_id=inv["WO-1"].id,
            amount_pence=1_200,
            reason="Bin not emptied",
            actor=olive,
        )
        on(time_machine, date(2026, 5, 12))
        payment = ledger.record_payment(
            account_id=self.a3.id,
            amount_pence=2_500,
            method=PaymentMethod.BANK_TRANSFER,
            actor=SYSTEM,
        ).entry
        refund = approvals.request_refund(
            source_entry_id=payment.id,
            amount_pence=2_000,
            route="bacs",
            reason="Paid in error",
            actor=olive,
        )
        on(time_machine, date(2026, 5, 13))
        approvals.approve(request_id=refund.request.id, actor=tess)
        on(time_machine, date(2026, 5, 20))
        ledger.write_off(
            invoice_id=inv["WO-5"].id, amount_pence=500, reason="Small balance", actor=SYSTEM
        )
        pending = write_off("WO-5", 20_000, "other", "Waiting", olive)
        rejected = write_off("WO-4", 9_000, "vulnerable", "Hardship", owen)
        assert not pending.posted and not rejected.posted
        approvals.reject(request_id=rejected.request.id, note="Not evidenced", actor=tess)
        on(time_machine, date(2026, 6, 16))
        self.w_after = write_off("WO-4", 1_000, "uneconomical", "Small", owen).entry
        assert self.w_after is not None
        on(time_machine, TODAY)

    @staticmethod
    def _limits():
        return {"write_off_limit_pence": 10_000, "refund_limit_pence": 10_000}

    def _invoice(self, account, dept, number, pence):
        return ledger.raise_invoice(
            account_id=account.id,
            department_id=dept.id,
            number=number,
            issue_date=date(2026, 3, 2),
            due_date=date(2026, 4, 1),
            description="Service",
            lines=[ledger.LineInput("Service", 1, pence)],
            actor=SYSTEM,
        )


@pytest.fixture
def world(app, time_machine):
    return World(time_machine)


def table(result, key):
    [found] = [t for t in result.tables if t.key == key]
    return found


def ledger_net(kind: EntryKind, date_from=FROM, date_to=TO, sign=-1) -> int:
    """The period's movement of `kind` worked out straight from the ledger: its entries
    effective in the period and the reversals of any of them effective in it."""
    subject = aliased(LedgerEntry)
    made = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_pence), 0)).where(
            LedgerEntry.kind == kind, LedgerEntry.effective_date.between(date_from, date_to)
        )
    )
    undone = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_pence), 0))
        .join(subject, subject.id == LedgerEntry.reverses_entry_id)
        .where(subject.kind == kind, LedgerEntry.effective_date.between(date_from, date_to))
    )
    return sign * (int(made) + int(undone))


def schedule_rows(result):
    return [
        (
            r["date"],
            r["invoice"],
            r["department"],
            r["amount"],
            r["reason"],
            r["requested_by"],
            r["approved_by"],
            r["approved_on"],
            r["status"],
        )
        for r in table(result, "write_offs").rows
    ]


def test_the_schedule_lists_exactly_the_periods_write_offs_with_who_asked_and_who_approved(
    world,
):
    result = write_offs.build(filters())

    assert schedule_rows(result) == [
        (
            date(2026, 4, 15),
            "WO-1",
            "Trade waste",
            5_000,
            "Uneconomical to pursue",
            "Olive Officer",
            WITHIN,
            date(2026, 4, 15),
            "",
        ),
        (
            date(2026, 4, 22),
            "WO-2",
            "Adult social care",
            40_000,
            "Insolvency",
            "Olive Officer",
            "Tess Leader",
            date(2026, 4, 22),
            "",
        ),
        (
            date(2026, 5, 1),
            "WO-3",
            "Trade waste",
            8_000,
            "Deceased with no estate",
            "Owen Officer",
            WITHIN,
            date(2026, 5, 1),
            "Reversed on 3 May 2026",
        ),
        (
            date(2026, 5, 3),
            "WO-3",
            "Trade waste",
            -8_000,
            "Deceased with no estate",
            "Tess Leader",
            "",
            None,
            "Reverses the write-off of 1 May 2026",
        ),
        (
            date(2026, 5, 5),
            "WO-0",
            "Trade waste",
            -3_000,
            "Statute barred",
            "Tess Leader",
            "",
            None,
            "Reverses the write-off of 20 Mar 2026",
        ),
        (
            date(2026, 5, 20),
            "WO-5",
            "Adult social care",
            500,
            "Not recorded",
            "System",
            write_offs.NO_APPROVAL,
            None,
            "",
        ),
    ]
    first = table(result, "write_offs").rows[0]
    assert (first["account"], first["debtor"], first["details"]) == (
        "WO000001",
        "Alex Archer",
        "Costs more to chase",
    )
    assert first["account__link"] == {"reference": "WO000001"}


def test_the_totals_equal_the_ledgers_write_off_movements_and_a_reversal_nets_to_nil(world):
    result = write_offs.build(filters())
    schedule = table(result, "write_offs")

    expected = ledger_net(EntryKind.WRITE_OFF)
    assert expected == 5_000 + 40_000 + 8_000 - 8_000 - 3_000 + 500
    assert schedule.totals["amount"] == expected
    assert sum(r["amount"] for r in schedule.rows) == expected
    reversed_pair = [r["amount"] for r in schedule.rows if r["invoice"] == "WO-3"]
    assert reversed_pair == [8_000, -8_000] and sum(reversed_pair) == 0

    by_reason = {r["reason"]: r for r in table(result, "write_offs_by_reason").rows}
    assert {
        k: (r["count"], r["written_off"], r["reversed"], r["net"]) for k, r in by_reason.items()
    } == {
        "Insolvency": (1, 40_000, 0, 40_000),
        "Uneconomical to pursue": (1, 5_000, 0, 5_000),
        "Deceased with no estate": (1, 8_000, -8_000, 0),
        "Not recorded": (1, 500, 0, 500),
        "Statute barred": (0, 0, -3_000, -3_000),
    }
    assert table(result, "write_offs_by_reason").totals["net"] == expected
    assert sum(r["net"] for r in by_reason.values()) == expected

    by_dept = {r["department"]: r for r in table(result, "by_department").rows}
    assert {
        k: (r["write_offs_count"], r["write_offs"], r["credit_notes"], r["refunds"])
        for k, r in by_dept.items()
    } == {
        "Trade waste": (2, 5_000 + 8_000 - 8_000 - 3_000, 1_200, 0),
        "Adult social care": (2, 40_500, 0, 0),
        write_offs.NO_DEPARTMENT: (0, 0, 0, 2_000),
    }
    by_approver = {r["approver"]: r for r in table(result, "by_approver").rows}
    assert {
        k: (r["write_offs"], r["credit_notes"], r["refunds"]) for k, r in by_approver.items()
    } == {
        "Tess Leader": (40_000, 0, 2_000),
        WITHIN: (5_000 + 8_000 - 8_000 - 3_000, 1_200, 0),
        write_offs.NO_APPROVAL: (500, 0, 0),
    }
    figures = {f.label: f for f in result.figures}
    assert (figures["Written off"].value, figures["Write-offs"].value) == (expected, 4)
    # The 61 days before the period: 30 January to 31 March, with the March write-off.
    assert (figures["Written off"].previous, figures["Write-offs"].previous) == (3_000, 1)
    assert figures["Written off"].previous == ledger_net(
        EntryKind.WRITE_OFF, date(2026, 1, 30), date(2026, 3, 31)
    )


def test_credit_notes_and_refunds_have_tables_of_their_own_with_who_asked_and_approved(world):
    result = write_offs.build(filters())

    [note] = table(result, "credit_notes").rows
    number = db.session.scalar(sa.select(CreditNote.number))
    assert (
        note["date"],
        note["invoice"],
        note["credit_note"],
        note["department"],
        note["amount"],
        note["reason"],
        note["requested_by"],
        note["approved_by"],
    ) == (
        date(2026, 5, 10),
        "WO-1",
        number,
        "Trade waste",
        1_200,
        "Bin not emptied",
        "Olive Officer",
        WITHIN,
    )
    assert table(result, "credit_notes").totals["amount"] == ledger_net(EntryKind.CREDIT_NOTE)
    [refund] = table(result, "refunds").rows
    assert (
        refund["date"],
        refund["account"],
        refund["amount"],
        refund["reason"],
        refund["details"],
        refund["requested_by"],
        refund["approved_by"],
        refund["approved_on"],
    ) == (
        date(2026, 5, 13),
        "WO000003",
        2_000,
        "BACS credit to a bank account",
        "Paid in error",
        "Olive Officer",
        "Tess Leader",
        date(2026, 5, 13),
    )
    assert table(result, "refunds").totals["amount"] == ledger_net(EntryKind.REFUND, sign=1)


def test_a_department_sees_only_its_own_invoices_write_offs(world):
    result = write_offs.build(filters("CARE"))

    assert [(r["invoice"], r["amount"]) for r in table(result, "write_offs").rows] == [
        ("WO-2", 40_000),
        ("WO-5", 500),
    ]
    assert table(result, "write_offs").totals["amount"] == 40_500
    assert table(result, "credit_notes").rows == table(result, "refunds").rows == []
    assert "CARE" in result.scope


def test_a_period_that_ends_before_the_reversal_shows_the_write_off_unreversed(world):
    result = write_offs.build(filters(date_from=date(2026, 5, 1), date_to=date(2026, 5, 2)))

    assert [(r["invoice"], r["amount"], r["status"]) for r in table(result, "write_offs").rows] == [
        ("WO-3", 8_000, "")
    ]


def test_the_report_is_registered_for_the_period_and_department_and_in_the_pack(app):
    report = get_report("write-offs")
    assert report is not None and report.build is write_offs.build
    assert report.uses == {"from", "to", "department"} and report.in_pack


def test_an_empty_period_gives_empty_tables_and_nil_totals(app):
    result = write_offs.build(filters())
    assert table(result, "write_offs").rows == []
    assert table(result, "write_offs").totals["amount"] == 0
    assert [f.value for f in result.figures] == [0, 0, 0, 0]


def test_the_page_shows_the_schedule_to_a_team_leader_with_its_totals(client, world):
    signed_in_session(client, world.tess)

    response = client.get("/backoffice/reports/write-offs?from=2026-04-01&to=2026-05-31")

    assert response.status_code == 200
    page = parse(response)
    schedule = page.select_one("#table-write_offs")
    rows = [[text(c) for c in tr.select("th, td")] for tr in schedule.select("tbody tr")]
    assert [r[3] for r in rows[:-1]] == ["WO-1", "WO-2", "WO-3", "WO-3", "WO-0", "WO-5"]
    assert rows[2][-1] == "Reversed on 3 May 2026" and rows[3][5] == "-£80.00"
    assert rows[-1][0] == "Total" and "£425.00" in rows[-1]
    assert schedule.select_one("a[href='/backoffice/accounts/WO000001']") is not None
    assert "Tess Leader" in text(page.select_one("#table-by_approver"))
    assert page.select("svg") and "Written off by reason" in text(page)
