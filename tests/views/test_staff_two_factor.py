"""The second sign-in step: setting up an authenticator app, its codes, lockout, and
the ways a signed-in session ends (idle, sign out everywhere, deactivation)."""

from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa
from flask import session

from shared.domain import two_factor
from shared.extensions import db
from shared.models import AuditLog, StaffUser
from shared.models.base import utcnow
from shared.services import staff_auth
from tests.views.conftest import (
    CODE_PATH,
    SET_UP_PATH,
    STAFF_EMAIL,
    STAFF_PASSWORD,
    next_code,
)
from tests.views.pages import csrf_token, error_summary, inline_errors, parse, text, title

INCORRECT = "Email address or password is incorrect"
WRONG_CODE = "The code is not correct. Check your app and try again"
LOCKED = "Your account is locked"


def reload(user: StaffUser) -> StaffUser:
    db.session.expire_all()
    return db.session.get(StaffUser, user.id)


def wrong_code(email: str) -> str:
    # One more than the right code is right for no step in the window (a clash
    # is one chance in a few hundred thousand).
    return f"{(int(next_code(email)) + 1) % 1_000_000:06d}"


def audit_actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)))


def banner_text(client) -> str:
    """Every notification banner on the sign-in page, as one string."""
    banners = parse(client.get("/backoffice/sign-in")).select(".govuk-notification-banner")
    return " | ".join(text(banner) for banner in banners)


@pytest.fixture
def enrolled(client, sign_in, staff_user):
    """The officer has set up an app (and signed out again)."""
    sign_in(STAFF_EMAIL, STAFF_PASSWORD)
    client.post("/backoffice/sign-out", data={"csrf_token": csrf_token(client, "/backoffice/")})
    return reload(staff_user)


# --- setting up the app at first sign-in --------------------------------------------


def test_a_first_sign_in_shows_a_qr_code_and_the_setup_key_held_in_the_database(
    client, enter_password, staff_user
):
    enter_password(STAFF_EMAIL, STAFF_PASSWORD)

    response = client.get(SET_UP_PATH)

    assert response.status_code == 200
    page = parse(response)
    assert title(page).startswith("Set up your authenticator app")
    secret = reload(staff_user).totp_secret
    assert secret is not None and reload(staff_user).totp_enrolled_at is None
    assert text(page.select_one("#setup-key")).replace(" ", "") == secret
    # Inline SVG: nothing for the browser to fetch, nothing for the CSP to allow.
    svg = page.select_one("main svg")
    assert svg["role"] == "img"
    assert text(svg.title) == "QR code for your authenticator app"
    assert svg.select("path")
    assert page.select_one("main img") is None
    form = page.select_one("main form")
    assert form["action"] == SET_UP_PATH
    assert form.select_one("input#code")["autocomplete"] == "one-time-code"


def test_the_qr_code_is_for_this_person_and_names_the_council_as_issuer(app, staff_user):
    enrolment = staff_auth.begin_enrolment(staff_user.id, staff_user.session_version)

    assert enrolment.uri == pyotp.TOTP(enrolment.secret).provisioning_uri(
        name=STAFF_EMAIL, issuer_name=app.config["COUNCIL_NAME"]
    )
    assert "issuer=Borsetshire%20County%20Council" in enrolment.uri


def test_reloading_the_set_up_page_keeps_the_same_secret(client, enter_password, staff_user):
    enter_password(STAFF_EMAIL, STAFF_PASSWORD)
    client.get(SET_UP_PATH)
    first = reload(staff_user).totp_secret

    client.get(SET_UP_PATH)

    assert reload(staff_user).totp_secret == first


def test_the_right_code_finishes_setting_up_and_signs_in(
    client, enter_password, enter_code, staff_user
):
    enter_password(STAFF_EMAIL, STAFF_PASSWORD)
    client.get(SET_UP_PATH)
    secret = reload(staff_user).totp_secret

    with client:
        response = enter_code(SET_UP_PATH, pyotp.TOTP(secret).now())

        assert response.headers["Location"] == "/backoffice/"
        assert session["staff_id"] == staff_user.id
        assert "staff_sign_in" not in session
    assert reload(staff_user).totp_enrolled_at is not None
    home = parse(client.get("/backoffice/"))
    assert "Your authenticator app is set up" in text(home.select_one(".govuk-notification-banner"))
    assert audit_actions()[-2:] == ["staff.two_factor_enrolled", "staff.signed_in"]


