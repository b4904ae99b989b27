"""Signing in to the back office: the password page, then the authenticator code
(tests/views/test_staff_two_factor.py covers the second step in depth)."""

from __future__ import annotations

from flask import session

from shared.extensions import db
from shared.models import StaffUser
from tests.views.conftest import SET_UP_PATH, STAFF_EMAIL, STAFF_PASSWORD
from tests.views.pages import csrf_token, error_summary, inline_errors, parse, text, title

INCORRECT = "Email address or password is incorrect"


def test_sign_in_page_has_email_and_password_fields_and_a_csrf_token(client):
    response = client.get("/backoffice/sign-in")

    assert response.status_code == 200
    page = parse(response)
    assert title(page) == "Sign in – Income recovery back office – Borsetshire County Council"
    form = page.select_one("main form")
    assert form["method"] == "post"
    assert form["action"] == "/backoffice/sign-in"
    assert form.select_one('input[type="hidden"][name="csrf_token"]')["value"]
    assert form.select_one('input#email[name="email"]')["autocomplete"] == "email"
    assert form.select_one('input#password[name="password"]')["type"] == "password"
    assert text(form.select_one('button[type="submit"]')) == "Sign in"


def test_csrf_protection_is_on_in_the_test_app(app):
    # The CSRF tests below would pass vacuously if the test config turned it off.
    assert app.config.get("WTF_CSRF_ENABLED", True) is True


def test_submitting_nothing_shows_both_errors_in_the_summary_and_beside_the_fields(
    client, enter_password
):
    with client:
        response = enter_password("", "")

        assert response.status_code == 200
        assert "staff_id" not in session
    page = parse(response)
    assert title(page).startswith("Error: Sign in")
    assert error_summary(page) == [
        ("Enter your email address", "#email"),
        ("Enter your password", "#password"),
    ]
    assert inline_errors(page) == {
        "email": "Enter your email address",
        "password": "Enter your password",
    }


def test_an_email_address_in_the_wrong_format_is_explained(client, enter_password):
    page = parse(enter_password("sam.officer.borsetshire.example", "anything"))

    assert error_summary(page) == [
        ("Enter an email address in the correct format, like name@example.com", "#email")
    ]


def test_a_wrong_password_and_an_unknown_email_get_the_same_message(
    client, enter_password, staff_user
):
    wrong_password = parse(enter_password(STAFF_EMAIL, "not the password"))
    unknown_email = parse(enter_password("nobody@borsetshire.example", STAFF_PASSWORD))

    for page in (wrong_password, unknown_email):
        assert error_summary(page) == [(INCORRECT, "#email")]
        assert inline_errors(page) == {"email": INCORRECT}
    assert text(wrong_password.main).replace(STAFF_EMAIL, "") == text(unknown_email.main).replace(
        "nobody@borsetshire.example", ""
    )


def test_an_unknown_email_still_costs_a_password_hash_check(client, enter_password, monkeypatch):
    # Answering faster for unknown addresses would tell an attacker which exist.
    import shared.services.staff_auth as staff_auth

    checked = []
    real_check = staff_auth.check_password_hash

    def counting_check(password_hash, password):
        checked.append(password_hash)
        return real_check(password_hash, password)

    monkeypatch.setattr(staff_auth, "check_password_hash", counting_check)
    enter_password("nobody@borsetshire.example", STAFF_PASSWORD)

    assert len(checked) == 1
    assert checked[0].startswith(("scrypt:", "pbkdf2:"))


def test_the_password_is_never_sent_back_in_the_page(client, enter_password, staff_user):
    response = enter_password(STAFF_EMAIL, "not the password")

    assert b"not the password" not in response.data
    assert parse(response).select_one("input#password").get("value") in (None, "")


def test_a_deactivated_officer_cannot_sign_in(client, enter_password, staff_user):
    staff_user.active = False
    db.session.commit()

    with client:
        page = parse(enter_password(STAFF_EMAIL, STAFF_PASSWORD))
        assert "staff_id" not in session
    assert error_summary(page) == [(INCORRECT, "#email")]


def test_a_correct_password_leads_to_the_second_step_without_signing_in(
    client, enter_password, staff_user
):
    with client:
        # Pasted with spaces and in different case: still the same person.
        response = enter_password(f"  {STAFF_EMAIL.upper()} ", STAFF_PASSWORD)

        assert response.status_code == 302
        assert response.headers["Location"] == SET_UP_PATH
        assert "staff_id" not in session
    assert client.get("/backoffice/").headers["Location"] == "/backoffice/sign-in"


def test_password_and_code_sign_in_and_the_home_page_names_the_officer(client, sign_in, staff_user):
    with client:
        response = sign_in(f"  {STAFF_EMAIL.upper()} ", STAFF_PASSWORD)

        assert response.status_code == 302
        assert response.headers["Location"] == "/backoffice/"
        assert session["staff_id"] == staff_user.id

    home = client.get("/backoffice/")
    assert home.status_code == 200
    assert "Signed in as Sam Officer (Recovery officer)" in text(parse(home).main)
    db.session.expire_all()
    assert db.session.get(StaffUser, staff_user.id).last_signed_in_at is not None


def test_signing_in_starts_a_fresh_session_at_each_step(
    client, enter_password, sign_in, staff_user
):
    with client.session_transaction() as before:
        before["left_over"] = "from before signing in"

    enter_password(STAFF_EMAIL, STAFF_PASSWORD)

    with client.session_transaction() as half_way:
        assert "left_over" not in half_way
        half_way["left_over"] = "from the password step"

    sign_in(STAFF_EMAIL, STAFF_PASSWORD)

    with client.session_transaction() as after:
        assert "left_over" not in after
        assert after["staff_id"] == staff_user.id


