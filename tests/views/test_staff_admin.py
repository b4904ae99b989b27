"""An administrator manages staff: adding people, roles, delegated limits, deactivation
and resets. Every change is audited with the values before and after."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from shared.extensions import db
from shared.models import (
    ActorType,
    AuditLog,
    OutboxChannel,
    OutboxMessage,
    StaffRole,
    StaffUser,
)
from shared.models.base import utcnow
from shared.services import staff_admin
from shared.services.errors import Forbidden
from tests.factories import make_staff
from tests.views.conftest import SET_UP_PATH, signed_in_session
from tests.views.pages import csrf_token, error_summary, parse, text, title

PASSWORD = "correct horse battery"


@pytest.fixture
def admin(client):
    person = make_staff(StaffRole.ADMIN, full_name="Ada Admin")
    signed_in_session(client, person)
    return person


@pytest.fixture
def officer():
    return make_staff(
        StaffRole.OFFICER,
        full_name="Olu Officer",
        email="olu@council.example",
        refund_limit_pence=25_000,
        write_off_limit_pence=10_000,
    )


def post(client, path: str, data: dict | None = None):
    return client.post(
        path, data={"csrf_token": csrf_token(client, "/backoffice/"), **(data or {})}
    )


def last_audit() -> AuditLog:
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id.desc())).first()


def reload(user: StaffUser) -> StaffUser:
    db.session.expire_all()
    return db.session.get(StaffUser, user.id)


def banners(response_or_page) -> str:
    return " | ".join(text(b) for b in response_or_page.select(".govuk-notification-banner"))


def audit_rows(action: str | None = None) -> list[AuditLog]:
    db.session.expire_all()
    query = sa.select(AuditLog).order_by(AuditLog.id)
    if action is not None:
        query = query.where(AuditLog.action == action)
    return list(db.session.scalars(query))


def emailed_password(email: str) -> str:
    """The temporary password from the latest email to `email` (its only copy)."""
    db.session.expire_all()
    message = db.session.scalars(
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.template == "staff_temporary_password",
            OutboxMessage.recipient == email,
        )
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None, f"no temporary password was emailed to {email}"
    assert message.channel == OutboxChannel.EMAIL
    return re.search(r"\b[a-z2-9]{4}(?:-[a-z2-9]{4}){3}\b", message.body).group(0)


# --- the list ------------------------------------------------------------------------


def test_the_staff_list_is_a_table_of_everyone_with_role_limits_and_status(client, admin, officer):
    leaver = make_staff(StaffRole.AUDITOR, full_name="Lee Leaver", active=False)

    page = parse(client.get("/backoffice/staff"))

    assert title(page).startswith("Staff")
    table = page.select_one("main table.govuk-table")
    assert [text(th) for th in table.select("thead th")] == [
        "Name",
        "Email address",
        "Role",
        "Refund limit",
        "Write-off limit",
        "Status",
    ]
    rows = [[text(cell) for cell in tr.select("th, td")] for tr in table.select("tbody tr")]
    assert rows == [
        ["Ada Admin", admin.email, "Administrator", "£0.00", "£0.00", "Not set up"],
        [
            "Olu Officer",
            "olu@council.example",
            "Recovery officer",
            "£250.00",
            "£100.00",
            "Not set up",
        ],
        ["Lee Leaver", leaver.email, "Auditor", "£0.00", "£0.00", "Deactivated"],
    ]
    link = table.select_one("tbody tr:nth-of-type(2) a")
    assert link["href"] == f"/backoffice/staff/{officer.id}"
    assert page.select_one('main a[href="/backoffice/staff/new"]')


# --- adding someone ------------------------------------------------------------------


def test_adding_a_member_of_staff_emails_them_a_temporary_password_the_admin_never_sees(
    app, client, admin, enter_password
):
    response = post(
        client,
        "/backoffice/staff/new",
        {
            "full_name": " Nia New ",
            "email": " Nia.New@Council.example ",
            "role": "team_leader",
            "refund_limit": "£1,500",
            "write_off_limit": "750.50",
        },
    )

    person = db.session.scalars(sa.select(StaffUser).where(StaffUser.full_name == "Nia New")).one()
    assert response.headers["Location"] == f"/backoffice/staff/{person.id}"
    page = parse(client.get(response.headers["Location"]))
    assert "We have emailed a temporary password to nia.new@council.example" in banners(page)
    # Only the new person's mailbox has it: never the administrator's screen.
    password = emailed_password("nia.new@council.example")
    assert password not in response.get_data(as_text=True) + str(page)
    assert (person.email, person.role) == ("nia.new@council.example", StaffRole.TEAM_LEADER)
    assert (person.refund_limit_pence, person.write_off_limit_pence) == (150_000, 75_050)
    assert person.totp_secret is None
    assert person.must_change_password is True
    row = audit_rows("staff.created")[-1]
    assert (row.action, row.actor_type, row.actor_id, row.object_id) == (
        "staff.created",
        ActorType.STAFF,
        admin.id,
        str(person.id),
    )
    assert row.after == {
        "email": "nia.new@council.example",
        "full_name": "Nia New",
        "role": "team_leader",
        "refund_limit_pence": 150_000,
        "write_off_limit_pence": 75_050,
        "invoice_limit_pence": 0,
        "department_id": None,
    }
    assert all(password not in f"{r.before}{r.after}" for r in audit_rows())
    # The new person can use it, and sets up an app at first sign-in.
    assert (
        enter_password("nia.new@council.example", password, on=app.test_client()).headers[
            "Location"
        ]
        == SET_UP_PATH
    )


def test_adding_someone_with_an_email_already_in_use_is_refused_whatever_its_case(
    client, admin, officer
):
    page = parse(
        post(
            client,
            "/backoffice/staff/new",
            {
                "full_name": "Someone",
                "email": "OLU@council.example",
                "role": "officer",
                "refund_limit": "0",
                "write_off_limit": "0",
            },
        )
    )

    assert error_summary(page) == [("A member of staff already has this email address", "#email")]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffUser)) == 2


def test_an_empty_add_form_explains_every_field_in_page_order(client, admin):
    page = parse(post(client, "/backoffice/staff/new", {"refund_limit": "", "write_off_limit": ""}))

    assert title(page).startswith("Error: Add a member of staff")
    assert error_summary(page) == [
        ("Enter their full name", "#full_name"),
        ("Enter their email address", "#email"),
        ("Select a role", "#role"),
        ("Enter a refund limit", "#refund_limit"),
        ("Enter a write-off limit", "#write_off_limit"),
    ]


def test_the_add_form_starts_with_limits_of_nothing(client, admin):
    page = parse(client.get("/backoffice/staff/new"))

    assert page.select_one("input#refund_limit")["value"] == "0"
    assert page.select_one("input#write_off_limit")["value"] == "0"
    assert page.select_one("main form")["novalidate"] is not None


# --- role ----------------------------------------------------------------------------


def test_changing_a_role_is_audited_and_ends_their_sessions(app, client, admin, officer):
    theirs = app.test_client()
    signed_in_session(theirs, officer)
    assert theirs.get("/backoffice/").status_code == 200

    response = post(client, f"/backoffice/staff/{officer.id}/role", {"role": "team_leader"})

    assert response.headers["Location"] == f"/backoffice/staff/{officer.id}"
    assert reload(officer).role == StaffRole.TEAM_LEADER
    row = last_audit()
    assert (row.action, row.actor_id, row.before, row.after) == (
        "staff.role_changed",
        admin.id,
        {"role": "officer"},
        {"role": "team_leader"},
    )
    assert theirs.get("/backoffice/").headers["Location"] == "/backoffice/sign-in"
    detail = parse(client.get(response.headers["Location"]))
    assert "Olu Officer’s role is now Team leader" in banners(detail)


def test_the_role_page_shows_the_current_role_chosen(client, admin, officer):
    page = parse(client.get(f"/backoffice/staff/{officer.id}/role"))

    assert page.select_one("input[name=role][checked]")["value"] == "officer"
    assert text(page.select_one("legend")) == "Role"


def test_an_admin_cannot_change_their_own_role(client, admin):
    page = parse(post(client, f"/backoffice/staff/{admin.id}/role", {"role": "officer"}))

    assert error_summary(page) == [
        ("You cannot change the role of your own account. Ask another administrator", "#role")
    ]
    assert reload(admin).role == StaffRole.ADMIN
    assert client.get("/backoffice/staff").status_code == 200


def test_a_role_that_does_not_exist_is_refused(client, admin, officer):
    page = parse(post(client, f"/backoffice/staff/{officer.id}/role", {"role": "superuser"}))

    assert error_summary(page) == [("Select a role", "#role")]


# --- limits --------------------------------------------------------------------------


def test_limits_are_typed_in_pounds_stored_in_pence_and_audited(client, admin, officer):
    page = parse(client.get(f"/backoffice/staff/{officer.id}/limits"))
    assert page.select_one("input#refund_limit")["value"] == "250.00"

    response = post(
        client,
        f"/backoffice/staff/{officer.id}/limits",
        {"refund_limit": "£1,234.56", "write_off_limit": "500"},
    )

    assert response.headers["Location"] == f"/backoffice/staff/{officer.id}"
    person = reload(officer)
    assert (person.refund_limit_pence, person.write_off_limit_pence) == (123_456, 50_000)
    row = last_audit()
    assert (row.action, row.actor_id) == ("staff.limits_changed", admin.id)
    assert row.before == {
        "refund_limit_pence": 25_000,
        "write_off_limit_pence": 10_000,
        "invoice_limit_pence": 0,
    }
    assert row.after == {
        "refund_limit_pence": 123_456,
        "write_off_limit_pence": 50_000,
        "invoice_limit_pence": 0,
        "requested_by": admin.id,
        "approved_by": None,
        "limit_change_id": row.after["limit_change_id"],
    }


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter a refund limit"),
        ("-5", "Refund limit must be £0 or more"),
        ("ten pounds", "Refund limit must be a number, like 123.45"),
        ("1.234", "Refund limit must not have more than 2 decimal places, like 123.45"),
        ("1000000.01", "Refund limit must be £1,000,000 or less"),
    ],
)
def test_a_limit_that_will_not_do_is_explained(client, admin, officer, typed, message):
    page = parse(
        post(
            client,
            f"/backoffice/staff/{officer.id}/limits",
            {"refund_limit": typed, "write_off_limit": "0"},
        )
    )

    assert error_summary(page) == [(message, "#refund_limit")]
    assert reload(officer).refund_limit_pence == 25_000


def test_saving_limits_unchanged_writes_no_audit_row(client, admin, officer):
    before = last_audit()

    post(
        client,
        f"/backoffice/staff/{officer.id}/limits",
        {"refund_limit": "250", "write_off_limit": "100.00"},
    )

    assert last_audit() == before


# --- deactivating and reactivating ---------------------------------------------------


def test_deactivating_ends_their_sessions_stops_sign_in_and_is_audited(
    app, client, admin, officer, enter_password
):
    theirs = app.test_client()
    signed_in_session(theirs, officer)

    response = post(client, f"/backoffice/staff/{officer.id}/deactivate")

    assert response.headers["Location"] == f"/backoffice/staff/{officer.id}"
    assert reload(officer).active is False
    row = last_audit()
    assert (row.action, row.actor_id, row.before, row.after) == (
        "staff.deactivated",
        admin.id,
        {"active": True},
        {"active": False},
    )
    assert theirs.get("/backoffice/").headers["Location"] == "/backoffice/sign-in"
    refused = parse(enter_password(officer.email, PASSWORD, on=theirs))
    assert error_summary(refused) == [("Email address or password is incorrect", "#email")]

    post(client, f"/backoffice/staff/{officer.id}/reactivate")

    assert reload(officer).active is True
    row = last_audit()
    assert (row.action, row.before, row.after) == (
        "staff.reactivated",
        {"active": False},
        {"active": True},
    )


def test_an_admin_cannot_deactivate_themselves_and_is_told_why(client, admin):
    response = post(client, f"/backoffice/staff/{admin.id}/deactivate")

    assert response.headers["Location"] == f"/backoffice/staff/{admin.id}"
    page = parse(client.get(response.headers["Location"]))
    assert "You cannot deactivate your own account. Ask another administrator" in banners(page)
    assert reload(admin).active is True
    assert client.get("/backoffice/staff").status_code == 200


def test_an_admins_own_page_offers_no_changes_to_their_own_access(client, admin):
    page = parse(client.get(f"/backoffice/staff/{admin.id}"))

    assert page.select("main form") == []
    assert not page.select_one(f'a[href="/backoffice/staff/{admin.id}/role"]')
    assert "Another administrator must change your own role" in text(page.main)


def test_the_detail_page_lists_the_person_and_offers_each_change(client, admin, officer):
    page = parse(client.get(f"/backoffice/staff/{officer.id}"))

    assert text(page.h1) == "Olu Officer"
    rows = {
        text(row.select_one("dt")): text(row.select_one("dd"))
        for row in page.select(".govuk-summary-list__row")
    }
    assert rows["Role"] == "Recovery officer"
    assert rows["Refund limit"] == "£250.00"
    assert rows["Status"] == "Active"
    assert rows["Two-factor authentication"].startswith("Not set up")
    actions = {form["action"] for form in page.select("main form")}
    assert actions == {
        f"/backoffice/staff/{officer.id}/reset-password",
        f"/backoffice/staff/{officer.id}/deactivate",
    }


# --- resets --------------------------------------------------------------------------


def test_resetting_two_factor_makes_them_set_up_an_app_again(
    app, client, admin, officer, sign_in, enter_password
):
    theirs = app.test_client()
    sign_in(officer.email, PASSWORD, on=theirs)
    assert reload(officer).totp_enrolled

    response = post(client, f"/backoffice/staff/{officer.id}/reset-two-factor")

    assert response.headers["Location"] == f"/backoffice/staff/{officer.id}"
    person = reload(officer)
    assert (person.totp_secret, person.totp_enrolled_at, person.totp_last_step) == (
        None,
        None,
        None,
    )
    row = last_audit()
    assert (row.action, row.before, row.after) == (
        "staff.two_factor_reset",
        {"enrolled": True},
        {"enrolled": False},
    )
    assert theirs.get("/backoffice/").headers["Location"] == "/backoffice/sign-in"
    assert enter_password(officer.email, PASSWORD, on=theirs).headers["Location"] == SET_UP_PATH


def test_resetting_a_password_emails_a_new_temporary_one_unlocks_and_ends_sessions(
    app, client, admin, officer, enter_password
):
    person = reload(officer)
    person.failed_sign_ins, person.locked_until = 3, utcnow()
    db.session.commit()
    theirs = app.test_client()
    signed_in_session(theirs, reload(officer))

    response = post(client, f"/backoffice/staff/{officer.id}/reset-password")

    assert response.headers["Location"] == f"/backoffice/staff/{officer.id}"
    page = parse(client.get(response.headers["Location"]))
    assert "We have emailed Olu Officer a temporary password" in banners(page)
    password = emailed_password(officer.email)
    assert password not in response.get_data(as_text=True) + str(page)
    person = reload(officer)
    assert (person.failed_sign_ins, person.locked_until) == (0, None)
    assert person.must_change_password is True
    row = last_audit()
    assert (row.action, row.actor_id, row.object_id) == (
        "staff.password_reset",
        admin.id,
        str(officer.id),
    )
    assert password not in str(row.after) + str(row.before)
    assert theirs.get("/backoffice/").headers["Location"] == "/backoffice/sign-in"
    assert enter_password(officer.email, PASSWORD, on=theirs).headers.get("Location") is None
    assert enter_password(officer.email, password, on=theirs).headers["Location"] == SET_UP_PATH


def test_an_admin_cannot_reset_their_own_password_or_authenticator(client, admin):
    for action in ("reset-password", "reset-two-factor"):
        response = post(client, f"/backoffice/staff/{admin.id}/{action}")
        assert response.headers["Location"] == f"/backoffice/staff/{admin.id}"
    assert client.get("/backoffice/").status_code == 200


def test_a_member_of_staff_that_does_not_exist_is_not_found(client, admin):
    assert client.get("/backoffice/staff/9999").status_code == 404
    assert post(client, "/backoffice/staff/9999/deactivate").status_code == 404


# --- the services check the actor too ------------------------------------------------


@pytest.mark.parametrize("role", [StaffRole.OFFICER, StaffRole.TEAM_LEADER, StaffRole.AUDITOR])
def test_only_an_active_admin_can_use_the_staff_services(app, officer, role):
    not_admin = make_staff(role)

    with pytest.raises(Forbidden):
        staff_admin.deactivate(not_admin.id, officer.id)
    assert reload(officer).active is True


def test_a_deactivated_admin_cannot_use_the_staff_services(app, officer):
    former = make_staff(StaffRole.ADMIN, active=False)

    with pytest.raises(Forbidden):
        staff_admin.change_role(former.id, officer.id, StaffRole.ADMIN)
    assert reload(officer).role == StaffRole.OFFICER
