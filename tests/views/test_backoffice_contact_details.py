"""Officers update a debtor's contact details, preferences and address when the debtor
asks: the change is on the timeline (naming the officer and how the debtor asked) and in
the audit log with before and after; bad details change nothing; auditors cannot."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.models import Address, AuditLog, Channel, ContactEvent, DebtorAccount, StaffRole
from tests.factories import make_account, make_staff
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, parse, text

NOTE = "Phone call from the debtor"


@pytest.fixture
def officer(client, db):
    person = make_staff(role=StaffRole.OFFICER, full_name="Priya Officer")
    signed_in_session(client, person)
    return person


@pytest.fixture
def account(db):
    return make_account(surname="Archer", postcode="AB1 2CD", email="old@example.com")


def path_for(account) -> str:
    return f"/backoffice/accounts/{account.reference}/contact-details"


def as_filled_in(client, path) -> dict:
    """What the browser would send back untouched: every field as the page shows it."""
    page = parse(client.get(path))
    data = {}
    for field in page.select("form[method=post] input, form[method=post] textarea"):
        name = field.get("name")
        if not name or field.get("type") == "submit":
            continue
        if field.get("type") in ("radio", "checkbox"):
            if field.has_attr("checked"):
                data.setdefault(name, []).append(field["value"])
        else:
            data[name] = field.text if field.name == "textarea" else field.get("value", "")
    return data


def history(db, account):
    db.session.expire_all()
    audit = db.session.scalars(sa.select(AuditLog).where(AuditLog.account_id == account.id)).all()
    events = db.session.scalars(
        sa.select(ContactEvent).where(ContactEvent.account_id == account.id)
    ).all()
    return audit, events


def test_the_form_shows_what_we_hold_now(client, officer, account):
    data = as_filled_in(client, path_for(account))

    assert data["email"] == "old@example.com"
    assert data["preferred_channel"] == ["post"]
    assert (data["line1"], data["town"], data["postcode"]) == (
        account.addresses[0].line1,
        "Ambridge",
        "AB1 2CD",
    )
    assert data["note"] == ""


def test_a_change_is_saved_with_before_and_after_in_the_audit_log_and_on_the_timeline(
    client, db, officer, account
):
    path = path_for(account)
    old_line1 = account.addresses[0].line1
    data = as_filled_in(client, path) | {
        "email": "linda.archer@example.com",
        "mobile_phone": "+44 7700 900982",
        "preferred_channel": "sms",
        "consents": ["sms"],
        "line1": "2 Church Lane",
        "town": "Borchester",
        "postcode": "bc1 2xy",
        "note": NOTE,
    }

    response = client.post(path, data=data)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/backoffice/accounts/{account.reference}"
    db.session.expire_all()
    saved = db.session.get(DebtorAccount, account.id)
    assert (saved.email, saved.mobile_phone, saved.preferred_channel) == (
        "linda.archer@example.com",
        "07700 900982",
        Channel.SMS,
    )
    assert (saved.consent_email, saved.consent_sms) == (False, True)
    addresses = db.session.scalars(
        sa.select(Address).where(Address.account_id == account.id).order_by(Address.id)
    ).all()
    assert [(a.line1, a.postcode, a.postcode_key, a.is_primary) for a in addresses] == [
        (old_line1, "AB1 2CD", "AB12CD", False),  # kept: where we wrote before
        ("2 Church Lane", "BC1 2XY", "BC12XY", True),
    ]

    [audit], [event] = history(db, account)
    assert (audit.action, audit.actor_type, audit.actor_id, audit.source_ip) == (
        "account.contact_details_updated",
        "staff",
        officer.id,
        "127.0.0.1",
    )
    assert audit.before == {
        "email": "old@example.com",
        "mobile_phone": None,
        "preferred_channel": "post",
        "consent_sms": False,
        "address": f"{old_line1}, Ambridge, AB1 2CD",
    }
    assert audit.after == {
        "email": "linda.archer@example.com",
        "mobile_phone": "07700 900982",
        "preferred_channel": "sms",
        "consent_sms": True,
        "address": "2 Church Lane, Borchester, BC1 2XY",
        "request_note": NOTE,
    }
    assert event.summary == (
        "Contact details updated: email, mobile, preferred contact method, "
        "text message consent, address"
    )
    assert (event.detail, event.staff_id) == (NOTE, officer.id)

    # The case page's timeline is its own section now.
    case = parse(client.get(response.headers["Location"] + "/timeline"))
    items = case.select(".moj-timeline__item, .app-timeline li")
    entry = next(item for item in items if "Contact details" in text(item))
    assert NOTE in text(entry)
    assert "by Priya Officer" in text(entry)
    summary = parse(client.get(response.headers["Location"]))
    assert "2 Church Lane" in text(summary)


def test_saving_without_changing_anything_records_nothing(client, db, officer, account):
    path = path_for(account)

    response = client.post(path, data=as_filled_in(client, path) | {"note": NOTE})

    assert response.status_code == 302
    assert history(db, account) == ([], [])
    assert "Nothing was changed" in text(parse(client.get(response.headers["Location"])))


@pytest.mark.parametrize(
    ("fields", "message", "anchor"),
    [
        ({"postcode": "NOT A PC"}, "Enter a real postcode", "#postcode"),
        (
            {"email": "linda.example.com"},
            "Enter an email address in the correct format, like name@example.com",
            "#email",
        ),
        (
            {"mobile_phone": "01632 960 001"},
            "Enter a UK mobile phone number, like 07700 900 982",
            "#mobile_phone",
        ),
        ({"note": ""}, "Enter how the debtor asked for the change", "#note"),
        ({"line1": "", "line2": ""}, "Enter the first line of the address", "#line1"),
        (
            {"email": "", "preferred_channel": "email"},
            "Enter an email address if you want us to contact you by email",
            "#email",
        ),
    ],
)
def test_bad_details_are_explained_and_nothing_is_changed(
    client, db, officer, account, fields, message, anchor
):
    path = path_for(account)
    data = as_filled_in(client, path) | {"email": "new@example.com", "note": NOTE} | fields

    response = client.post(path, data=data)

    assert response.status_code == 200
    page = parse(response)
    assert (message, anchor) in error_summary(page)
    db.session.expire_all()
    saved = db.session.get(DebtorAccount, account.id)
    assert saved.email == "old@example.com"
    assert len(saved.addresses) == 1
    assert history(db, account) == ([], [])


def test_an_auditor_cannot_change_contact_details(client, db, account):
    signed_in_session(client, make_staff(role=StaffRole.AUDITOR))
    path = path_for(account)

    assert client.get(path).status_code == 403
    token = csrf_token(client, "/backoffice/unallocated")  # the sign-out form's
    response = client.post(
        path,
        data={
            "csrf_token": token,
            "email": "hijack@example.com",
            "preferred_channel": "email",
            "note": NOTE,
        },
    )

    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(DebtorAccount, account.id).email == "old@example.com"
    assert history(db, account) == ([], [])


def test_the_case_view_links_officers_to_the_form_but_not_auditors(client, db, account):
    case_path = f"/backoffice/accounts/{account.reference}"
    signed_in_session(client, make_staff(role=StaffRole.OFFICER))
    assert parse(client.get(case_path)).select_one(f"a[href='{path_for(account)}']")

    signed_in_session(client, make_staff(role=StaffRole.AUDITOR))
    assert parse(client.get(case_path)).select_one(f"a[href='{path_for(account)}']") is None
