"""Portal logins: creating one with a security code sent to a contact point on file,
adding another account to it, signing in and out, and resetting a forgotten password."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import session
from werkzeug.security import check_password_hash

from shared.models import (
    AuditLog,
    CodePurpose,
    ContactEvent,
    OutboxChannel,
    OutboxMessage,
    PortalOneTimeCode,
    PortalRelationship,
    PortalUser,
    PortalUserAccount,
)
from shared.models.base import utcnow
from tests.factories import make_account, make_portal_login
from tests.views.pages import csrf_token, error_summary, inline_errors, parse, text, title

POSTCODE = "SW1A 1AA"
EMAIL_ON_FILE = "alex.smith@example.com"
MOBILE_ON_FILE = "07700 900123"
NEW_EMAIL = "Alex.Login@Example.com"
PASSWORD = "a perfectly good passphrase"
NOT_FOUND = (
    "We could not find an account with those details. Check your account reference and postcode"
)
TOO_MANY = "You have tried too many times. Wait 15 minutes and try again"
WRONG_CODE = "The security code is not correct. Check it and try again"
INCORRECT = "Email address or password is incorrect"
LOCKED = (
    "Your account is locked because the password was entered wrongly too many times. "
    "Wait 15 minutes and try again, or reset your password"
)


# --- fixtures and helpers --------------------------------------------------------------


@pytest.fixture(autouse=True)
def limiter(app, isolated_limiter):
    return isolated_limiter(app)


@pytest.fixture
def debtor(app):
    """Alex Smith's account, with an email address and a mobile number on file."""
    return make_account(postcode=POSTCODE, email=EMAIL_ON_FILE, mobile_phone=MOBILE_ON_FILE)


@pytest.fixture
def mother(app):
    """An account Alex manages for someone else (power of attorney)."""
    return make_account(
        surname="Archer", forename="Peggy", postcode="AB1 2CD", mobile_phone="07700900456"
    )


def make_login(*accounts, email="alex@example.com", password=PASSWORD) -> PortalUser:
    return make_portal_login(*accounts, email=email, password=password)


def submit(client, path, data, *, ip="127.0.0.1", token_from=None):
    """Post a form as a browser would: with the CSRF token from the page that shows it."""
    token = csrf_token(client, token_from or path)
    return client.post(path, data={"csrf_token": token, **data}, environ_base={"REMOTE_ADDR": ip})


def sign_in(client, email="alex@example.com", password=PASSWORD, next_=""):
    return submit(client, "/sign-in", {"email": email, "password": password, "next": next_})


def outbox(db, template) -> list[OutboxMessage]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.template == template)
        .order_by(OutboxMessage.id)
    ).all()


def latest_code(db) -> str:
    """The security code, read from the message that carries it (the only place it is)."""
    return re.search(r"\b(\d{6})\b", outbox(db, "portal_one_time_code")[-1].body).group(1)


def link_path(message: OutboxMessage) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def timeline(db, account) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(ContactEvent.summary)
            .where(ContactEvent.account_id == account.id)
            .order_by(ContactEvent.id)
        )
    )


def audit_actions(db) -> list[str]:
    return list(db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)))


def logins(db) -> list[PortalUser]:
    db.session.expire_all()
    return db.session.scalars(sa.select(PortalUser).order_by(PortalUser.id)).all()


def prove_access(client, db, account, *, journey="create", channel="email", postcode=POSTCODE):
    """Find the account, send a code to `channel` and enter it: the three shared steps."""
    base = f"/account/{journey}"
    response = submit(client, base, {"reference": account.reference, "postcode": postcode})
    assert response.headers["Location"] == f"{base}/send-code"
    response = submit(client, f"{base}/send-code", {"contact": channel})
    assert response.headers["Location"] == f"{base}/enter-code"
    response = submit(client, f"{base}/enter-code", {"code": latest_code(db)})
    assert response.status_code == 302
    return response


