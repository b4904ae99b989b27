"""`flask demo code EMAIL`: the authenticator code for a demo login, for trying the
demo without an app."""

from __future__ import annotations

import time

import pyotp
import pytest

from shared.demo import NoDemoCode, demo_code, seed_demo
from shared.extensions import db as _db
from shared.models import StaffUser
from shared.services import staff_auth
from tests.factories import make_staff


def officer() -> StaffUser:
    return _db.session.scalars(
        _db.select(StaffUser).where(StaffUser.email == "officer@demo.example")
    ).one()


def test_a_demo_login_has_no_code_until_its_set_up_page_has_been_opened(app, db):
    seed_demo(0)

    result = app.test_cli_runner().invoke(args=["demo", "code", "officer@demo.example"])

    assert result.exit_code == 1
    assert "sign in with the password first" in result.output


def test_once_set_up_has_started_it_prints_the_code_an_app_would_show(app, db):
    seed_demo(0)
    user = officer()
    enrolment = staff_auth.begin_enrolment(user.id, user.session_version)
    before = pyotp.TOTP(enrolment.secret).now()

    result = app.test_cli_runner().invoke(args=["demo", "code", " Officer@Demo.example "])

    assert result.exit_code == 0, result.output
    # Either side of a 30-second boundary, the code is one the app showed.
    assert result.output.strip() in {before, pyotp.TOTP(enrolment.secret).now()}


def test_the_printed_code_signs_the_demo_login_in(app, db):
    seed_demo(0)
    user = officer()
    staff_auth.begin_enrolment(user.id, user.session_version)

    signed_in = staff_auth.confirm_enrolment(
        user.id, user.session_version, demo_code("officer@demo.example")
    )

    assert signed_in.totp_enrolled


def test_it_answers_only_for_demo_logins(app, db):
    person = make_staff(email="real.person@council.example")
    person.totp_secret = pyotp.random_base32()
    db.session.commit()

    with pytest.raises(NoDemoCode, match="Only demo logins"):
        demo_code("real.person@council.example")


def test_it_refuses_to_run_in_production(app, db):
    seed_demo(0)
    app.config["APP_ENV"] = "production"

    with pytest.raises(NoDemoCode, match="not available in production"):
        demo_code("officer@demo.example", unix_time=time.time())


def test_demo_logins_says_how_to_get_a_code(app, db):
    seed_demo(0)

    output = app.test_cli_runner().invoke(args=["demo", "logins"]).output

    assert "flask --app wsgi demo code EMAIL" in output