def test_a_wrong_code_while_setting_up_is_explained_and_does_not_sign_in(
    client, enter_password, enter_code, staff_user
):
    enter_password(STAFF_EMAIL, STAFF_PASSWORD)
    client.get(SET_UP_PATH)

    with client:
        response = enter_code(SET_UP_PATH, wrong_code(STAFF_EMAIL))

        assert response.status_code == 200
        assert "staff_id" not in session
    page = parse(response)
    assert title(page).startswith("Error: Set up your authenticator app")
    assert error_summary(page) == [(WRONG_CODE, "#code")]
    # The key is shown again, with the "cannot scan" details open.
    assert page.select_one("details")["open"] is not None
    user = reload(staff_user)
    assert user.totp_enrolled_at is None
    assert user.failed_sign_ins == 1


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the 6-digit code from your authenticator app"),
        ("12345", "The code must be 6 digits, like 123456"),
        ("abcdef", "The code must be 6 digits, like 123456"),
    ],
)
def test_a_code_that_is_not_six_digits_is_explained(
    client, enter_password, enter_code, staff_user, typed, message
):
    enter_password(STAFF_EMAIL, STAFF_PASSWORD)
    client.get(SET_UP_PATH)

    page = parse(enter_code(SET_UP_PATH, typed))

    assert error_summary(page) == [(message, "#code")]
    assert inline_errors(page) == {"code": message}
    # Not a guess at the code, so not counted towards the lockout.
    assert reload(staff_user).failed_sign_ins == 0


# --- signing in once the app is set up ----------------------------------------------


def test_later_sign_ins_ask_for_the_code_not_the_qr_code(client, enter_password, enrolled):
    response = enter_password(STAFF_EMAIL, STAFF_PASSWORD)

    assert response.headers["Location"] == CODE_PATH
    page = parse(client.get(CODE_PATH))
    assert text(page.h1) == "Enter the code from your authenticator app"
    assert page.select_one("main svg") is None
    assert client.get(SET_UP_PATH).headers["Location"] == "/backoffice/sign-in"


def test_the_current_code_signs_in(client, enter_password, enter_code, enrolled):
    enter_password(STAFF_EMAIL, STAFF_PASSWORD)

    with client:
        response = enter_code(CODE_PATH, pyotp.TOTP(enrolled.totp_secret).now())
        assert response.headers["Location"] == "/backoffice/"
        assert session["staff_id"] == enrolled.id
    assert client.get("/backoffice/").status_code == 200


def test_a_wrong_code_is_refused_and_counted(client, enter_password, enter_code, enrolled):
    enter_password(STAFF_EMAIL, STAFF_PASSWORD)

    page = parse(enter_code(CODE_PATH, wrong_code(STAFF_EMAIL)))

    assert error_summary(page) == [(WRONG_CODE, "#code")]
    assert reload(enrolled).failed_sign_ins == 1
    assert client.get("/backoffice/").status_code == 302
    row = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert row.action == "staff.two_factor_failed"
    assert row.after == {"step": "code", "reason": "wrong", "failed_sign_ins": 1}


def test_a_code_already_used_cannot_be_used_again_even_from_another_browser(
    app, client, enter_password, enter_code, enrolled
):
    code = next_code(STAFF_EMAIL)
    enter_password(STAFF_EMAIL, STAFF_PASSWORD)
    assert enter_code(CODE_PATH, code).headers["Location"] == "/backoffice/"

    other = app.test_client()
    enter_password(STAFF_EMAIL, STAFF_PASSWORD, on=other)
    page = parse(enter_code(CODE_PATH, code, on=other))

    assert error_summary(page) == [
        ("That code has already been used. Wait for your app to show a new code", "#code")
    ]
    assert other.get("/backoffice/").status_code == 302
    assert audit_actions()[-1] == "staff.two_factor_failed"