def create_details(client, email=NEW_EMAIL, password=PASSWORD, confirm=None):
    return submit(
        client,
        "/account/create/your-details",
        {"email": email, "password": password, "confirm": password if confirm is None else confirm},
    )


# --- creating an account -----------------------------------------------------------------


def test_the_create_account_page_asks_for_the_reference_and_postcode(client):
    response = client.get("/account/create")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = parse(response)
    assert title(page) == (
        "Create an account – Pay or manage a council bill – Borsetshire County Council"
    )
    assert text(page.h1) == "Create an account"
    form = page.select_one("main form")
    assert form["action"] == "/account/create"
    assert form.has_attr("novalidate")
    assert [i["name"] for i in form.select("input:not([type=hidden])")] == [
        "reference",
        "postcode",
    ]
    assert page.select_one('main a[href="/sign-in"]') is not None


def test_someone_creates_an_account_from_a_code_emailed_to_the_address_on_file(client, db, debtor):
    with client:
        response = submit(
            client,
            "/account/create",
            {"reference": debtor.reference.lower(), "postcode": "sw1a1aa"},
        )
        assert response.headers["Location"] == "/account/create/send-code"
        assert "account_id" in str(session["portal_journey"])

    page = parse(client.get("/account/create/send-code"))
    assert title(page).startswith("Where should we send a security code? – ")
    choices = {r["value"]: text(r.find_next("label")) for r in page.select("input[type=radio]")}
    assert choices == {"email": "Email a***@example.com", "sms": "Text message to 07*** ***123"}
    assert EMAIL_ON_FILE not in page.decode()  # only ever shown masked

    response = submit(client, "/account/create/send-code", {"contact": "email"})
    assert response.headers["Location"] == "/account/create/enter-code"
    [message] = outbox(db, "portal_one_time_code")
    assert message.recipient == EMAIL_ON_FILE
    assert message.channel == OutboxChannel.EMAIL

    page = parse(client.get("/account/create/enter-code"))
    assert title(page).startswith("Check your email – ")
    assert "sent an email with a security code" in text(page.main)
    code_input = page.select_one("input[name=code]")
    assert code_input["autocomplete"] == "one-time-code"
    assert code_input["inputmode"] == "numeric"
    assert code_input["spellcheck"] == "false"
    assert "govuk-input--width-5" in code_input["class"]

    code = latest_code(db)
    response = submit(client, "/account/create/enter-code", {"code": f"{code[:3]} {code[3:]}"})
    assert response.headers["Location"] == "/account/create/your-details"

    page = parse(client.get("/account/create/your-details"))
    assert title(page).startswith("Create your sign in details – ")
    assert page.select_one("input[name=email]")["type"] == "email"
    assert page.select_one("input[name=email]")["autocomplete"] == "email"
    assert page.select_one("input[name=password]")["autocomplete"] == "new-password"

    with client:
        response = create_details(client)
        assert response.headers["Location"] == "/account"
        [user] = logins(db)
        assert session["portal_user_id"] == user.id
        assert "portal_journey" not in session

    assert user.email == "alex.login@example.com"
    assert PASSWORD not in user.password_hash
    assert check_password_hash(user.password_hash, PASSWORD)
    [link] = db.session.scalars(sa.select(PortalUserAccount)).all()
    assert (link.portal_user_id, link.account_id) == (user.id, debtor.id)
    assert link.relationship_to_debtor == PortalRelationship.SELF

    # The one account linked: straight to its page, with the news on top.
    response = client.get("/account")
    assert response.headers["Location"] == f"/account/{debtor.reference}"
    page = parse(client.get(response.headers["Location"]))
    banner = page.select_one(".govuk-notification-banner--success")
    assert "Your account has been created" in text(banner)

    [verify] = outbox(db, "portal_verify_email")
    assert verify.recipient == "alex.login@example.com"
    assert user.email_verified_at is None
    page = parse(client.get(link_path(verify)))
    assert text(page.h1) == "Your email address is confirmed"
    db.session.expire_all()
    assert user.email_verified_at is not None

    assert timeline(db, debtor) == ["Security code sent by email", "Portal login created"]
    actions = audit_actions(db)
    for action in (
        "portal.code_sent",
        "portal.code_verified",
        "portal.login_created",
        "portal.email_verified",
    ):
        assert action in actions


