"""A temporary password (a new account's, or one an administrator reset) is changed by its
owner at sign-in: after the password and the authenticator code, and before any other
back-office page opens. The administrator who made it never sees it: it is emailed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.extensions import db
from shared.models import AuditLog, StaffRole, StaffUser
from shared.services import staff_admin, staff_auth
from shared.services.errors import InvalidRequest
from tests.factories import make_staff
from tests.views.conftest import CODE_PATH, SET_UP_PATH, next_code, signed_in_session
from tests.views.pages import csrf_token, error_summary, parse, text, title
from tests.views.test_staff_admin import emailed_password

NEW_PASSWORD_PATH = "/backoffice/sign-in/new-password"
OWN_PASSWORD = "a long password of my own"


@pytest.fixture
def admin():
    return make_staff(StaffRole.ADMIN, full_name="Ada Admin")


def _new_team_leader(admin: StaffUser, **limits) -> StaffUser:
    created = staff_admin.create_staff(
        admin.id,
        email="tia.leader@council.example",
        full_name="Tia Leader",
        role=StaffRole.TEAM_LEADER,
        **limits,
    )
    return created.user


def _through_the_code(client, enter_password, enter_code, email: str, password: str):
    """Password, then set up the app (or enter its code): the response after the code."""
    path = enter_password(email, password, on=client).headers["Location"]
    assert path in (SET_UP_PATH, CODE_PATH)
    client.get(path)
    return enter_code(path, next_code(email), on=client)


def _choose(client, password: str, confirm: str | None = None):
    return client.post(
        NEW_PASSWORD_PATH,
        data={
            "csrf_token": csrf_token(client, NEW_PASSWORD_PATH),
            "password": password,
            "confirm": password if confirm is None else confirm,
        },
    )


def _actions(staff_id: int) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditLog.action)
            .where(AuditLog.object_type == "staff_user", AuditLog.object_id == str(staff_id))
            .order_by(AuditLog.id)
        )
    )


def test_a_new_member_of_staff_chooses_their_own_password_after_the_code_before_anything_else(
    app, client, admin, enter_password, enter_code
):
    person = _new_team_leader(admin)
    temporary = emailed_password(person.email)

    response = _through_the_code(client, enter_password, enter_code, person.email, temporary)

    assert response.headers["Location"] == NEW_PASSWORD_PATH
    page = parse(client.get(NEW_PASSWORD_PATH))
    assert title(page).startswith("Choose your own password")
    assert {i["name"] for i in page.select("main form input[type=password]")} == {
        "password",
        "confirm",
    }
    # Only half signed in: no other back-office page opens, and trying one ends the
    # attempt, so they start again from the temporary password.
    for path in ("/backoffice/", "/backoffice/approvals", "/backoffice/search"):
        assert client.get(path).headers["Location"] == "/backoffice/sign-in"
    assert client.get(NEW_PASSWORD_PATH).headers["Location"] == "/backoffice/sign-in"
    again = _through_the_code(client, enter_password, enter_code, person.email, temporary)
    assert again.headers["Location"] == NEW_PASSWORD_PATH

    done = _choose(client, OWN_PASSWORD)

    assert done.headers["Location"] == "/backoffice/"
    assert client.get("/backoffice/").status_code == 200
    db.session.expire_all()
    assert db.session.get(StaffUser, person.id).must_change_password is False
    assert _actions(person.id)[-3:] == [
        "staff.code_accepted_password_change_due",
        "staff.password_changed",
        "staff.signed_in",
    ]
    # The temporary password is spent; their own works, straight to the code step.
    other = app.test_client()
    assert enter_password(person.email, temporary, on=other).headers.get("Location") is None
    assert enter_password(person.email, OWN_PASSWORD, on=other).headers["Location"] == CODE_PATH


def test_the_new_password_page_needs_the_code_step_first(client, admin, enter_password, enter_code):
    person = _new_team_leader(admin)
    temporary = emailed_password(person.email)
    assert enter_password(person.email, temporary).headers["Location"] == SET_UP_PATH

    response = client.get(NEW_PASSWORD_PATH)

    assert response.headers["Location"] == "/backoffice/sign-in"
    db.session.expire_all()
    assert db.session.get(StaffUser, person.id).must_change_password is True


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("", "", "Enter a password"),
        ("too short", "too short", "Password must be 10 characters or more"),
        (OWN_PASSWORD, "something else entirely", "Passwords do not match"),
        ("password123", "password123", "Choose a password that is harder to guess"),
    ],
)
def test_a_new_password_that_will_not_do_is_explained_and_changes_nothing(
    client, admin, enter_password, enter_code, password, confirm, message
):
    person = _new_team_leader(admin)
    _through_the_code(
        client, enter_password, enter_code, person.email, emailed_password(person.email)
    )

    page = parse(_choose(client, password, confirm))

    assert message in [m for m, _ in error_summary(page)]
    db.session.expire_all()
    assert db.session.get(StaffUser, person.id).must_change_password is True
    assert client.get("/backoffice/").headers["Location"] == "/backoffice/sign-in"


def test_the_temporary_password_cannot_be_kept_as_the_new_one(
    client, admin, enter_password, enter_code
):
    person = _new_team_leader(admin)
    temporary = emailed_password(person.email)
    _through_the_code(client, enter_password, enter_code, person.email, temporary)

    page = parse(_choose(client, temporary))

    assert error_summary(page) == [(staff_auth.SAME_AS_TEMPORARY, "#password")]


def test_a_reset_by_an_admin_makes_the_password_temporary_again(
    app, client, admin, sign_in, enter_password, enter_code
):
    officer = make_staff(StaffRole.OFFICER, email="olu@council.example")
    theirs = app.test_client()
    assert sign_in(officer.email, "correct horse battery", on=theirs).headers["Location"] == (
        "/backoffice/"
    )

    staff_admin.reset_password(admin.id, officer.id)
    temporary = emailed_password(officer.email)

    # They still have their app: the code comes first, then their own password.
    response = _through_the_code(theirs, enter_password, enter_code, officer.email, temporary)
    assert response.headers["Location"] == NEW_PASSWORD_PATH
    assert _choose(theirs, OWN_PASSWORD).headers["Location"] == "/backoffice/"
    assert theirs.get("/backoffice/").status_code == 200


def test_an_admin_who_created_someone_cannot_sign_in_as_them_with_what_the_page_showed(
    client, enter_password
):
    """The reproduced attack: the admin's screen never carries a usable password."""
    admin = make_staff(StaffRole.ADMIN)
    signed_in_session(client, admin)
    form = {
        "csrf_token": csrf_token(client, "/backoffice/staff/new"),
        "full_name": "Tia Leader",
        "email": "tia.leader@council.example",
        "role": "team_leader",
        "refund_limit": "0",
        "write_off_limit": "0",
    }
    response = client.post("/backoffice/staff/new", data=form, follow_redirects=True)

    shown = response.get_data(as_text=True)
    assert emailed_password("tia.leader@council.example") not in shown
    assert "temporary-password" not in shown


def test_the_service_refuses_a_new_password_from_someone_not_on_a_temporary_one(app):
    officer = make_staff(StaffRole.OFFICER, totp_secret="JBSWY3DPEHPK3PXP")

    with pytest.raises(InvalidRequest, match="Sign in again"):
        staff_auth.choose_new_password(officer.id, officer.session_version, OWN_PASSWORD)


def test_staff_whose_password_is_their_own_go_straight_in(client, sign_in, staff_user):
    # Existing and seeded demo staff are not flagged: no forced change for them.
    assert staff_user.must_change_password is False
    assert sign_in(staff_user.email, "correct horse battery staple").headers["Location"] == (
        "/backoffice/"
    )
    assert text(parse(client.get("/backoffice/")).h1)
