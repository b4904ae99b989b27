"""Officer activity, from work done through the real services on known days (contacts,
holds, payments, plan decisions, refunds and write-offs) and officer-sent messages as
their service writes them: each officer's and each team's counts are exactly the work
they did in the period, work before or after it (by England's day, not UTC's) is left
out, and someone limited to their own activity sees only their own row."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from shared.extensions import db
from shared.models import (
    Arrangement,
    ArrangementStatus,
    ContactEvent,
    ContactKind,
    Frequency,
    Instalment,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
    PaymentMethod,
    PaymentRoute,
    StaffRole,
)
from shared.reports import officer_activity
from shared.reports.base import ReportFilters
from shared.reports.registry import get_report
from shared.services import actors, approvals, contacts, holds, ledger
from shared.services.actors import SYSTEM
from shared.services.plans import decisions
from shared.services.plans.terms import Terms
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock

FROM, TO = date(2026, 5, 1), date(2026, 5, 31)


def on(time_machine, day: date, hour: int = 11) -> None:
    time_machine.move_to(datetime.combine(day, time(hour, 0), tzinfo=UTC), tick=False)


def filters(only: int | None = None) -> ReportFilters:
    return ReportFilters(
        today=TODAY,
        as_at=TODAY,
        date_from=FROM,
        date_to=TO,
        financial_year=2026,
        only_staff_id=only,
    )


class World:
    """Olive and Owen in "Trade waste recovery", Tess (team leader) in "Care recovery",
    Nia with no team; each does known work in May, and some before and after it."""

    def __init__(self, time_machine):
        limits = {"write_off_limit_pence": 10_000, "refund_limit_pence": 10_000}
        self.olive = make_staff(
            StaffRole.OFFICER, full_name="Olive Officer", team="Trade waste recovery", **limits
        )
        self.owen = make_staff(
            StaffRole.OFFICER, full_name="Owen Officer", team="Trade waste recovery", **limits
        )
        self.tess = make_staff(
            StaffRole.TEAM_LEADER,
            full_name="Tess Leader",
            team="Care recovery",
            write_off_limit_pence=1_000_000,
            refund_limit_pence=1_000_000,
        )
        self.nia = make_staff(StaffRole.OFFICER, full_name="Nia Noteam")
        # Not listed unless they did something: an administrator and a deactivated officer.
        make_staff(StaffRole.ADMIN, full_name="Ada Admin")
        make_staff(StaffRole.OFFICER, full_name="Gone Officer", active=False)
        dept = make_department("TW", name="Trade waste")
        self.account = make_account(surname="Archer", reference="OA000001")
        olive, owen, tess, nia = (
            actors.staff(p.id) for p in (self.olive, self.owen, self.tess, self.nia)
        )
        account_id = self.account.id

        on(time_machine, date(2026, 4, 1))
        invoices = [
            ledger.raise_invoice(
                account_id=account_id,
                department_id=dept.id,
                number=f"OA-{n}",
                issue_date=date(2026, 4, 1),
                due_date=date(2026, 4, 30),
                description="Service",
                lines=[ledger.LineInput("Service", 1, 50_000)],
                actor=SYSTEM,
            )
            for n in range(4)
        ]

        def contact(actor, day, hour=11):
            on(time_machine, day, hour)
            contacts.record_contact(
                account_id,
                contacts.ContactRecord(kind=ContactKind.CALL_OUT, summary="Called"),
                actor,
                today=day,
            )

        # Contacts: Olive 3 in May (one at 00:30 BST on 1 May, 23:30 UTC on 30 April),
        # one the day before and one just after the period (00:30 BST on 1 June).
        contact(olive, date(2026, 4, 30), 23)  # 1 May in England
        contact(olive, date(2026, 5, 10))
        contact(olive, date(2026, 5, 31), 22)  # 23:00 BST 31 May: in
        contact(olive, date(2026, 4, 30), 10)  # before
        contact(olive, date(2026, 5, 31), 23)  # 00:00 BST 1 June: after
        contact(owen, date(2026, 5, 12))
        contact(nia, date(2026, 5, 13))

        # Holds: Owen 2, Tess 1 in May; Owen 1 in June.
        for actor, day in ((owen, 5), (owen, 6), (tess, 7)):
            on(time_machine, date(2026, 5, day))
            holds.place_hold(
                account_id,
                holds.rules.HoldTerms(
                    kind="query", starts_on=date(2026, 5, day), expires_on=date(2026, 6, 30)
                ),
                "Queried the charge",
                actor,
                today=date(2026, 5, day),
            )
        on(time_machine, date(2026, 6, 2))
        holds.place_hold(
            account_id,
            holds.rules.HoldTerms(
                kind="query", starts_on=date(2026, 6, 2), expires_on=date(2026, 6, 30)
            ),
            "Queried again",
            owen,
            today=date(2026, 6, 2),
        )

        # Payments: Olive takes two (telephone card, cheque) in May; Owen posts one
        # from a bank statement (not taken by him); the system posts a bank transfer.
        on(time_machine, date(2026, 5, 14))
        ledger.record_payment(
            account_id=account_id,
            amount_pence=1_500,
            method=PaymentMethod.TELEPHONE_CARD,
            actor=olive,
        )
        ledger.record_payment(
            account_id=account_id, amount_pence=2_250, method=PaymentMethod.CHEQUE, actor=olive
        )
        ledger.record_payment(
            account_id=account_id,
            amount_pence=9_999,
            method=PaymentMethod.BANK_TRANSFER,
            external_reference="bank:12345678:REF1",
            actor=owen,
        )
        self.card = ledger.record_payment(
            account_id=account_id,
            amount_pence=7_000,
            method=PaymentMethod.BANK_TRANSFER,
            actor=SYSTEM,
        ).entry

        # Refunds and write-offs: Olive writes off within her limit and asks above it
        # (Tess approves), asks for a refund (Tess approves); Owen asks for a credit note.
        on(time_machine, date(2026, 5, 18))
        approvals.request_write_off(
            invoice_id=invoices[0].id,
            amount_pence=5_000,
            reason_code="uneconomical",
            reason="Small",
            actor=olive,
        )
        asked = approvals.request_write_off(
            invoice_id=invoices[1].id,
            amount_pence=40_000,
            reason_code="insolvency",
            reason="Liquidation",
            actor=olive,
        )
        refund = approvals.request_refund(
            source_entry_id=self.card.id,
            amount_pence=1_000,
            route="bacs",
            reason="Paid twice",
            actor=olive,
        )
        approvals.request_credit_note(
            invoice_id=invoices[2].id, amount_pence=1_200, reason="Bin missed", actor=owen
        )
        on(time_machine, date(2026, 5, 19))
        approvals.approve(request_id=asked.request.id, actor=tess)
        approvals.approve(request_id=refund.request.id, actor=tess)

        # Plans: Owen approves one and refuses one in May; Tess counter-offers one.
        plans = [self._proposed(account_id) for _ in range(3)]
        on(time_machine, date(2026, 5, 20))
        decisions.approve(arrangement_id=plans[0], actor=owen)
        decisions.reject(arrangement_id=plans[1], reason="Too long", actor=owen)
        decisions.counter_offer(
            arrangement_id=plans[2],
            terms=Terms(
                frequency=Frequency.MONTHLY, start=date(2026, 6, 1), instalment_pence=10_000
            ),
            reason="Pay faster",
            actor=tess,
            today=date(2026, 5, 20),
        )

        # Messages: Nia sends a letter and an email, and one withdrawn before it went.
        on(time_machine, date(2026, 5, 21))
        for channel, status in (
            (OutboxChannel.LETTER, OutboxStatus.PENDING),
            (OutboxChannel.EMAIL, OutboxStatus.SENT),
            (OutboxChannel.SMS, OutboxStatus.CANCELLED),
        ):
            self._sent(account_id, self.nia.id, channel, status)
        on(time_machine, TODAY)

    @staticmethod
    def _proposed(account_id: int) -> int:
        plan = Arrangement(
            account_id=account_id,
            status=ArrangementStatus.PROPOSED,
            frequency=Frequency.MONTHLY,
            total_pence=30_000,
            start_date=date(2026, 6, 1),
            payment_route=PaymentRoute.CARD,
            instalment_pence=10_000,
        )
        db.session.add(plan)
        db.session.flush()
        db.session.add_all(
            Instalment(
                arrangement_id=plan.id,
                sequence=n + 1,
                due_date=date(2026, 6 + n, 1),
                amount_pence=10_000,
            )
            for n in range(3)
        )
        db.session.commit()
        return plan.id

    @staticmethod
    def _sent(account_id, staff_id, channel, status) -> None:
        # As shared/services/messages/officer_sent.py writes an officer's message.
        message = OutboxMessage(
            account_id=account_id,
            channel=channel,
            template="officer.general",
            recipient="someone",
            body="Hello",
            status=status,
        )
        db.session.add(message)
        db.session.flush()
        db.session.add(
            ContactEvent(
                account_id=account_id,
                kind=ContactKind(str(channel)),
                summary="Sent",
                staff_id=staff_id,
                outbox_message_id=message.id,
            )
        )
        db.session.commit()


@pytest.fixture
def world(app, time_machine):
    return World(time_machine)


def by_name(officers):
    return {o.name: o.activity for o in officers}


def test_each_officer_counts_exactly_the_work_they_did_in_the_period(world):
    got = by_name(officer_activity.activity_by_officer(FROM, TO))
    assert set(got) == {"Olive Officer", "Owen Officer", "Tess Leader", "Nia Noteam"}
    olive, owen, tess, nia = (
        got[n] for n in ("Olive Officer", "Owen Officer", "Tess Leader", "Nia Noteam")
    )
    assert (olive.contacts, owen.contacts, tess.contacts, nia.contacts) == (3, 1, 0, 1)
    assert (olive.holds, owen.holds, tess.holds) == (0, 2, 1)
    assert (olive.payments, olive.payments_pence) == (2, 3_750)
    assert (owen.payments, owen.payments_pence) == (0, 0)
    assert (olive.write_offs_requested, olive.refunds_requested) == (2, 1)
    assert (owen.write_offs_requested, owen.refunds_requested) == (1, 0)
    assert (tess.requests_approved, olive.requests_approved) == (2, 0)
    assert (owen.plans_approved, owen.plans_refused, owen.plans_counter_offered) == (1, 1, 0)
    assert (tess.plans_approved, tess.plans_counter_offered) == (0, 1)
    assert (nia.letters, nia.emails_and_texts) == (1, 1)


def test_the_report_has_each_team_subtotal_after_its_officers_and_a_total(world):
    result = get_report("officer-activity").build(filters())
    rows = [(r["team"], r["officer"], r["contacts"], r["holds"]) for r in result.tables[0].rows]
    assert rows == [
        ("Care recovery", "Tess Leader", 0, 1),
        ("Care recovery", "Care recovery subtotal", 0, 1),
        ("Trade waste recovery", "Olive Officer", 3, 0),
        ("Trade waste recovery", "Owen Officer", 1, 2),
        ("Trade waste recovery", "Trade waste recovery subtotal", 4, 2),
        ("No team", "Nia Noteam", 1, 0),
        ("No team", "No team subtotal", 1, 0),
    ]
    totals = result.tables[0].totals
    assert (totals["contacts"], totals["holds"], totals["payments_pence"]) == (5, 3, 3_750)
    assert (totals["requests_approved"], totals["letters"]) == (2, 1)
    teams = {r["team"]: r for r in result.tables[1].rows}
    assert teams["Trade waste recovery"]["write_offs_requested"] == 3
    assert teams["Care recovery"]["plans_counter_offered"] == 1
    assert result.tables[1].totals["contacts"] == 5
    [chart] = result.charts
    assert chart.categories == ("Tess Leader", "Olive Officer", "Owen Officer", "Nia Noteam")
    contacts_series = next(s for s in chart.series if s.name == "Contacts")
    assert contacts_series.values == (0, 3, 1, 1)


def test_someone_limited_to_their_own_activity_sees_only_their_own_row(world):
    result = get_report("officer-activity").build(filters(only=world.owen.id))
    [row] = result.tables[0].rows
    assert (row["officer"], row["holds"], row["plans_approved"]) == ("Owen Officer", 2, 1)
    assert result.tables[0].totals["contacts"] == 1
    assert [r["team"] for r in result.tables[1].rows] == ["Trade waste recovery"]
    assert result.charts[0].categories == ("Owen Officer",)


def test_an_empty_period_lists_the_officers_with_nothing_done(world):
    quiet = ReportFilters(
        today=TODAY,
        as_at=TODAY,
        date_from=date(2026, 1, 1),
        date_to=date(2026, 1, 31),
        financial_year=2025,
    )
    result = get_report("officer-activity").build(quiet)
    officers = [r for r in result.tables[0].rows if not r["officer"].endswith("subtotal")]
    assert len(officers) == 4
    assert all(r["contacts"] == 0 and r["payments_pence"] == 0 for r in officers)


def test_june_holds_and_contacts_fall_in_june(world):
    june = by_name(officer_activity.activity_by_officer(date(2026, 6, 1), TODAY))
    assert june["Owen Officer"].holds == 1
    assert june["Olive Officer"].contacts == 1


def test_an_officer_opening_the_report_page_sees_only_themself(world, client):
    from tests.views.conftest import signed_in_session

    signed_in_session(client, world.olive)
    response = client.get("/backoffice/reports/officer-activity?from=1/5/2026&to=31/5/2026")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Olive Officer" in page
    assert "Owen Officer" not in page and "Tess Leader" not in page


def test_day_edges_are_englands_days(world):
    # 1 May alone: the 00:30 BST contact made on 30 April UTC.
    day = by_name(officer_activity.activity_by_officer(FROM, FROM))
    assert day["Olive Officer"].contacts == 1
    last = by_name(officer_activity.activity_by_officer(TO, TO))
    assert last["Olive Officer"].contacts == 1
    assert FROM - timedelta(days=1) == date(2026, 4, 30)