def test_a_code_can_go_by_text_message_to_the_mobile_on_file(client, db, debtor):
    submit(client, "/account/create", {"reference": debtor.reference, "postcode": POSTCODE})
    submit(client, "/account/create/send-code", {"contact": "sms"})

    [message] = outbox(db, "portal_one_time_code")
    assert message.channel == OutboxChannel.SMS
    assert message.recipient == MOBILE_ON_FILE
    page = parse(client.get("/account/create/enter-code"))
    assert title(page).startswith("Check your phone – ")
    assert "sent a text message" in text(page.main)
    assert timeline(db, debtor) == ["Security code sent by text message"]


@pytest.mark.parametrize(
    "reference, postcode",
    [("{reference}", "AB1 2CD"), ("T99999999", POSTCODE)],
    ids=["wrong postcode", "unknown reference"],
)
def test_a_wrong_postcode_and_an_unknown_reference_get_the_same_message(
    client, db, debtor, reference, postcode
):
    response = submit(
        client,
        "/account/create",
        {"reference": reference.format(reference=debtor.reference), "postcode": postcode},
    )

    assert response.status_code == 200
    page = parse(response)
    assert title(page).startswith("Error: Create an account – ")
    assert error_summary(page) == [(NOT_FOUND, "#reference")]
    assert inline_errors(page) == {"reference": NOT_FOUND}
    # Nothing found, so the next step is not open.
    assert client.get("/account/create/send-code").headers["Location"] == "/account/create"
    assert outbox(db, "portal_one_time_code") == []


def test_submitting_the_find_page_empty_asks_for_both(client):
    page = parse(submit(client, "/account/create", {"reference": "", "postcode": ""}))

    assert error_summary(page) == [
        ("Enter your account reference", "#reference"),
        ("Enter your postcode", "#postcode"),
    ]


def test_an_account_with_no_email_or_mobile_on_file_says_to_phone_the_council(client, db):
    account = make_account(postcode=POSTCODE)
    submit(client, "/account/create", {"reference": account.reference, "postcode": POSTCODE})

    page = parse(client.get("/account/create/send-code"))

    assert text(page.h1) == "We cannot send you a security code"
    assert "0300 123 4567" in text(page.main)
    assert page.select_one("main form") is None


def test_choosing_nowhere_to_send_the_code_is_explained(client, db, debtor):
    submit(client, "/account/create", {"reference": debtor.reference, "postcode": POSTCODE})

    page = parse(submit(client, "/account/create/send-code", {}))

    assert error_summary(page)[0][0] == "Select where we should send a security code"
    assert outbox(db, "portal_one_time_code") == []


def test_steps_cannot_be_skipped(client, debtor):
    for step in ("send-code", "enter-code", "your-details"):
        response = client.get(f"/account/create/{step}")
        assert response.headers["Location"] == "/account/create"

    submit(client, "/account/create", {"reference": debtor.reference, "postcode": POSTCODE})
    submit(client, "/account/create/send-code", {"contact": "email"})
    # The code is sent but not yet entered.
    assert client.get("/account/create/your-details").headers["Location"] == "/account/create"


def test_a_wrong_code_is_explained_and_the_page_offers_a_new_code(client, db, debtor):
    submit(client, "/account/create", {"reference": debtor.reference, "postcode": POSTCODE})
    submit(client, "/account/create/send-code", {"contact": "email"})
    wrong = f"{(int(latest_code(db)) + 1) % 1_000_000:06d}"

    response = submit(client, "/account/create/enter-code", {"code": wrong})

    assert response.status_code == 200
    page = parse(response)
    assert error_summary(page) == [(WRONG_CODE, "#code")]
    assert inline_errors(page) == {"code": WRONG_CODE}
    links = {text(a): a["href"] for a in page.select("main a")}
    assert links["request a new code"] == "/account/create/send-code"