def test_back_office_home_sends_people_who_are_not_signed_in_to_sign_in(client):
    response = client.get("/backoffice/")

    assert response.status_code == 302
    assert response.headers["Location"] == "/backoffice/sign-in"


def test_signing_out_ends_the_session_and_says_so(client, sign_in, staff_user):
    sign_in(STAFF_EMAIL, STAFF_PASSWORD)
    home = parse(client.get("/backoffice/"))
    # In the header's service navigation, on every page.
    sign_out_form = home.select_one('header form[action="/backoffice/sign-out"]')
    assert sign_out_form["method"] == "post"
    token = sign_out_form.select_one('input[name="csrf_token"]')["value"]

    with client:
        response = client.post("/backoffice/sign-out", data={"csrf_token": token})
        assert response.status_code == 302
        assert response.headers["Location"] == "/backoffice/sign-in"
        assert "staff_id" not in session

    banner = parse(client.get("/backoffice/sign-in")).select_one(".govuk-notification-banner")
    assert "You have signed out" in text(banner)
    assert client.get("/backoffice/").status_code == 302


def test_signing_in_without_a_csrf_token_is_refused_with_the_expired_form_page(client, staff_user):
    with client:
        response = client.post(
            "/backoffice/sign-in", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD}
        )
        assert "staff_id" not in session

    assert response.status_code == 400
    page = parse(response)
    assert text(page.h1) == "Sorry, you’ll have to start again"
    assert "expired" in text(page.main)
    assert "Income recovery back office" in title(page)


def test_signing_out_without_a_csrf_token_is_refused_and_leaves_the_officer_signed_in(
    client, sign_in, staff_user
):
    sign_in(STAFF_EMAIL, STAFF_PASSWORD)

    response = client.post("/backoffice/sign-out")

    assert response.status_code == 400
    assert client.get("/backoffice/").status_code == 200


def test_sign_ins_and_failed_attempts_are_audited_with_the_source_address(
    client, sign_in, staff_user, db
):
    import sqlalchemy as sa

    from shared.models import AuditLog

    sign_in(STAFF_EMAIL, "not the password")
    sign_in("nobody@borsetshire.example", "whatever it is")
    sign_in(STAFF_EMAIL, STAFF_PASSWORD)
    db.session.expire_all()
    rows = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id)).all()
    assert [(r.action, r.actor_id) for r in rows] == [
        ("staff.sign_in_failed", staff_user.id),
        ("staff.sign_in_failed", None),
        ("staff.password_accepted", staff_user.id),
        ("staff.two_factor_setup_started", staff_user.id),
        ("staff.two_factor_enrolled", staff_user.id),
        ("staff.signed_in", staff_user.id),
    ]
    assert {r.source_ip for r in rows} == {"127.0.0.1"}


def test_signing_out_is_audited(client, sign_in, staff_user, db):
    import sqlalchemy as sa

    from shared.models import AuditLog
    from tests.views.pages import csrf_token

    sign_in(STAFF_EMAIL, STAFF_PASSWORD)
    client.post("/backoffice/sign-out", data={"csrf_token": csrf_token(client, "/backoffice/")})

    last = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert (last.action, last.actor_id, last.object_id) == (
        "staff.signed_out",
        staff_user.id,
        str(staff_user.id),
    )


def _post_password(client, email: str, password: str, address: str):
    token = csrf_token(client, "/backoffice/sign-in")
    return client.post(
        "/backoffice/sign-in",
        data={"csrf_token": token, "email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_after_20_failed_sign_ins_from_one_address_even_the_right_password_is_refused_there(
    client, staff_user, staff_limiter, db
):
    import sqlalchemy as sa

    from backoffice.auth import FAILED_SIGN_INS_PER_IP, STAFF_ID_KEY, STAFF_PENDING_KEY
    from shared.models import AuditLog

    # Two real failures, then the rest of the 20 counted straight into the limiter.
    for _ in range(2):
        assert _post_password(client, STAFF_EMAIL, "wrong", "203.0.113.9").status_code == 200
    for _ in range(18):
        staff_limiter.hit(FAILED_SIGN_INS_PER_IP, "203.0.113.9")

    refused = _post_password(client, STAFF_EMAIL, STAFF_PASSWORD, "203.0.113.9")

    assert refused.status_code == 429
    assert error_summary(parse(refused)) == [
        (
            "There have been too many failed sign-in attempts from your network. "
            "Wait 15 minutes and try again",
            "#email",
        )
    ]
    with client.session_transaction() as after:
        assert STAFF_PENDING_KEY not in after and STAFF_ID_KEY not in after
    db.session.expire_all()
    actions = db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["staff.sign_in_failed", "staff.sign_in_failed", "staff.sign_in_throttled"]
    # Another address is not held up.
    elsewhere = _post_password(client, STAFF_EMAIL, STAFF_PASSWORD, "198.51.100.4")
    assert elsewhere.status_code == 302


def test_successful_sign_ins_do_not_count_towards_an_address_limit(
    client, staff_user, staff_limiter
):
    from backoffice.auth import FAILED_SIGN_INS_PER_IP

    for _ in range(19):
        staff_limiter.hit(FAILED_SIGN_INS_PER_IP, "192.0.2.50")
    for _ in range(3):
        response = _post_password(client, STAFF_EMAIL, STAFF_PASSWORD, "192.0.2.50")
        assert response.status_code == 302

    assert not staff_limiter.exceeded(FAILED_SIGN_INS_PER_IP, "192.0.2.50")
