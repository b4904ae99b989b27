"""Signing out, idling and the absolute lifetime end a session for good: the server keeps a
record of every sign-in (shared/services/web_sessions.py), so a copy of the cookie is
worth nothing once its record has ended, whatever the copy says about itself.

Time is moved with a clock the app takes the session rules' time from
(web_sessions.CLOCK_EXTENSION); the cookie's own idea of time stays real, which is the
point: it is no longer the one that counts.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.models import AuditLog, OutboxMessage, WebSession, WebSessionEnd, WebSessionKind
from shared.models.base import utcnow
from shared.services import web_sessions
from tests.factories import make_account, make_portal_login
from tests.views.conftest import STAFF_EMAIL, STAFF_PASSWORD
from tests.views.pages import count_queries, csrf_token, parse, sign_in_portal, text

PORTAL_EMAIL = "alex@example.com"
PORTAL_PASSWORD = "a perfectly good passphrase"
BACK_OFFICE_SIGN_IN = "/backoffice/sign-in"


class MovableClock:
    """Naive UTC, like utcnow(), that only moves when told."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now

    def forward(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(app):
    moving = MovableClock()
    app.extensions[web_sessions.CLOCK_EXTENSION] = moving
    yield moving
    app.extensions.pop(web_sessions.CLOCK_EXTENSION, None)


@pytest.fixture
def portal_limiter(app, isolated_limiter):
    return isolated_limiter(app)


def copy_of(app, browser):
    """Another browser holding a copy of `browser`'s session cookie, as a thief would."""
    thief = app.test_client()
    name = app.config["SESSION_COOKIE_NAME"]
    thief.set_cookie(name, browser.get_cookie(name).value)
    return thief


def records(db) -> list[WebSession]:
    db.session.expire_all()
    return db.session.scalars(sa.select(WebSession).order_by(WebSession.id)).all()


def banner_text(page) -> str:
    return " | ".join(text(b) for b in page.select(".govuk-notification-banner"))


def sign_out_of_back_office(browser):
    token = csrf_token(browser, "/backoffice/")
    return browser.post("/backoffice/sign-out", data={"csrf_token": token})


@pytest.fixture
def debtor(app):
    return make_account(postcode="SW1A 1AA")


@pytest.fixture
def portal_login(debtor):
    return make_portal_login(debtor, email=PORTAL_EMAIL, password=PORTAL_PASSWORD)


def portal_sign_in(browser):
    """The portal's sign-in form, filled in as a person would."""
    token = csrf_token(browser, "/sign-in")
    return browser.post(
        "/sign-in",
        data={"csrf_token": token, "email": PORTAL_EMAIL, "password": PORTAL_PASSWORD},
    )


# --- sign-out ------------------------------------------------------------------------


def test_a_copied_back_office_cookie_is_refused_after_sign_out(
    app, client, db, sign_in, staff_user
):
    sign_in(STAFF_EMAIL, STAFF_PASSWORD)
    thief = copy_of(app, client)
    assert thief.get("/backoffice/").status_code == 200  # the copy works while signed in

    response = sign_out_of_back_office(client)

    assert response.headers["Location"] == BACK_OFFICE_SIGN_IN
    assert thief.get("/backoffice/").headers["Location"] == BACK_OFFICE_SIGN_IN
    [record] = records(db)
    assert (record.kind, record.staff_user_id) == (WebSessionKind.STAFF, staff_user.id)
    assert record.end_reason == WebSessionEnd.SIGNED_OUT
    assert "staff.signed_out" in db.session.scalars(sa.select(AuditLog.action)).all()


def test_a_copied_portal_cookie_is_refused_after_sign_out(
    app, client, db, portal_limiter, debtor, portal_login
):
    portal_sign_in(client)
    # Taken first: the test's app context (and so Flask-WTF's cached token) is shared
    # by both browsers, which a real server never does.
    sign_out_token = csrf_token(client, "/")
    thief = copy_of(app, client)
    assert thief.get(f"/account/{debtor.reference}").status_code == 200

    signed_out = client.post("/sign-out", data={"csrf_token": sign_out_token})

    assert signed_out.headers["Location"] == "/sign-in"

    assert thief.get(f"/account/{debtor.reference}").headers["Location"] == (
        f"/sign-in?next=/account/{debtor.reference}"
    )
    [record] = records(db)
    assert (record.kind, record.portal_user_id) == (WebSessionKind.PORTAL, portal_login.id)
    assert record.end_reason == WebSessionEnd.SIGNED_OUT
    assert "portal.signed_out" in db.session.scalars(sa.select(AuditLog.action)).all()


def test_each_sign_in_gets_a_new_session_token_never_one_the_browser_brought(
    app, client, db, portal_limiter, portal_login
):
    with client.session_transaction() as planted:
        planted["portal_session"] = "a token someone planted before sign-in"

    portal_sign_in(client)
    with client.session_transaction() as first:
        first_token = first["portal_session"]
    portal_sign_in(client)
    with client.session_transaction() as second:
        second_token = second["portal_session"]

    assert len({"a token someone planted before sign-in", first_token, second_token}) == 3
    with app.test_request_context():
        assert web_sessions.check(WebSessionKind.PORTAL, second_token, portal_login.id).live
        assert not web_sessions.check(
            WebSessionKind.PORTAL, "a token someone planted before sign-in", portal_login.id
        ).live
    # Only hashes are kept.
    stored = {r.token_hash for r in records(db)}
    assert first_token not in stored and second_token not in stored


# --- the idle limit ------------------------------------------------------------------


def test_a_cookie_that_says_it_was_just_used_does_not_keep_an_idle_back_office_session_alive(
    app, client, db, clock, sign_in, staff_user
):
    sign_in(STAFF_EMAIL, STAFF_PASSWORD)
    thief = copy_of(app, client)
    clock.forward(minutes=app.config["SESSION_IDLE_MINUTES"], seconds=1)

    # The copy's own last_seen is seconds old (the cookie's clock is real time).
    refused = thief.get("/backoffice/")

    assert refused.headers["Location"] == BACK_OFFICE_SIGN_IN
    assert "you had not done anything for a while" in banner_text(
        parse(thief.get(BACK_OFFICE_SIGN_IN))
    )
    # Ended for good: the owner's browser cannot bring it back either.
    assert client.get("/backoffice/").headers["Location"] == BACK_OFFICE_SIGN_IN
    [record] = records(db)
    assert record.end_reason == WebSessionEnd.IDLE


def test_a_copied_portal_cookie_cannot_refresh_an_idle_session(
    app, client, db, clock, debtor, portal_login
):
    sign_in_portal(client, portal_login)
    thief = copy_of(app, client)
    clock.forward(minutes=app.config["SESSION_IDLE_MINUTES"] - 1)
    assert thief.get("/account").status_code == 302  # still live: on to the account page
    clock.forward(minutes=app.config["SESSION_IDLE_MINUTES"], seconds=1)

    refused = thief.get("/account")
    again = client.get("/account")

    assert refused.headers["Location"] == "/sign-in?next=/account"
    assert again.headers["Location"] == "/sign-in?next=/account"
    [record] = records(db)
    assert record.end_reason == WebSessionEnd.IDLE
    # The refused request wrote no new last use.
    assert record.last_seen_at == clock.now - timedelta(
        minutes=app.config["SESSION_IDLE_MINUTES"], seconds=1
    )


# --- the absolute lifetime -----------------------------------------------------------


def test_the_lifetime_ends_a_portal_session_used_every_minute(
    app, client, db, clock, debtor, portal_login
):
    assert app.config["PORTAL_SESSION_MAX_HOURS"] == 2
    sign_in_portal(client, portal_login)
    for _ in range(2 * 60 - 1):
        clock.forward(minutes=1)
        assert client.get("/account").status_code == 302, clock.now
        assert client.get("/account").headers["Location"] == f"/account/{debtor.reference}"

    clock.forward(minutes=1)
    response = client.get("/account")

    assert response.headers["Location"] == "/sign-in?next=/account"
    assert "signed in more than 2 hours ago" in text(parse(client.get("/sign-in")).main)
    [record] = records(db)
    assert record.end_reason == WebSessionEnd.LIFETIME


def test_the_lifetime_ends_a_back_office_session_however_busy(
    app, client, db, clock, sign_in, staff_user
):
    assert app.config["STAFF_SESSION_MAX_HOURS"] == 12
    sign_in(STAFF_EMAIL, STAFF_PASSWORD)
    for _ in range(12 * 4 - 1):
        clock.forward(minutes=15)
        assert client.get("/backoffice/").status_code == 200, clock.now

    clock.forward(minutes=15)
    response = client.get("/backoffice/")

    assert response.headers["Location"] == BACK_OFFICE_SIGN_IN
    assert "signed in more than 12 hours ago" in banner_text(parse(client.get(BACK_OFFICE_SIGN_IN)))
    [record] = records(db)
    assert record.end_reason == WebSessionEnd.LIFETIME


# --- ending every session of a person -------------------------------------------------


def test_sign_out_everywhere_ends_the_session_records_of_every_browser(
    app, client, db, sign_in, staff_user
):
    laptop, phone = client, app.test_client()
    sign_in(STAFF_EMAIL, STAFF_PASSWORD, on=laptop)
    sign_in(STAFF_EMAIL, STAFF_PASSWORD, on=phone)
    thief = copy_of(app, phone)

    laptop.post(
        "/backoffice/sign-out-everywhere", data={"csrf_token": csrf_token(laptop, "/backoffice/")}
    )

    assert thief.get("/backoffice/").headers["Location"] == BACK_OFFICE_SIGN_IN
    assert [r.end_reason for r in records(db)] == [WebSessionEnd.SIGNED_OUT_EVERYWHERE] * 2


def test_a_portal_password_reset_ends_the_session_records_of_every_browser(
    app, client, db, portal_limiter, debtor, portal_login
):
    laptop, phone = client, app.test_client()
    portal_sign_in(laptop)
    portal_sign_in(phone)
    forgot = app.test_client()
    forgot.post(
        "/forgot-password",
        data={"csrf_token": csrf_token(forgot, "/forgot-password"), "email": PORTAL_EMAIL},
    )
    [email] = db.session.scalars(
        sa.select(OutboxMessage.body).where(OutboxMessage.template == "portal_reset_password")
    ).all()
    path = re.search(r"https?://[^/\s]+(/\S+)", email).group(1)
    new_password = "a brand new passphrase"
    forgot.post(
        path,
        data={
            "csrf_token": csrf_token(forgot, path),
            "password": new_password,
            "confirm": new_password,
        },
    )

    assert [r.end_reason for r in records(db)] == [WebSessionEnd.PASSWORD_CHANGED] * 2
    assert phone.get("/account").headers["Location"] == "/sign-in?next=/account"


# --- cost ----------------------------------------------------------------------------


def test_the_session_check_writes_last_use_at_most_once_a_minute_and_apart_from_the_page(
    app, client, db, clock, debtor, portal_login
):
    sign_in_portal(client, portal_login)
    page = f"/account/{debtor.reference}"
    fresh = count_queries(db, lambda: client.get(page))
    clock.forward(seconds=61)

    touched = count_queries(db, lambda: client.get(page))
    within_the_minute = count_queries(db, lambda: client.get(page))

    # One UPDATE of last use, in a transaction of its own (on PostgreSQL the page's
    # own transaction is READ ONLY, so writing there would fail).
    assert (touched, within_the_minute) == (fresh + 1, fresh)
    [record] = records(db)
    assert record.last_seen_at == clock.now
    assert record.ended_at is None


# --- where am I signed in ------------------------------------------------------------


def test_the_back_office_home_page_lists_where_the_officer_is_signed_in_now(
    app, client, db, sign_in, staff_user
):
    laptop, phone = client, app.test_client()
    sign_in(STAFF_EMAIL, STAFF_PASSWORD, on=laptop)
    sign_in(STAFF_EMAIL, STAFF_PASSWORD, on=phone)

    def rows():
        table = parse(laptop.get("/backoffice/")).select_one("table.app-signed-in-sessions")
        return [[text(td) for td in tr.select("td")] for tr in table.select("tbody tr")]

    both = rows()
    sign_out_of_back_office(phone)
    after = rows()

    assert len(both) == 2
    assert len(after) == 1
    assert after[0][2].startswith("Werkzeug/")  # the test client's User-Agent
    assert after[0][3] == "127.0.0.1"