def test_a_code_that_is_not_6_numbers_is_explained(client, db, debtor):
    submit(client, "/account/create", {"reference": debtor.reference, "postcode": POSTCODE})
    submit(client, "/account/create/send-code", {"contact": "email"})

    page = parse(submit(client, "/account/create/enter-code", {"code": "12a4"}))

    assert inline_errors(page) == {"code": "The security code must be 6 numbers"}


def test_five_wrong_codes_cancel_the_code_so_even_the_right_one_then_fails(client, db, debtor):
    submit(client, "/account/create", {"reference": debtor.reference, "postcode": POSTCODE})
    submit(client, "/account/create/send-code", {"contact": "email"})
    code = latest_code(db)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    for _ in range(4):
        page = parse(submit(client, "/account/create/enter-code", {"code": wrong}))
        assert inline_errors(page) == {"code": WRONG_CODE}
    page = parse(submit(client, "/account/create/enter-code", {"code": wrong}))
    cancelled = "You have entered the wrong code too many times. Request a new code"
    assert inline_errors(page) == {"code": cancelled}

    page = parse(submit(client, "/account/create/enter-code", {"code": code}))

    assert inline_errors(page) == {"code": cancelled}
    assert client.get("/account/create/your-details").headers["Location"] == "/account/create"
    assert "Security code entered wrongly 5 times and cancelled" in timeline(db, debtor)


def test_an_expired_code_is_refused(client, db, debtor):
    submit(client, "/account/create", {"reference": debtor.reference, "postcode": POSTCODE})
    submit(client, "/account/create/send-code", {"contact": "email"})
    code = latest_code(db)
    row = db.session.scalars(sa.select(PortalOneTimeCode)).one()
    row.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    page = parse(submit(client, "/account/create/enter-code", {"code": code}))

    assert inline_errors(page) == {"code": "The security code has expired. Request a new code"}
    assert client.get("/account/create/your-details").headers["Location"] == "/account/create"


@pytest.mark.parametrize(
    "password, confirm, field, message",
    [
        ("too short", "too short", "password", "Password must be 10 characters or more"),
        (PASSWORD, PASSWORD + "!", "confirm", "Passwords do not match"),
        ("password123", "password123", "password", "Choose a password that is harder to guess"),
    ],
    ids=["too short", "mismatch", "common"],
)
def test_a_password_that_will_not_do_is_explained_and_nothing_is_created(
    client, db, debtor, password, confirm, field, message
):
    prove_access(client, db, debtor)

    response = create_details(client, password=password, confirm=confirm)

    assert response.status_code == 200
    page = parse(response)
    assert title(page).startswith("Error: Create your sign in details – ")
    assert error_summary(page) == [(message, f"#{field}")]
    assert inline_errors(page) == {field: message}
    assert logins(db) == []
    assert outbox(db, "portal_verify_email") == []
    # The code still holds: the person can fix the password and go on.
    assert create_details(client).headers["Location"] == "/account"


def test_an_email_address_that_already_has_a_login_is_refused(client, db, debtor):
    make_login(email="alex.login@example.com")
    prove_access(client, db, debtor)

    response = create_details(client, email="ALEX.LOGIN@example.com")

    page = parse(response)
    message = "You already have an account with this email address. Sign in instead"
    assert error_summary(page) == [(message, "#email")]
    assert len(logins(db)) == 1
    assert db.session.scalars(sa.select(PortalUserAccount)).all() == []
    # The code was not used up: another address works.
    assert create_details(client, email="someone.else@example.com").status_code == 302


