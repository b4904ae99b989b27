"""Officers create a debtor account, seeing first any account that looks like the same
debtor (and why) with the choice to open it or create anyway, and edit an account's
details; bad details get GOV.UK field errors and change nothing; only those who
manage accounts may."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.models import AuditLog, ContactEvent, DebtorAccount, DebtorKind, StaffRole
from tests.factories import make_account, make_department, make_staff
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, inline_errors, parse, text, title

NEW = "/backoffice/accounts/new"

LINDA = {
    "kind": "person",
    "title": "Mrs",
    "forename": "Linda",
    "surname": "Snell",
    "line1": "1 The Green",
    "town": "Ambridge",
    "postcode": "bc1 2xy",
    "email": "linda@example.com",
    "mobile_phone": "07700 900111",
    "preferred_channel": "email",
    "consents": ["email"],
}


@pytest.fixture
def officer(client, db):
    person = make_staff(StaffRole.OFFICER, full_name="Priya Officer")
    signed_in_session(client, person)
    return person


def post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


def accounts(db):
    db.session.expire_all()
    return db.session.scalars(sa.select(DebtorAccount).order_by(DebtorAccount.id)).all()


def as_sent_back(page) -> dict:
    """What the browser sends from the duplicates page's form, before the button's value."""
    data: dict = {}
    for field in page.select("form[method=post] input[type=hidden]"):
        if field["name"] != "csrf_token":
            data.setdefault(field["name"], []).append(field["value"])
    return data


# --- creating ---------------------------------------------------------------------------


def test_the_create_form_asks_person_or_organisation_with_each_kinds_own_questions(client, officer):
    page = parse(client.get(NEW))

    assert title(page).startswith("Create an account")
    kinds = page.select("input[name=kind]")
    assert [k["value"] for k in kinds] == ["person", "organisation"]
    person, organisation = (page.select_one(f"#{k['data-aria-controls']}") for k in kinds)
    assert {i["name"] for i in person.select("input")} == {"title", "forename", "surname"}
    assert {i["name"] for i in organisation.select("input")} == {
        "organisation_name",
        "company_number",
    }
    assert page.select_one(f"form[method=post][action='{NEW}'] input[name=surname]")


def test_an_account_with_no_likely_duplicate_is_created_and_the_officer_taken_to_it(
    client, db, officer
):
    response = post(client, NEW, LINDA)

    [account] = accounts(db)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/backoffice/accounts/{account.reference}"
    assert account.reference == "A00000001"
    assert (account.display_name, account.addresses[0].postcode) == ("Mrs Linda Snell", "BC1 2XY")
    case = parse(client.get(response.headers["Location"]))
    assert "Account A00000001 created for Mrs Linda Snell" in text(case)


def test_bad_details_get_the_error_summary_in_page_order_and_create_nothing(client, db, officer):
    response = post(
        client,
        NEW,
        LINDA
        | {
            "surname": "",
            "postcode": "BC1-2XY",
            "email": "not an email",
            "mobile_phone": "12345",
        },
    )

    assert response.status_code == 200
    page = parse(response)
    assert title(page).startswith("Error: ")
    assert error_summary(page) == [
        ("Enter the debtor's last name", "#surname"),
        ("Enter a real postcode, like SW1A 1AA", "#postcode"),
        ("Enter an email address in the correct format, like name@example.com", "#email"),
        ("Enter a UK mobile phone number, like 07700 900 982", "#mobile_phone"),
    ]
    assert inline_errors(page)["postcode"] == "Enter a real postcode, like SW1A 1AA"
    assert accounts(db) == []


def test_an_organisation_needs_its_name_and_a_real_company_number(client, db, officer):
    response = post(
        client,
        NEW,
        {
            "kind": "organisation",
            "organisation_name": "",
            "company_number": "SC12345678",
            "line1": "Unit 4",
            "town": "Hollerton",
            "postcode": "HO1 4AB",
            "preferred_channel": "post",
        },
    )

    assert [message for message, _ in error_summary(parse(response))] == [
        "Enter the organisation's name",
        "Enter a company number of 8 characters, like 01234567 or SC123456, as it is on "
        "the Companies House register",
    ]
    assert accounts(db) == []


def test_likely_duplicates_are_shown_with_why_and_a_way_to_open_each(client, db, officer):
    same = make_account(
        surname="Snell", forename="Linda", postcode="BC1 2XY", email="LINDA@example.com"
    )
    other = make_account(surname="Grundy", postcode="ZZ1 1ZZ", mobile_phone="07700 900111")

    response = post(client, NEW, LINDA)

    assert response.status_code == 200
    page = parse(response)
    assert text(page.h1) == "There may already be an account for this debtor"
    rows = [
        [text(cell) for cell in row.select("td")]
        for row in page.select("table.app-likely-duplicates tbody tr")
    ]
    assert rows == [
        [
            f"Open {same.reference} (Linda Snell)",
            "Linda Snell",
            f"{same.addresses[0].line1}, Ambridge, BC1 2XY",
            "Same name and postcode, same email",
        ],
        [
            f"Open {other.reference} (Alex Grundy)",
            "Alex Grundy",
            f"{other.addresses[0].line1}, Ambridge, ZZ1 1ZZ",
            "Same mobile",
        ],
    ]
    links = [a["href"] for a in page.select("table.app-likely-duplicates a")]
    assert links == [
        f"/backoffice/accounts/{same.reference}",
        f"/backoffice/accounts/{other.reference}",
    ]
    assert len(accounts(db)) == 2  # nothing created yet


def test_create_anyway_creates_the_account_noting_the_duplicates_it_was_shown(client, db, officer):
    same = make_account(surname="Snell", forename="Linda", postcode="BC1 2XY")
    page = parse(post(client, NEW, LINDA))

    response = post(client, NEW, as_sent_back(page) | {"decision": "create"})

    assert response.status_code == 302
    created = accounts(db)[-1]
    assert response.headers["Location"] == f"/backoffice/accounts/{created.reference}"
    assert (created.surname, created.email, created.consent_email) == (
        "Snell",
        "linda@example.com",
        True,
    )
    event = db.session.scalars(
        sa.select(ContactEvent).where(ContactEvent.account_id == created.id)
    ).one()
    assert same.reference in event.detail
    audit = db.session.scalars(sa.select(AuditLog).where(AuditLog.account_id == created.id)).one()
    assert audit.after["acknowledged_duplicates"] == [same.reference]


def test_a_duplicate_that_appears_after_the_officer_looked_is_shown_before_creating(
    client, db, officer
):
    make_account(surname="Snell", forename="Linda", postcode="BC1 2XY")
    page = parse(post(client, NEW, LINDA))
    since = make_account(surname="Grundy", postcode="ZZ1 1ZZ", email="linda@example.com")

    response = post(client, NEW, as_sent_back(page) | {"decision": "create"})

    assert response.status_code == 200
    again = parse(response)
    assert "have changed since you looked" in text(again)
    assert since.reference in text(again.select_one("table.app-likely-duplicates"))
    assert len(accounts(db)) == 2


def test_change_the_details_goes_back_to_the_form_filled_in(client, db, officer):
    make_account(surname="Snell", forename="Linda", postcode="BC1 2XY")
    page = parse(post(client, NEW, LINDA))

    response = post(client, NEW, as_sent_back(page) | {"decision": "change"})

    form = parse(response)
    assert text(form.h1) == "Create an account"
    assert form.select_one("input[name=surname]")["value"] == "Snell"
    assert form.select_one("input[name=postcode]")["value"] == "bc1 2xy"
    assert form.select_one("input[name=kind][value=person]").has_attr("checked")
    assert error_summary(form) == []
    assert len(accounts(db)) == 1


def test_a_finance_customer_id_another_account_has_is_a_field_error(client, db, officer):
    holder = make_account(surname="Grundy", postcode="ZZ1 1ZZ", finance_customer_id="C-9")

    # Not a likely duplicate to create anyway: the id can only be one account's.
    response = post(client, NEW, LINDA | {"finance_customer_id": "C-9"})

    assert error_summary(parse(response)) == [
        (
            f"Account {holder.reference} already has this finance system customer id",
            "#finance_customer_id",
        )
    ]
    assert len(accounts(db)) == 1


# --- editing ----------------------------------------------------------------------------


def edit_path(account) -> str:
    return f"/backoffice/accounts/{account.reference}/details/edit"


def as_filled_in(client, path) -> dict:
    page = parse(client.get(path))
    data: dict = {}
    for field in page.select("form[method=post] input, form[method=post] textarea"):
        name = field.get("name")
        if not name or field.get("type") == "submit" or name == "csrf_token":
            continue
        if field.get("type") in ("radio", "checkbox"):
            if field.has_attr("checked"):
                data.setdefault(name, []).append(field["value"])
        else:
            data[name] = field.text if field.name == "textarea" else field.get("value", "")
    return data


def test_the_edit_form_shows_what_the_account_holds(client, officer):
    account = make_account(
        kind=DebtorKind.ORGANISATION,
        surname=None,
        forename=None,
        organisation_name="Snell Holdings Ltd",
        company_number="01234567",
        finance_customer_id="C-1",
        postcode="HO1 4AB",
    )

    data = as_filled_in(client, edit_path(account))

    assert data["kind"] == ["organisation"]
    assert (data["organisation_name"], data["company_number"], data["finance_customer_id"]) == (
        "Snell Holdings Ltd",
        "01234567",
        "C-1",
    )
    assert (data["postcode"], data["preferred_channel"], data["note"]) == ("HO1 4AB", ["post"], "")


def test_an_edit_is_saved_and_the_timeline_says_what_changed(client, db, officer):
    account = make_account(surname="Snell", forename="Linda", postcode="BC1 2XY")
    path = edit_path(account)
    data = as_filled_in(client, path) | {
        "surname": "Snell-Archer",
        "company_number": "12345678",  # a person has none: dropped
        "note": "Married",
    }

    response = client.post(path, data=data | {"csrf_token": csrf_token(client, path)})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/backoffice/accounts/{account.reference}"
    db.session.expire_all()
    saved = db.session.get(DebtorAccount, account.id)
    assert (saved.surname, saved.company_number) == ("Snell-Archer", None)
    event = db.session.scalars(
        sa.select(ContactEvent).where(ContactEvent.account_id == account.id)
    ).one()
    assert (event.summary, event.detail, event.staff_id) == (
        "Account details updated: name",
        "Married",
        officer.id,
    )


def test_an_edit_without_a_reason_is_a_field_error_and_changes_nothing(client, db, officer):
    account = make_account(surname="Snell", postcode="BC1 2XY")
    path = edit_path(account)
    data = as_filled_in(client, path) | {"surname": "Archer", "note": " "}

    response = client.post(path, data=data | {"csrf_token": csrf_token(client, path)})

    assert error_summary(parse(response)) == [("Enter why the details are changing", "#note")]
    db.session.expire_all()
    assert db.session.get(DebtorAccount, account.id).surname == "Snell"


def test_the_case_page_links_to_edit_details_and_the_search_page_to_create(client, officer):
    account = make_account()

    case = parse(client.get(f"/backoffice/accounts/{account.reference}"))
    search = parse(client.get("/backoffice/search?q=nobody"))

    assert case.find("a", string="Edit details")["href"] == edit_path(account)
    assert search.find("a", string="Create an account")["href"] == NEW


# --- who may ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [StaffRole.AUDITOR, StaffRole.ADMIN, "service_department"])
def test_people_who_do_not_manage_accounts_get_403_and_no_links(client, db, role):
    account = make_account()
    extra = {}
    if role == "service_department":
        role = StaffRole("service_department")
        extra["department_id"] = make_department().id
    signed_in_session(client, make_staff(role, **extra))

    assert client.get(NEW).status_code == 403
    assert client.post(NEW, data=LINDA).status_code in (400, 403)  # no token, or no permission
    assert client.get(edit_path(account)).status_code == 403
    if role != "service_department":
        case = parse(client.get(f"/backoffice/accounts/{account.reference}"))
        assert case.find("a", string="Edit details") is None
