from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from shared.domain import two_factor
from shared.extensions import db as _db
from shared.models import StaffRole, StaffUser, WebSessionKind
from shared.services import web_sessions
from tests.views.pages import csrf_token

STAFF_EMAIL = "Sam.Officer@borsetshire.example"
STAFF_PASSWORD = "correct horse battery staple"

SET_UP_PATH = "/backoffice/sign-in/set-up-authenticator"
CODE_PATH = "/backoffice/sign-in/code"


@pytest.fixture
def staff_user(db) -> StaffUser:
    user = StaffUser(
        email=STAFF_EMAIL,
        full_name="Sam Officer",
        role=StaffRole.OFFICER,
        password_hash=generate_password_hash(STAFF_PASSWORD),
    )
    db.session.add(user)
    db.session.commit()
    return user


def next_code(email: str) -> str:
    """The code an authenticator app would accept now for this person, read from the
    secret in the database, skipping steps already used (so a test can sign in
    more than once within 30 seconds)."""
    _db.session.expire_all()
    user = _db.session.scalars(
        sa.select(StaffUser).where(sa.func.lower(StaffUser.email) == email.strip().lower())
    ).one()
    # The code may be for the step before now; near the end of a step, wait
    # for the next one, so the code is still inside the window when it arrives.
    left = two_factor.STEP_SECONDS - time.time() % two_factor.STEP_SECONDS
    if left < 2:
        time.sleep(left + 0.05)
    now = two_factor.time_step(time.time())
    last = user.totp_last_step if user.totp_last_step is not None else now - 2
    step = max(now - two_factor.WINDOW, last + 1)
    assert step <= now + two_factor.WINDOW, "signed in too often in one minute"
    return two_factor.code_at(user.totp_secret, step)


def signed_in_session(client, user: StaffUser, *, last_seen: int | None = None) -> None:
    """Put `user` in the client's session as a full sign-in does (no forms, no codes)."""
    token = web_sessions.start(WebSessionKind.STAFF, user.id)
    with client.session_transaction() as session:
        session.clear()
        session["staff_session"] = token
        session["staff_id"] = user.id
        session["session_version"] = user.session_version
        session["last_seen"] = int(time.time()) if last_seen is None else last_seen


@pytest.fixture
def staff_limiter(app, isolated_limiter):
    """The real rate limiter, on keys of this test's own: failed sign-ins from the
    test client's one address must not add up across the suite."""
    return isolated_limiter(app)


@pytest.fixture
def enter_password(client, staff_limiter):
    """Submit the back-office password page as a person would, CSRF token and all."""

    def submit(email: str, password: str, *, on=None):
        browser = on or client
        token = csrf_token(browser, "/backoffice/sign-in")
        return browser.post(
            "/backoffice/sign-in",
            data={"csrf_token": token, "email": email, "password": password},
        )

    return submit


@pytest.fixture
def enter_code(client):
    """Submit a code on whichever second step the browser is at."""

    def submit(path: str, code: str, *, on=None):
        browser = on or client
        return browser.post(path, data={"csrf_token": csrf_token(browser, path), "code": code})

    return submit


@pytest.fixture
def sign_in(client, enter_password, enter_code):
    """Sign in all the way: password, then set up the app (first time) or enter its code.

    Returns the last response: the password page's if the password was refused.
    """

    def submit(email: str, password: str, *, on=None):
        browser = on or client
        response = enter_password(email, password, on=browser)
        path = response.headers.get("Location")
        if path not in (SET_UP_PATH, CODE_PATH):
            return response
        # Opening the set-up page is what makes the secret.
        browser.get(path)
        return enter_code(path, next_code(email), on=browser)

    return submit