def test_a_bad_email_verification_link_says_it_does_not_work(client):
    response = client.get("/account/verify-email/not-a-real-token")

    assert response.status_code == 400
    assert "does not work" in text(parse(response).h1)


# --- signing in and out ------------------------------------------------------------------


def test_the_sign_in_page_links_to_forgotten_password_and_creating_an_account(client):
    page = parse(client.get("/sign-in?next=/account/T1/contact"))

    assert title(page).startswith("Sign in – ")
    form = page.select_one("main form")
    assert form["action"] == "/sign-in"
    assert form.select_one("input[name=next]")["value"] == "/account/T1/contact"
    assert form.select_one("input[name=email]")["autocomplete"] == "email"
    assert form.select_one("input[name=password]")["autocomplete"] == "current-password"
    links = {text(a): a["href"] for a in page.select("main a")}
    assert links["I have forgotten my password"] == "/forgot-password"
    assert links["Create an account"] == "/account/create"


def test_the_right_password_signs_in_and_lands_on_the_account(client, db, debtor):
    user = make_login(debtor)

    with client:
        response = sign_in(client, email="  ALEX@example.com ")

        assert response.headers["Location"] == "/account"
        assert session["portal_user_id"] == user.id
    assert "portal.signed_in" in audit_actions(db)


@pytest.mark.parametrize(
    "email, password",
    [("alex@example.com", "not the password"), ("nobody@example.com", PASSWORD)],
    ids=["wrong password", "unknown email"],
)
def test_a_wrong_password_and_an_unknown_email_get_the_same_message(
    client, db, debtor, email, password
):
    make_login(debtor)

    with client:
        response = sign_in(client, email=email, password=password)

        assert response.status_code == 200
        assert "portal_user_id" not in session
    page = parse(response)
    assert title(page).startswith("Error: Sign in – ")
    assert error_summary(page) == [(INCORRECT, "#email")]
    assert "portal.sign_in_failed" in audit_actions(db)


def test_five_wrong_passwords_lock_the_login_even_against_the_right_one(client, db, debtor):
    make_login(debtor)

    for _ in range(4):
        assert error_summary(parse(sign_in(client, password="wrong password"))) == [
            (INCORRECT, "#email")
        ]
    assert error_summary(parse(sign_in(client, password="wrong password"))) == [(LOCKED, "#email")]

    with client:
        page = parse(sign_in(client))

        assert "portal_user_id" not in session
    assert error_summary(page) == [(LOCKED, "#email")]
    assert "portal.locked" in audit_actions(db)


@pytest.mark.parametrize("email", ["alex@example.com", "nobody@example.com"])
def test_five_wrong_tries_lock_a_known_and_an_unknown_email_address_the_same_way(
    client, db, debtor, email
):
    make_login(debtor)

    answers = [sign_in(client, email=email, password="wrong password") for _ in range(6)]
    answers.append(sign_in(client, email=email))  # the right password, if there is a login

    assert [a.status_code for a in answers] == [200] * 7
    assert [error_summary(parse(a)) for a in answers] == [[(INCORRECT, "#email")]] * 4 + [
        [(LOCKED, "#email")]
    ] * 3


def test_an_unknown_address_is_locked_for_15_minutes_from_its_5th_wrong_try(
    app, client, db, debtor
):
    from portal import sign_in_lock
    from shared.ratelimit import limiter_for

    for _ in range(5):
        sign_in(client, email="nobody@example.com", password="wrong password")

    redis = limiter_for(app).redis
    lock = limiter_for(app)._key(sign_in_lock.LOCKED_OUT, "nobody@example.com")
    assert 14 * 60 < redis.ttl(lock) <= 15 * 60
    redis.delete(lock)  # as if 15 minutes had passed
    page = parse(sign_in(client, email="nobody@example.com", password="wrong password"))
    assert error_summary(page) == [(INCORRECT, "#email")]