# --- lockout ------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_for_15_minutes_without_saying_so_to_a_guesser(
    client, enter_password, staff_user
):
    for _ in range(5):
        page = parse(enter_password(STAFF_EMAIL, "not the password"))
        assert error_summary(page) == [(INCORRECT, "#email")]

    user = reload(staff_user)
    assert user.locked_until is not None
    assert timedelta(minutes=14) < user.locked_until - utcnow() <= timedelta(minutes=15)
    assert "staff.locked" in audit_actions()
    # Only the right password learns of the lock: a guesser cannot find out
    # which addresses have accounts by locking them.
    assert error_summary(parse(enter_password(STAFF_EMAIL, "still not it"))) == [
        (INCORRECT, "#email")
    ]
    with client:
        page = parse(enter_password(STAFF_EMAIL, STAFF_PASSWORD))
        assert "staff_sign_in" not in session
    [(message, _)] = error_summary(page)
    assert message.startswith(LOCKED)
    assert audit_actions()[-1] == "staff.sign_in_refused_locked"


def test_the_lock_lifts_after_15_minutes(client, enter_password, staff_user):
    for _ in range(5):
        enter_password(STAFF_EMAIL, "not the password")
    reload(staff_user).locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()

    assert enter_password(STAFF_EMAIL, STAFF_PASSWORD).headers["Location"] == SET_UP_PATH


def test_five_wrong_codes_lock_the_account_and_end_the_attempt(
    client, enter_password, enter_code, enrolled
):
    enter_password(STAFF_EMAIL, STAFF_PASSWORD)
    for _ in range(4):
        assert enter_code(CODE_PATH, wrong_code(STAFF_EMAIL)).status_code == 200

    response = enter_code(CODE_PATH, wrong_code(STAFF_EMAIL))

    assert response.headers["Location"] == "/backoffice/sign-in"
    assert f"Important {LOCKED}" in banner_text(client)
    assert reload(enrolled).locked_until > utcnow()
    # Even the right code does not help now.
    enter_password(STAFF_EMAIL, STAFF_PASSWORD)
    assert client.get(CODE_PATH).headers["Location"] == "/backoffice/sign-in"


def test_a_right_password_does_not_reset_the_count_so_codes_cannot_be_guessed_forever(
    client, enter_password, enter_code, enrolled
):
    for _ in range(4):
        enter_password(STAFF_EMAIL, "not the password")
    enter_password(STAFF_EMAIL, STAFF_PASSWORD)

    response = enter_code(CODE_PATH, wrong_code(STAFF_EMAIL))

    assert response.headers["Location"] == "/backoffice/sign-in"
    assert reload(enrolled).locked_until is not None


def test_signing_in_fully_resets_the_count(client, sign_in, enter_password, enrolled):
    for _ in range(4):
        enter_password(STAFF_EMAIL, "not the password")

    sign_in(STAFF_EMAIL, STAFF_PASSWORD)

    assert reload(enrolled).failed_sign_ins == 0


# --- between the two steps ----------------------------------------------------------


def test_half_signed_in_reaches_no_back_office_page_and_holds_no_staff_id(
    client, enter_password, staff_user
):
    enter_password(STAFF_EMAIL, STAFF_PASSWORD)

    with client.session_transaction() as half:
        assert "staff_id" not in half
        assert "session_version" not in half
        assert half["staff_sign_in"]["id"] == staff_user.id
    for path in ("/backoffice/", "/backoffice/staff"):
        assert client.get(path).headers["Location"] == "/backoffice/sign-in"


def test_the_code_pages_are_only_for_someone_who_just_gave_their_password(client):
    for path in (SET_UP_PATH, CODE_PATH):
        assert client.get(path).headers["Location"] == "/backoffice/sign-in"


def test_the_password_step_expires_after_10_minutes(client, enter_password, enrolled):
    enter_password(STAFF_EMAIL, STAFF_PASSWORD)
    with client.session_transaction() as half:
        half["staff_sign_in"] = {**half["staff_sign_in"], "at": int(time.time()) - 601}

    assert client.get(CODE_PATH).headers["Location"] == "/backoffice/sign-in"
    assert "Your sign-in has expired. Sign in again" in banner_text(client)


