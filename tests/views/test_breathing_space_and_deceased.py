"""Breathing Space ends on the date the Insolvency Service notifies, the hold page says
what holds do and nothing more, and a death is recorded with the personal representative
and ends portal access to the account (issue 11, items 9 and 12)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.domain.holds import HoldTerms, Representative
from shared.models import (
    AccountHold,
    AuditLog,
    Channel,
    ContactEvent,
    DebtorAccount,
    PortalRelationship,
    PortalUserAccount,
    StaffRole,
)
from shared.services import account_view, holds, ledger, portal_accounts
from shared.services.actors import SYSTEM, staff
from tests.factories import make_account, make_department, make_portal_login, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, parse, sign_in_portal, text

# The hold form's helpers, shared with the other hold tests.
from tests.views.test_holds import day, place

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
        number="INV00000088",
        issue_date=TODAY - timedelta(days=40),
        due_date=TODAY - timedelta(days=10),
        description="Care contribution",
        lines=[ledger.LineInput("Care", 1, 12_000)],
        actor=SYSTEM,
    )
    return account


def all_holds(db) -> list[AccountHold]:
    db.session.expire_all()
    return db.session.scalars(sa.select(AccountHold)).all()


# --- item 9: Breathing Space ------------------------------------------------------------


def test_a_standard_breathing_space_without_its_notified_end_is_not_placed_but_prefilled(
    client, db, officer, account
):
    fields = {
        "kind": "breathing_space",
        "breathing_space_type": "standard",
        "reason": "Notified by the Insolvency Service",
    }
    response = place(client, account.reference, **fields)

    assert response.status_code == 200
    expected = TODAY + timedelta(days=60)
    [(message, anchor)] = error_summary(parse(response))
    assert anchor == "#expires_on" and day(expected) in message
    assert parse(response).select_one("input[name=expires_on]")["value"] == day(expected)
    assert all_holds(db) == []

    place(client, account.reference, expires_on=day(expected), **fields)

    [hold] = all_holds(db)
    assert hold.expires_on == expected
    assert db.session.get(DebtorAccount, account.id).breathing_space_end == expected


def test_a_standard_breathing_space_ending_more_than_60_days_after_it_starts_is_refused(
    client, db, officer, account
):
    response = place(
        client,
        account.reference,
        kind="breathing_space",
        breathing_space_type="standard",
        expires_on=day(TODAY + timedelta(days=61)),
        reason="x",
    )

    assert ("#expires_on") in dict((a, m) for m, a in error_summary(parse(response)))
    assert all_holds(db) == []


def test_a_crisis_space_is_open_until_the_officer_records_the_end_of_treatment(
    client, db, officer, account
):
    place(
        client,
        account.reference,
        kind="breathing_space",
        breathing_space_type="mental_health_crisis",
        starts_on=day(TODAY - timedelta(days=20)),
        reason="Approved mental health professional's evidence",
    )
    [hold] = all_holds(db)
    assert hold.expires_on is None
    assert db.session.get(DebtorAccount, account.id).in_breathing_space(TODAY + timedelta(days=400))

    holds_page = f"/backoffice/accounts/{account.reference}/holds"
    page = parse(client.get(holds_page))
    assert page.select_one(f"form[action='{holds_page}/{hold.id}/crisis-end']") is not None
    path = f"{holds_page}/{hold.id}/crisis-end"
    ended = TODAY - timedelta(days=2)
    token = csrf_token(client, holds_page)
    wrong = client.post(
        path,
        data={
            "csrf_token": token,
            "treatment_ended_on": day(ended),
            "space_ends_on": day(ended + timedelta(days=60)),
        },
    )
    assert wrong.status_code == 302 and all_holds(db)[0].expires_on is None

    client.post(
        path,
        data={
            "csrf_token": token,
            "treatment_ended_on": day(ended),
            "space_ends_on": day(ended + timedelta(days=30)),
        },
    )

    [hold] = all_holds(db)
    assert (hold.crisis_treatment_ended_on, hold.expires_on) == (ended, ended + timedelta(days=30))
    debtor = db.session.get(DebtorAccount, account.id)
    assert debtor.breathing_space_end == ended + timedelta(days=30)
    assert not debtor.in_breathing_space(ended + timedelta(days=31))
    assert db.session.scalar(
        sa.select(AuditLog).where(AuditLog.action == "case.breathing_space_end_recorded")
    )
    assert db.session.scalar(
        sa.select(ContactEvent).where(ContactEvent.summary.contains("crisis treatment ended"))
    )
    assert "Crisis treatment ended" in text(parse(client.get(holds_page)).main)


def test_the_hold_page_promises_only_what_the_code_does(client, db, officer, account):
    page = parse(client.get(f"/backoffice/accounts/{account.reference}/holds/new"))

    words = text(page.main)
    assert "stops interest, charges" not in words
    assert "no reminders, demands" not in words
    assert "adds no interest or charges to any debt" in words
    assert "withdraw any message already waiting to ask for payment" in words
    assert "not put towards a disputed or queried debt" in words


# --- item 12: deceased --------------------------------------------------------------------


def test_a_death_is_recorded_with_its_date_and_the_personal_representative_on_the_case_page(
    client, db, officer, account
):
    died = TODAY - timedelta(days=9)
    response = place(
        client,
        account.reference,
        kind="deceased",
        date_of_death=day(died),
        representative_name="Beatrice Archer",
        representative_capacity="Executor",
        representative_address="1 Mill Lane, Ambridge, AM1 1AA",
        representative_phone="01632 960123",
        representative_email="beatrice@example.com",
        reason="Daughter phoned; death certificate to follow",
    )

    assert response.status_code == 302
    [hold] = all_holds(db)
    assert (hold.date_of_death, hold.representative_name, hold.representative_capacity) == (
        died,
        "Beatrice Archer",
        "Executor",
    )
    assert db.session.get(DebtorAccount, account.id).date_of_death == died
    case = text(parse(client.get(f"/backoffice/accounts/{account.reference}")).main)
    assert f"Died {died:%-d %B %Y}" in case
    assert "Beatrice Archer (Executor)" in case and "01632 960123" in case
    placed = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "case.hold_placed"))
    assert placed.after["date_of_death"] == died.isoformat()
    assert placed.after["representative"]["email"] == "beatrice@example.com"
    event = db.session.scalar(
        sa.select(ContactEvent).where(ContactEvent.summary.startswith("Deceased hold placed"))
    )
    assert f"died {died:%d/%m/%Y}" in event.summary and "Beatrice Archer" in event.detail


def test_a_death_without_its_date_or_with_half_a_representative_is_explained(
    client, db, officer, account
):
    response = place(
        client,
        account.reference,
        kind="deceased",
        representative_phone="01632 960123",
        reason="x",
    )

    anchors = {a for _, a in error_summary(parse(response))}
    assert {"#date_of_death", "#representative_name", "#representative_capacity"} <= anchors
    assert all_holds(db) == []


def _attorney_link(user, account, relationship=PortalRelationship.POWER_OF_ATTORNEY):
    from shared.extensions import db

    db.session.add(
        PortalUserAccount(
            portal_user_id=user.id,
            account_id=account.id,
            relationship_to_debtor=relationship,
            verified_via=Channel.EMAIL,
        )
    )
    db.session.commit()


def test_a_death_ends_every_portal_logins_access_to_the_account_and_lifting_restores_it(
    client, db, account
):
    own = make_portal_login(account, email="archer@example.com")
    other_account = make_account(surname="Attorney")
    attorney = make_portal_login(other_account, email="attorney@example.com")
    _attorney_link(attorney, account)
    officer = make_staff(role=StaffRole.OFFICER)
    sign_in_portal(client, attorney)
    assert client.get(f"/account/{account.reference}").status_code == 200

    hold = holds.place_hold(
        account.id,
        HoldTerms("deceased", TODAY, date_of_death=TODAY - timedelta(days=1)),
        "Death certificate seen",
        staff(officer.id),
        today=TODAY,
        representative=Representative(name="Beatrice Archer", capacity="Executor"),
    )

    # The attorney's login neither lists nor reaches the account; their own is untouched.
    assert [a.reference for a in account_view.linked_accounts(attorney.id)] == [
        other_account.reference
    ]
    assert client.get(f"/account/{account.reference}").status_code == 404
    listing = client.get("/account", follow_redirects=True)
    assert listing.status_code == 200
    assert account.reference not in listing.get_data(as_text=True)
    assert account_view.linked_accounts(own.id) == []
    assert portal_accounts.linked_account_ids(own.id) == []
    ended = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "portal.access_ended")
    ).all()
    assert len(ended) == 2
    assert db.session.scalar(
        sa.select(ContactEvent).where(ContactEvent.summary.startswith("Portal access ended for 2"))
    )

    holds.lift_hold(hold.id, "Wrong person: a namesake", staff(officer.id), today=TODAY)

    assert client.get(f"/account/{account.reference}").status_code == 200
    assert portal_accounts.linked_account_ids(own.id) == [account.id]


def _verified_code(account, purpose, portal_user_id=None):
    from shared.extensions import db
    from shared.models import CodePurpose, PortalOneTimeCode
    from shared.models.base import utcnow

    row = PortalOneTimeCode(
        account_id=account.id,
        portal_user_id=portal_user_id,
        purpose=CodePurpose(purpose),
        channel=Channel.EMAIL,
        salt="0" * 32,
        code_hash="0" * 64,
        expires_at=utcnow() + timedelta(minutes=10),
        verified_at=utcnow(),
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def test_nobody_can_gain_online_access_to_a_deceased_debtors_account(db, account):
    from shared.models import CodePurpose
    from shared.services.errors import InvalidRequest

    attorney = make_portal_login(email="attorney@example.com")
    officer = make_staff(role=StaffRole.OFFICER)
    holds.place_hold(
        account.id,
        HoldTerms("deceased", TODAY, date_of_death=TODAY),
        "Death certificate seen",
        staff(officer.id),
        today=TODAY,
    )

    link = _verified_code(account, CodePurpose.LINK_ACCOUNT, attorney.id)
    with pytest.raises(InvalidRequest, match="cannot give online access"):
        portal_accounts.link_account(link, attorney.id, PortalRelationship.POWER_OF_ATTORNEY)
    create = _verified_code(account, CodePurpose.CREATE_LOGIN)
    with pytest.raises(InvalidRequest, match="cannot give online access"):
        portal_accounts.create_login(create, "someone@example.com", "a long enough password 1")
    assert portal_accounts.linked_account_ids(attorney.id) == []