def test_a_right_password_clears_the_wrong_tries_before_it(app, client, db, debtor):
    make_login(debtor)
    for _ in range(4):
        sign_in(client, password="wrong password")
    assert sign_in(client).status_code == 302

    another_browser = app.test_client()
    for _ in range(4):
        page = parse(sign_in(another_browser, password="wrong password"))
        assert error_summary(page) == [(INCORRECT, "#email")]


@pytest.mark.parametrize(
    "next_, lands_on",
    [
        ("/account/T1/contact", "/account/T1/contact"),
        ("https://evil.example/account", "/account"),
        ("//evil.example", "/account"),
        ("/\\evil.example", "/account"),
        ("", "/account"),
    ],
)
def test_after_signing_in_next_only_goes_to_a_path_on_this_site(client, debtor, next_, lands_on):
    make_login(debtor)

    response = sign_in(client, next_=next_)

    assert response.headers["Location"] == lands_on


def test_being_sent_to_sign_in_brings_you_back_afterwards(client, debtor):
    make_login(debtor)
    target = f"/account/{debtor.reference}/contact"

    response = client.get(target)
    assert response.headers["Location"] == f"/sign-in?next=/account/{debtor.reference}/contact"
    next_ = parse(client.get(response.headers["Location"])).select_one("input[name=next]")

    assert sign_in(client, next_=next_["value"]).headers["Location"] == target


def test_signing_out_clears_the_session(client, db, debtor):
    make_login(debtor)
    sign_in(client)

    with client:
        response = submit(client, "/sign-out", {}, token_from="/sign-in")

        assert response.headers["Location"] == "/sign-in"
        assert "portal_user_id" not in session
    page = parse(client.get("/sign-in"))
    assert "You have signed out" in text(page.select_one(".govuk-notification-banner--success"))
    assert client.get("/account").headers["Location"].startswith("/sign-in")
    assert "portal.signed_out" in audit_actions(db)


def test_signing_out_needs_the_csrf_token(client, debtor):
    make_login(debtor)
    sign_in(client)

    with client:
        response = client.post("/sign-out")

        assert response.status_code == 400
        assert "portal_user_id" in session


def test_an_idle_session_is_signed_out_and_sent_to_sign_in_with_a_message(client, debtor):
    make_login(debtor)
    sign_in(client)
    with client.session_transaction() as saved:
        saved["last_seen"] = int(time.time()) - 31 * 60

    with client:
        response = client.get("/account")

        assert response.headers["Location"] == "/sign-in?next=/account"
        assert "portal_user_id" not in session
    page = parse(client.get(response.headers["Location"]))
    assert "You were signed out because you were inactive" in text(
        page.select_one(".govuk-notification-banner")
    )


def test_the_header_offers_sign_in_to_someone_signed_out(client):
    page = parse(client.get("/"))

    header = page.select_one("header")
    assert {text(a): a["href"] for a in header.select("nav a")} == {"Sign in": "/sign-in"}
    assert header.select_one("form") is None


def test_the_header_offers_your_account_and_a_sign_out_button_that_works_without_javascript(
    client, debtor
):
    make_login(debtor)
    sign_in(client)

    page = parse(client.get("/"))

    header = page.select_one("header")
    assert {text(a): a["href"] for a in header.select("nav a")} == {"Your account": "/account"}
    form = header.select_one("nav form")
    assert form["method"] == "post"
    assert form["action"] == "/sign-out"
    assert form.select_one("input[name=csrf_token]")["value"]
    assert text(form.select_one("button[type=submit]")) == "Sign out"

    with client:
        client.post("/sign-out", data={"csrf_token": form.select_one("input")["value"]})
        assert "portal_user_id" not in session


def test_the_start_page_links_to_signing_in_and_creating_an_account(client):
    page = parse(client.get("/"))

    links = {text(a): a["href"] for a in page.select("main a")}
    assert links["Sign in"] == "/sign-in"
    assert links["create an account"] == "/account/create"


