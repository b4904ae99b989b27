"""Officers place holds (with their terms) and lift them; each is on the timeline and
in the audit log, and Breathing Space and deceased holds set the account's flags."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from shared.models import AccountHold, AuditLog, ContactEvent, DebtorAccount, HoldKind, StaffRole
from shared.services import holds, ledger
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, parse, text

pytestmark = frozen_clock


@pytest.fixture
def officer(client, db):
    person = make_staff(role=StaffRole.OFFICER)
    signed_in_session(client, person)
    return person


@pytest.fixture
def account(db):
    account = make_account(surname="Archer")
    ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number="INV00000077",
        issue_date=TODAY - timedelta(days=40),
        due_date=TODAY - timedelta(days=10),
        description="Trade waste",
        lines=[ledger.LineInput("Bin lifts", 1, 12_000)],
        actor=SYSTEM,
    )
    return account


def place(client, reference, **fields):
    path = f"/backoffice/accounts/{reference}/holds/new"
    return client.post(path, data={"csrf_token": csrf_token(client, path), **fields})


def day(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def only_hold(db) -> AccountHold:
    db.session.expire_all()
    [hold] = db.session.scalars(sa.select(AccountHold)).all()
    return hold


def test_a_dispute_hold_on_one_invoice_is_placed_with_history_and_audit(
    client, db, officer, account
):
    invoice_id = db.session.scalar(sa.text("select id from invoices"))
    response = place(
        client,
        account.reference,
        kind="dispute",
        covers=str(invoice_id),
        expires_on=day(TODAY + timedelta(days=28)),
        reason="Says the bins were not emptied",
    )

    assert response.headers["Location"] == f"/backoffice/accounts/{account.reference}/holds"
    hold = only_hold(db)
    assert (hold.kind, hold.invoice_id, hold.starts_on) == (HoldKind.DISPUTE, invoice_id, TODAY)
    assert hold.expires_on == TODAY + timedelta(days=28)
    assert hold.placed_by == officer.id
    [event] = db.session.scalars(sa.select(ContactEvent)).all()[-1:]
    assert event.summary.startswith("Dispute hold placed on invoice INV00000077 until ")
    assert db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "case.hold_placed"))
    page = parse(client.get(response.headers["Location"]))
    assert "In force" in text(page.main)


def test_a_promise_to_pay_records_the_amount_and_date_and_ends_then(client, db, officer, account):
    promised = TODAY + timedelta(days=5)
    place(
        client,
        account.reference,
        kind="promise_to_pay",
        promise_date=day(promised),
        promise_amount="£50",
        reason="Will pay on payday",
    )

    hold = only_hold(db)
    assert (hold.promise_amount_pence, hold.promise_date, hold.expires_on) == (
        5_000,
        promised,
        promised,
    )


def test_breathing_space_sets_the_accounts_flags_and_lifting_ends_it_today(
    client, db, officer, account
):
    place(
        client,
        account.reference,
        kind="breathing_space",
        breathing_space_type="standard",
        breathing_space_reference="BS123456",
        expires_on=day(TODAY + timedelta(days=60)),
        reason="Notified by the Insolvency Service",
    )

    db.session.expire_all()
    debtor = db.session.get(DebtorAccount, account.id)
    assert debtor.in_breathing_space(TODAY)
    assert debtor.breathing_space_end == TODAY + timedelta(days=60)
    hold = only_hold(db)

    path = f"/backoffice/accounts/{account.reference}/holds/{hold.id}/lift"
    token = csrf_token(client, f"/backoffice/accounts/{account.reference}/holds")
    client.post(path, data={"csrf_token": token, "lift_reason": "Ended early by the adviser"})
    client.post(path, data={"csrf_token": token, "lift_reason": "Clicked twice"})

    db.session.expire_all()
    hold = only_hold(db)
    assert hold.lifted_by == officer.id and hold.lift_reason == "Ended early by the adviser"
    assert db.session.get(DebtorAccount, account.id).breathing_space_end == TODAY
    lifted = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "case.hold_lifted")
    ).all()
    assert len(lifted) == 1
    assert lifted[0].before["lifted"] is False and lifted[0].after["lifted"] is True


@pytest.mark.parametrize(
    ("fields", "message", "anchor"),
    [
        ({"reason": "x"}, "Select the reason for the hold", "#kind"),
        ({"kind": "dispute"}, "Enter the reason for the hold", "#reason"),
        ({"kind": "dispute", "reason": "x"}, "Enter the date the hold ends", "#expires_on"),
        (
            {
                "kind": "promise_to_pay",
                "reason": "x",
                "promise_date": day(TODAY),
                "promise_amount": "12.345",
            },
            None,
            "#promise_amount",
        ),
        (
            {"kind": "breathing_space", "reason": "x"},
            "Select the type of Breathing Space",
            "#breathing_space_type",
        ),
        (
            {"kind": "query", "reason": "x", "expires_on": "31/2/2030"},
            "End date must be a real date, like 27/3/2026",
            "#expires_on",
        ),
    ],
)
def test_a_hold_that_will_not_do_is_explained_and_nothing_is_placed(
    client, db, officer, account, fields, message, anchor
):
    response = place(client, account.reference, **fields)

    assert response.status_code == 200
    anchors = dict((a, m) for m, a in error_summary(parse(response)))
    assert anchor in anchors
    if message:
        assert anchors[anchor] == message
    assert db.session.scalars(sa.select(AccountHold)).all() == []


def test_an_invoice_from_another_account_cannot_be_covered(client, db, officer, account):
    other = make_account()
    foreign = ledger.raise_invoice(
        account_id=other.id,
        department_id=make_department().id,
        number="INV00000099",
        issue_date=TODAY,
        due_date=TODAY,
        description="x",
        lines=[ledger.LineInput("x", 1, 100)],
        actor=SYSTEM,
    )

    response = place(
        client,
        account.reference,
        kind="query",
        covers=str(foreign.id),
        expires_on=day(TODAY),
        reason="x",
    )

    assert ("Select an invoice on this account", "#covers") in error_summary(parse(response))
    assert db.session.scalars(sa.select(AccountHold)).all() == []


def test_a_deceased_hold_marks_the_account_and_lifting_it_unmarks_it(db, account):
    officer = make_staff(role=StaffRole.OFFICER)
    from shared.domain.holds import HoldTerms
    from shared.services.actors import staff

    hold = holds.place_hold(
        account.id,
        HoldTerms("deceased", TODAY, date_of_death=TODAY - timedelta(days=2)),
        "Death certificate seen",
        staff(officer.id),
        today=TODAY,
    )
    assert db.session.get(DebtorAccount, account.id).deceased is True
    holds.lift_hold(hold.id, "Wrong person: a namesake", staff(officer.id), today=TODAY)
    assert db.session.get(DebtorAccount, account.id).deceased is False


def test_an_auditor_sees_holds_but_cannot_place_or_lift_them(client, db, account):
    signed_in_session(client, make_staff(role=StaffRole.AUDITOR))

    page = parse(client.get(f"/backoffice/accounts/{account.reference}/holds"))

    assert "Place a hold" not in text(page.main)
    assert client.get(f"/backoffice/accounts/{account.reference}/holds/new").status_code == 403