def test_a_reset_between_the_two_steps_sends_the_person_back_to_the_start(
    client, enter_password, enter_code, enrolled
):
    enter_password(STAFF_EMAIL, STAFF_PASSWORD)
    user = reload(enrolled)
    user.session_version += 1  # as an administrator's reset does
    db.session.commit()

    response = enter_code(CODE_PATH, next_code(STAFF_EMAIL))

    assert response.headers["Location"] == "/backoffice/sign-in"
    assert "Your sign-in has expired. Sign in again" in banner_text(client)


# --- how a session ends -------------------------------------------------------------


def test_an_idle_session_ends_with_an_explanation(app, client, sign_in, staff_user):
    sign_in(STAFF_EMAIL, STAFF_PASSWORD)
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    with client.session_transaction() as signed_in:
        signed_in["last_seen"] = int(time.time()) - idle - 1

    with client:
        response = client.get("/backoffice/")
        assert response.headers["Location"] == "/backoffice/sign-in"
        assert "staff_id" not in session
    assert "You were signed out because you had not done anything for a while" in banner_text(
        client
    )


def test_using_the_back_office_keeps_the_session_alive(app, client, sign_in, staff_user):
    sign_in(STAFF_EMAIL, STAFF_PASSWORD)
    nearly_idle = int(time.time()) - app.config["SESSION_IDLE_MINUTES"] * 60 + 60
    with client.session_transaction() as signed_in:
        signed_in["last_seen"] = nearly_idle

    assert client.get("/backoffice/").status_code == 200
    with client.session_transaction() as after:
        assert after["last_seen"] >= int(time.time()) - 5


def test_sign_out_everywhere_ends_the_sessions_in_other_browsers(app, client, sign_in, staff_user):
    laptop, phone = client, app.test_client()
    sign_in(STAFF_EMAIL, STAFF_PASSWORD, on=laptop)
    sign_in(STAFF_EMAIL, STAFF_PASSWORD, on=phone)
    assert phone.get("/backoffice/").status_code == 200
    form = parse(laptop.get("/backoffice/")).select_one(
        'main form[action="/backoffice/sign-out-everywhere"]'
    )
    token = form.select_one('input[name="csrf_token"]')["value"]

    response = laptop.post("/backoffice/sign-out-everywhere", data={"csrf_token": token})

    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/backoffice/sign-in"
    assert "You have signed out on every device and browser" in banner_text(laptop)
    assert phone.get("/backoffice/").headers["Location"] == "/backoffice/sign-in"
    assert laptop.get("/backoffice/").headers["Location"] == "/backoffice/sign-in"
    row = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert (row.action, row.before, row.after) == (
        "staff.signed_out_everywhere",
        {"session_version": 1},
        {"session_version": 2},
    )
    # Signing in again works as normal.
    sign_in(STAFF_EMAIL, STAFF_PASSWORD, on=phone)
    assert phone.get("/backoffice/").status_code == 200


def test_a_deactivated_officers_session_ends_at_their_next_request(client, sign_in, staff_user):
    sign_in(STAFF_EMAIL, STAFF_PASSWORD)
    reload(staff_user).active = False
    db.session.commit()

    assert client.get("/backoffice/").headers["Location"] == "/backoffice/sign-in"


def test_a_session_from_an_older_version_is_not_accepted(client, sign_in, staff_user):
    sign_in(STAFF_EMAIL, STAFF_PASSWORD)
    with client.session_transaction() as signed_in:
        signed_in["session_version"] = 0

    assert client.get("/backoffice/").headers["Location"] == "/backoffice/sign-in"


def test_the_rules_are_the_ones_the_issue_asks_for():
    # The view tests run on real time and counts; this pins the numbers themselves.
    assert two_factor.WINDOW == 1
    assert staff_auth.MAX_FAILED_SIGN_INS == 5
    assert timedelta(minutes=15) == staff_auth.LOCKOUT