# --- forgotten passwords -----------------------------------------------------------------


def test_a_forgotten_password_for_an_unknown_email_gets_the_same_page_and_no_email(
    client, db, debtor
):
    make_login(debtor)

    unknown = submit(client, "/forgot-password", {"email": "nobody@example.com"})
    assert unknown.headers["Location"] == "/forgot-password/sent"
    unknown_page = text(parse(client.get("/forgot-password/sent")).main)
    assert outbox(db, "portal_reset_password") == []

    known = submit(client, "/forgot-password", {"email": "alex@example.com"})
    assert known.headers["Location"] == "/forgot-password/sent"
    known_page = text(parse(client.get("/forgot-password/sent")).main)
    [message] = outbox(db, "portal_reset_password")
    assert message.recipient == "alex@example.com"

    assert unknown_page == known_page
    assert "If there is an account with the email address you entered" in known_page


def test_a_reset_link_sets_a_new_password_once_then_stops_working(client, db, debtor):
    make_login(debtor)
    submit(client, "/forgot-password", {"email": "alex@example.com"})
    path = link_path(outbox(db, "portal_reset_password")[0])
    new_password = "a brand new passphrase"

    page = parse(client.get(path))
    assert title(page).startswith("Create a new password – ")
    assert page.select_one("main form")["action"] == path
    assert page.select_one("input[name=password]")["autocomplete"] == "new-password"

    response = submit(client, path, {"password": new_password, "confirm": new_password})
    assert response.headers["Location"] == "/sign-in"
    assert "Your password has been changed" in text(parse(client.get("/sign-in")).main)

    again = client.get(path)
    assert again.status_code == 400
    assert "does not work" in text(parse(again).h1)
    assert error_summary(parse(sign_in(client))) == [(INCORRECT, "#email")]
    assert sign_in(client, password=new_password).headers["Location"] == "/account"
    assert "portal.password_reset" in audit_actions(db)


def test_a_reset_password_that_will_not_do_is_explained(client, db, debtor):
    make_login(debtor)
    submit(client, "/forgot-password", {"email": "alex@example.com"})
    path = link_path(outbox(db, "portal_reset_password")[0])

    page = parse(submit(client, path, {"password": "short", "confirm": "short"}))

    assert error_summary(page) == [("Password must be 10 characters or more", "#password")]
    assert sign_in(client).headers["Location"] == "/account"  # the old one still works


