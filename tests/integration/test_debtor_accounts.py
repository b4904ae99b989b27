"""Officers create debtor accounts only after seeing the accounts that look like the same
debtor (same name and postcode, email, mobile or phone, company number or finance
customer id), and edit accounts with the change on the timeline and in the audit log.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa

from shared.domain.debtor_details import DebtorDetails
from shared.models import Address, AuditLog, ContactEvent, DebtorAccount, DebtorKind, StaffRole
from shared.services import actors, debtor_accounts
from shared.services.debtor_accounts import DetailsRefused, UnacknowledgedDuplicates
from shared.services.errors import NotFound
from tests.factories import make_account, make_staff

LINDA = DebtorDetails(
    kind="person",
    title="Mrs",
    forename="Linda",
    surname="Snell",
    line1="1 The Green",
    town="Ambridge",
    postcode="bc1 2xy",
    email="linda@example.com",
    mobile_phone="07700 900111",
    preferred_channel="email",
    consent_email=True,
)
SNELL_LTD = DebtorDetails(
    kind="organisation",
    organisation_name="Snell Holdings Limited",
    company_number="1234567",
    line1="Unit 4, Hollerton Business Park",
    town="Hollerton",
    postcode="HO1 4AB",
)


@pytest.fixture
def officer(app):
    return actors.staff(make_staff(StaffRole.OFFICER).id, "192.0.2.1")


def rows(db, model, account_id):
    db.session.expire_all()
    return db.session.scalars(
        sa.select(model).where(model.account_id == account_id).order_by(model.id)
    ).all()


def reasons_for(details):
    return {d.reference: d.reasons for d in debtor_accounts.find_likely_duplicates(details)}


# --- creating ---------------------------------------------------------------------------


def test_an_account_is_created_with_the_next_reference_its_address_and_history(db, officer):
    created = debtor_accounts.create_account(LINDA, officer)

    assert created.reference == "A00000001"
    assert created.name == "Mrs Linda Snell"
    account = db.session.get(DebtorAccount, created.id)
    assert (account.kind, account.surname, account.email, account.mobile_phone) == (
        DebtorKind.PERSON,
        "Snell",
        "linda@example.com",
        "07700 900111",
    )
    assert account.consent_email and not account.consent_sms
    assert account.consent_updated_at is not None
    [address] = account.addresses
    assert (address.postcode, address.postcode_key, address.is_primary) == (
        "BC1 2XY",
        "BC12XY",
        True,
    )
    [event] = rows(db, ContactEvent, created.id)
    assert (event.summary, event.staff_id, event.detail) == ("Account created", officer.id, None)
    [audit] = rows(db, AuditLog, created.id)
    assert (audit.action, audit.actor_id, audit.source_ip) == (
        "account.created",
        officer.id,
        "192.0.2.1",
    )
    assert audit.after["surname"] == "Snell"
    assert audit.after["address"] == "1 The Green, Ambridge, BC1 2XY"
    assert audit.after["acknowledged_duplicates"] == []


def test_references_carry_on_after_the_highest_already_stored(db, officer):
    make_account(reference="A00000041")

    created = debtor_accounts.create_account(SNELL_LTD, officer)

    assert created.reference == "A00000042"


def test_an_organisation_keeps_its_company_number_padded_and_no_personal_names(db, officer):
    created = debtor_accounts.create_account(
        replace(SNELL_LTD, forename="Ignored", surname="Ignored"), officer
    )

    account = db.session.get(DebtorAccount, created.id)
    assert account.company_number == "01234567"
    assert (account.forename, account.surname) == (None, None)
    assert account.consent_updated_at is None


@pytest.mark.parametrize(
    "change, field",
    [
        ({"surname": "  "}, "surname"),
        ({"postcode": "BC1-2XY"}, "postcode"),
        ({"mobile_phone": "12345"}, "mobile_phone"),
        ({"email": None}, "email"),  # email is the preferred channel
        ({"kind": "robot"}, "kind"),
    ],
)
def test_details_that_will_not_do_are_refused_by_field_and_nothing_is_created(
    db, officer, change, field
):
    with pytest.raises(DetailsRefused) as refused:
        debtor_accounts.create_account(replace(LINDA, **change), officer)

    assert field in refused.value.problems
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DebtorAccount)) == 0


# --- the duplicate check ----------------------------------------------------------------


def test_same_surname_and_postcode_is_a_likely_duplicate_whatever_the_case_and_spacing(db):
    archer = make_account(surname="SNELL", forename="L", postcode="BC1 2XY")

    assert reasons_for(LINDA) == {archer.reference: ("same name and postcode",)}


def test_someone_else_of_the_same_household_is_not_a_duplicate(db):
    make_account(surname="Snell", forename="Robert", postcode="BC1 2XY")

    assert reasons_for(LINDA) == {}


def test_a_previous_address_at_the_postcode_counts_too(db):
    moved = make_account(surname="Snell", forename="Linda", postcode="ZZ1 1ZZ")
    db.session.add(
        Address(
            account_id=moved.id,
            line1="1 The Green",
            town="Ambridge",
            postcode="BC1 2XY",
            postcode_key="BC12XY",
            is_primary=False,
        )
    )
    db.session.commit()

    assert reasons_for(LINDA) == {moved.reference: ("same name and postcode",)}


def test_same_email_in_any_case_is_a_likely_duplicate(db):
    other = make_account(surname="Grundy", postcode="ZZ1 1ZZ", email="Linda@Example.COM")

    assert reasons_for(LINDA) == {other.reference: ("same email",)}


def test_same_mobile_stored_with_other_spacing_or_as_the_other_phone_is_a_likely_duplicate(db):
    mobile = make_account(surname="Grundy", postcode="ZZ1 1ZZ", mobile_phone="077009 00111")
    other = make_account(surname="Archer", postcode="ZZ1 1ZZ", other_phone="07700 900 111")

    assert reasons_for(LINDA) == {
        mobile.reference: ("same mobile",),
        other.reference: ("same mobile",),
    }


def test_same_other_phone_is_a_likely_duplicate(db):
    landline = make_account(surname="Grundy", postcode="ZZ1 1ZZ", other_phone="01632 960001")

    found = reasons_for(replace(LINDA, mobile_phone=None, other_phone="01632960001"))

    assert found == {landline.reference: ("same phone number",)}


def test_same_company_number_and_a_differently_written_name_at_the_postcode_are_duplicates(db):
    company = make_account(
        kind=DebtorKind.ORGANISATION,
        surname=None,
        forename=None,
        organisation_name="The Snell Holdings Ltd.",
        company_number="01234567",
        postcode="HO1 4AB",
    )
    namesake = make_account(
        kind=DebtorKind.ORGANISATION,
        surname=None,
        forename=None,
        organisation_name="Snell Holdings Limited",
        postcode="ZZ1 1ZZ",
    )

    assert reasons_for(SNELL_LTD) == {
        company.reference: ("same company number", "same name and postcode")
    }
    assert namesake.reference not in reasons_for(SNELL_LTD)


def test_same_finance_customer_id_is_a_likely_duplicate_listed_first(db):
    first = make_account(surname="Grundy", postcode="ZZ1 1ZZ", email="linda@example.com")
    known = make_account(surname="Grundy", postcode="ZZ1 1ZZ", finance_customer_id="CUST-77")

    found = debtor_accounts.find_likely_duplicates(replace(LINDA, finance_customer_id="CUST-77"))

    assert [(d.reference, d.reasons) for d in found] == [
        (known.reference, ("same finance customer id",)),
        (first.reference, ("same email",)),
    ]


def test_an_account_sharing_several_keys_is_listed_once_with_every_reason(db):
    same = make_account(
        surname="Snell",
        forename="Linda",
        postcode="BC1 2XY",
        email="linda@example.com",
        mobile_phone="07700 900111",
    )

    [duplicate] = debtor_accounts.find_likely_duplicates(LINDA)

    assert duplicate.reference == same.reference
    assert duplicate.reasons == ("same name and postcode", "same email", "same mobile")
    assert duplicate.why == "Same name and postcode, same email, same mobile"
    assert duplicate.name == "Linda Snell"
    assert duplicate.address.endswith("Ambridge, BC1 2XY")


def test_a_crowded_postcode_does_not_crowd_out_a_match_on_another_key(db, monkeypatch):
    monkeypatch.setattr(debtor_accounts, "MAX_CANDIDATES", 2)
    for _ in range(3):
        make_account(surname="Snell", forename="Robert", postcode="BC1 2XY")
    by_email = make_account(surname="Grundy", postcode="ZZ1 1ZZ", email="linda@example.com")

    assert reasons_for(LINDA) == {by_email.reference: ("same email",)}


def test_creating_is_refused_with_the_list_until_every_likely_duplicate_is_acknowledged(
    db, officer
):
    same = make_account(surname="Snell", forename="Linda", postcode="BC1 2XY")

    with pytest.raises(UnacknowledgedDuplicates) as refused:
        debtor_accounts.create_account(LINDA, officer)

    assert [d.reference for d in refused.value.duplicates] == [same.reference]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DebtorAccount)) == 1

    created = debtor_accounts.create_account(LINDA, officer, acknowledged_duplicate_ids=[same.id])

    [event] = rows(db, ContactEvent, created.id)
    assert event.detail == (
        "Created although these accounts looked like the same debtor: "
        f"{same.reference} (same name and postcode)"
    )
    [audit] = rows(db, AuditLog, created.id)
    assert audit.after["acknowledged_duplicates"] == [same.reference]


def test_a_duplicate_created_after_the_officer_looked_is_still_caught(db, officer):
    seen = make_account(surname="Snell", forename="Linda", postcode="BC1 2XY")
    shown = debtor_accounts.find_likely_duplicates(LINDA)
    since = make_account(surname="Grundy", postcode="ZZ1 1ZZ", email="linda@example.com")

    with pytest.raises(UnacknowledgedDuplicates) as refused:
        debtor_accounts.create_account(
            LINDA, officer, acknowledged_duplicate_ids=[d.account_id for d in shown]
        )

    assert {d.reference for d in refused.value.duplicates} == {seen.reference, since.reference}


def test_a_finance_customer_id_already_used_is_refused_even_when_acknowledged(db, officer):
    holder = make_account(surname="Grundy", postcode="ZZ1 1ZZ", finance_customer_id="CUST-77")

    with pytest.raises(DetailsRefused) as refused:
        debtor_accounts.create_account(
            replace(LINDA, finance_customer_id="CUST-77"),
            officer,
            acknowledged_duplicate_ids=[holder.id],
        )

    assert refused.value.problems == {
        "finance_customer_id": f"Account {holder.reference} already has this finance system "
        "customer id"
    }


# --- editing ----------------------------------------------------------------------------


def test_an_edit_saves_only_what_changed_with_before_and_after_and_says_what_on_the_timeline(
    db, officer
):
    created = debtor_accounts.create_account(LINDA, officer)
    details = debtor_accounts.current_details(created.id)

    changed = debtor_accounts.update_account(
        created.id,
        replace(details, surname="Snell-Archer", email="l.snell@example.com", postcode="BC1 3ZZ"),
        officer,
        note="Letter from the debtor",
    )

    assert changed == ["surname", "email", "address"]
    account = db.session.get(DebtorAccount, created.id)
    assert (account.surname, account.email) == ("Snell-Archer", "l.snell@example.com")
    assert [(a.postcode, a.is_primary) for a in rows(db, Address, created.id)] == [
        ("BC1 2XY", False),
        ("BC1 3ZZ", True),
    ]
    event = rows(db, ContactEvent, created.id)[-1]
    assert event.summary == "Account details updated: name, email, address"
    assert event.detail == "Letter from the debtor"
    audit = rows(db, AuditLog, created.id)[-1]
    assert audit.action == "account.details_updated"
    assert audit.before == {
        "surname": "Snell",
        "email": "linda@example.com",
        "address": "1 The Green, Ambridge, BC1 2XY",
    }
    assert audit.after == {
        "surname": "Snell-Archer",
        "email": "l.snell@example.com",
        "address": "1 The Green, Ambridge, BC1 3ZZ",
        "note": "Letter from the debtor",
    }


def test_a_consent_change_stamps_when_consent_was_updated(db, officer):
    created = debtor_accounts.create_account(replace(LINDA, consent_email=False), officer)
    assert db.session.get(DebtorAccount, created.id).consent_updated_at is None

    debtor_accounts.update_account(
        created.id,
        replace(debtor_accounts.current_details(created.id), consent_sms=True),
        officer,
        note="Phone call from the debtor",
    )

    db.session.expire_all()
    assert db.session.get(DebtorAccount, created.id).consent_updated_at is not None


def test_an_edit_that_changes_nothing_records_nothing(db, officer):
    created = debtor_accounts.create_account(LINDA, officer)

    changed = debtor_accounts.update_account(
        created.id, debtor_accounts.current_details(created.id), officer, note="Checked"
    )

    assert changed == []
    assert len(rows(db, AuditLog, created.id)) == 1


def test_a_person_can_be_made_an_organisation(db, officer):
    created = debtor_accounts.create_account(LINDA, officer)
    details = debtor_accounts.current_details(created.id)

    debtor_accounts.update_account(
        created.id,
        replace(details, kind="organisation", organisation_name="Snell Teas", company_number="sc1"),
        officer,
        note="Trades as a company",
    )

    db.session.expire_all()
    account = db.session.get(DebtorAccount, created.id)
    assert (account.kind, account.display_name, account.surname) == (
        DebtorKind.ORGANISATION,
        "Snell Teas",
        None,
    )
    assert account.company_number == "SC000001"
    assert rows(db, ContactEvent, created.id)[-1].summary == (
        "Account details updated: type, name, company number"
    )


def test_an_edit_needs_the_officers_reason(db, officer):
    created = debtor_accounts.create_account(LINDA, officer)

    with pytest.raises(DetailsRefused) as refused:
        debtor_accounts.update_account(
            created.id, replace(LINDA, surname="Archer"), officer, note="  "
        )

    assert refused.value.problems == {"note": "Enter why the details are changing"}
    db.session.expire_all()
    assert db.session.get(DebtorAccount, created.id).surname == "Snell"


def test_a_finance_customer_id_another_account_has_is_refused_on_edit(db, officer):
    holder = make_account(surname="Grundy", postcode="ZZ1 1ZZ", finance_customer_id="CUST-77")
    created = debtor_accounts.create_account(LINDA, officer)

    with pytest.raises(DetailsRefused) as refused:
        debtor_accounts.update_account(
            created.id,
            replace(LINDA, finance_customer_id="CUST-77"),
            officer,
            note="From the finance system",
        )

    assert refused.value.problems["finance_customer_id"].startswith(f"Account {holder.reference}")
    db.session.expire_all()
    assert db.session.get(DebtorAccount, created.id).finance_customer_id is None


def test_keeping_its_own_finance_customer_id_is_no_conflict(db, officer):
    created = debtor_accounts.create_account(replace(LINDA, finance_customer_id="C1"), officer)

    changed = debtor_accounts.update_account(
        created.id,
        replace(debtor_accounts.current_details(created.id), title="Ms"),
        officer,
        note="Asked to be Ms",
    )

    assert changed == ["title"]


def test_editing_an_account_that_does_not_exist_is_not_found(db, officer):
    with pytest.raises(NotFound):
        debtor_accounts.update_account(999_999, LINDA, officer, note="x")
