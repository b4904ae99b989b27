from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import abort

from shared.app import create_app
from shared.extensions import db
from tests.conftest import make_config
from tests.views.pages import parse, text, title

PORTAL = "Pay or manage a council bill"
BACK_OFFICE = "Income recovery back office"


def test_an_unknown_address_shows_page_not_found_with_status_404(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    page = parse(response)
    assert title(page) == f"Page not found – {PORTAL} – Borsetshire County Council"
    assert text(page.h1) == "Page not found"
    assert "If you typed the web address, check it is correct." in text(page.main)


def test_an_unknown_back_office_address_uses_the_back_office_layout(client):
    response = client.get("/backoffice/no-such-page")

    assert response.status_code == 404
    page = parse(response)
    assert title(page) == f"Page not found – {BACK_OFFICE} – Borsetshire County Council"
    assert page.select_one(".govuk-phase-banner") is None
    # Officers are not sent to the public phone line.
    assert "0300 123 4567" not in text(page.main)


@pytest.mark.parametrize(
    ("status", "heading"),
    [
        (400, "Sorry, there is a problem with your request"),
        (403, "You do not have permission to view this page"),
        (404, "Page not found"),
    ],
)
def test_aborting_a_request_shows_the_gov_uk_page_for_its_status(app, client, status, heading):
    app.add_url_rule(f"/test-only/abort-{status}", f"abort_{status}", lambda: abort(status))

    response = client.get(f"/test-only/abort-{status}")

    assert response.status_code == status
    page = parse(response)
    assert text(page.h1) == heading
    assert title(page).startswith(f"{heading} – {PORTAL}")


def test_an_unhandled_error_shows_the_problem_with_the_service_page_with_status_500(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken():
        raise RuntimeError("a bug")

    app.add_url_rule("/test-only/broken", "broken", broken)

    response = client.get("/test-only/broken")

    assert response.status_code == 500
    page = parse(response)
    assert text(page.h1) == "Sorry, there is a problem with the service"
    assert "Try again later." in text(page.main)
    assert "a bug" not in response.get_data(as_text=True)
    assert "Content-Security-Policy" in response.headers


def test_the_500_page_still_renders_when_the_database_is_unreachable(tmp_path):
    unreachable = f"sqlite:///{tmp_path}/no-such-directory/recovery.db"
    app = create_app(make_config(unreachable))
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def needs_database():
        db.session.execute(sa.text("SELECT 1"))
        return "unreachable"

    app.add_url_rule("/test-only/needs-database", "needs_database", needs_database)

    response = app.test_client().get("/test-only/needs-database")

    assert response.status_code == 500
    assert text(parse(response).h1) == "Sorry, there is a problem with the service"


def test_a_form_posted_without_a_csrf_token_gets_the_expired_form_page(client):
    response = client.post("/backoffice/sign-in", data={"email": "a@b.example", "password": "x"})

    assert response.status_code == 400
    page = parse(response)
    assert text(page.h1) == "Sorry, you’ll have to start again"
    start_again = page.select_one("main a.govuk-link")
    assert start_again["href"] == "/backoffice/"


def test_a_value_the_database_refuses_gets_the_bad_request_page_not_a_server_error(app, db):
    # Text longer than a VARCHAR column (PostgreSQL refuses it; SQLite keeps it, so there
    # the refusal is raised as PostgreSQL's driver would).
    def too_long():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("SELECT CAST(2147483648 AS INTEGER)"))
        raise sa.exc.DataError("INSERT ...", {}, Exception("value too long for type"))

    app.add_url_rule("/test-only/too-long", "too_long", too_long, methods=["POST"])
    app.config["WTF_CSRF_ENABLED"] = False

    response = app.test_client().post("/test-only/too-long")

    assert response.status_code == 400
    assert text(parse(response).h1) == "Sorry, there is a problem with your request"