# --- adding another account to a login ---------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/account/link", "/account/link/send-code", "/account/link/relationship"]
)
def test_someone_not_signed_in_cannot_add_an_account(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_a_signed_in_login_adds_an_account_it_has_power_of_attorney_for(client, db, debtor, mother):
    user = make_login(debtor)
    sign_in(client)

    page = parse(client.get("/account/link"))
    assert text(page.h1) == "Add an account"
    assert page.select_one("main form")["action"] == "/account/link"
    prove_access(client, db, mother, journey="link", channel="sms", postcode="ab12cd")
    [code_row] = db.session.scalars(sa.select(PortalOneTimeCode)).all()
    assert (code_row.purpose, code_row.portal_user_id) == (CodePurpose.LINK_ACCOUNT, user.id)

    page = parse(client.get("/account/link/relationship"))
    assert title(page).startswith("Whose account is this? – ")
    response = submit(client, "/account/link/relationship", {"relationship": "power_of_attorney"})

    assert response.headers["Location"] == "/account"
    page = parse(client.get("/account"))
    assert "The account has been added to your login" in text(
        page.select_one(".govuk-notification-banner--success")
    )
    listed = {text(a) for a in page.select("main table a")}
    assert listed == {debtor.reference, mother.reference}
    link = db.session.scalars(
        sa.select(PortalUserAccount).where(PortalUserAccount.account_id == mother.id)
    ).one()
    assert link.relationship_to_debtor == PortalRelationship.POWER_OF_ATTORNEY
    assert timeline(db, mother) == [
        "Security code sent by text message",
        "Portal login linked to this account (power of attorney)",
    ]
    assert "portal.account_linked" in audit_actions(db)


def test_adding_an_account_already_linked_says_so(client, db, debtor):
    make_login(debtor)
    sign_in(client)

    page = parse(
        submit(client, "/account/link", {"reference": debtor.reference, "postcode": POSTCODE})
    )

    assert error_summary(page) == [("You can already see this account", "#reference")]
    assert outbox(db, "portal_one_time_code") == []


def test_a_code_sent_for_creating_an_account_cannot_be_used_to_add_one(client, db, debtor, mother):
    # A code proved in one journey does not open the last step of the other.
    make_login(debtor)
    sign_in(client)
    prove_access(client, db, mother, journey="create", channel="sms", postcode="AB1 2CD")

    assert client.get("/account/link/relationship").headers["Location"] == "/account/link"


# --- rate limits -------------------------------------------------------------------------


def test_the_11th_find_from_one_ip_address_is_refused(client, db, debtor):
    for n in range(10):
        response = submit(
            client,
            "/account/create",
            {"reference": f"T9999999{n}", "postcode": POSTCODE},
            ip="192.0.2.7",
        )
        assert response.status_code == 200

    response = submit(
        client,
        "/account/create",
        {"reference": debtor.reference, "postcode": POSTCODE},
        ip="192.0.2.7",
    )

    assert response.status_code == 429
    assert error_summary(parse(response)) == [(TOO_MANY, "#reference")]
    # Someone else is not held up.
    other = submit(
        client,
        "/account/create",
        {"reference": debtor.reference, "postcode": POSTCODE},
        ip="192.0.2.8",
    )
    assert other.status_code == 302


def _find(client, reference, postcode, ip):
    return submit(client, "/account/create", {"reference": reference, "postcode": postcode}, ip=ip)


def test_wrong_postcodes_from_other_addresses_never_stop_the_debtor_finding_their_account(
    client, debtor
):
    for n in range(8):
        _find(client, debtor.reference, "AB1 2CD", ip=f"198.51.100.{n + 1}")

    assert _find(client, debtor.reference, POSTCODE, ip="203.0.113.5").status_code == 302


def test_the_6th_find_of_one_reference_from_one_address_after_5_wrong_postcodes_is_refused(
    client, debtor
):
    for _ in range(5):
        _find(client, debtor.reference, "AB1 2CD", ip="198.51.100.1")

    response = _find(client, debtor.reference, POSTCODE, ip="198.51.100.1")

    assert response.status_code == 429
    assert error_summary(parse(response)) == [(TOO_MANY, "#reference")]


def test_a_password_reset_ends_sessions_signed_in_with_the_old_password(app, client, db, debtor):
    make_login(debtor)
    elsewhere = app.test_client()
    sign_in(elsewhere)
    assert elsewhere.get("/account").status_code == 302  # to the one account's page
    submit(client, "/forgot-password", {"email": "alex@example.com"})
    path = link_path(outbox(db, "portal_reset_password")[0])
    new_password = "a brand new passphrase"
    submit(client, path, {"password": new_password, "confirm": new_password})

    response = elsewhere.get("/account")

    assert response.headers["Location"] == "/sign-in?next=/account"


def test_a_signed_in_session_renews_its_cookie_at_most_once_a_minute(client, debtor):
    make_login(debtor)
    sign_in(client)
    with client.session_transaction() as saved:
        saved["last_seen"] = int(time.time()) - 5

    quiet = client.get("/account")
    with client.session_transaction() as saved:
        saved["last_seen"] = int(time.time()) - 120
    renewed = client.get("/account")

    assert "Set-Cookie" not in quiet.headers
    assert "Set-Cookie" in renewed.headers
    with client.session_transaction() as saved:
        assert int(time.time()) - saved["last_seen"] < 5
