from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.fernet import Fernet

from shared.app import create_app
from shared.config import load_config
from tests.conftest import TEST_REDIS_URL
from tests.production_settings import PRODUCTION_ENVIRON
from tests.views.conftest import STAFF_EMAIL, STAFF_PASSWORD
from tests.views.pages import parse

PAGES = ["/", "/backoffice/sign-in", "/no-such-page"]


def _directives(csp: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in csp.split(";"):
        name, *values = directive.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_the_security_headers(client, path):
    headers = client.get(path).headers

    csp = _directives(headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"][0] == "'self'"
    assert "'unsafe-inline'" not in csp["script-src"]
    assert csp["style-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["font-src"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    # Forms post to us; the pay form's redirect goes on to the checkout page (the
    # local stand-in under the test config).
    assert csp["form-action"] == ["'self'", "http://127.0.0.1:8420"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers


@pytest.mark.parametrize("path", PAGES)
def test_the_policy_allows_exactly_the_inline_scripts_in_the_page(client, path):
    response = client.get(path)
    script_src = _directives(response.headers["Content-Security-Policy"])["script-src"]

    inline = [s.string or "" for s in parse(response).select("script:not([src])")]
    # GOV.UK Frontend's template sets the govuk-frontend-supported class inline;
    # without it initAll() starts no components.
    assert any("govuk-frontend-supported" in script for script in inline)
    expected = {
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in inline
    }
    assert set(script_src[1:]) == expected


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_inline_styles_or_handlers_the_policy_would_block(client, path):
    page = parse(client.get(path))

    assert page.select("style") == []
    assert page.select("[style]") == []
    assert [
        (tag.name, attr)
        for tag in page.find_all(True)
        for attr in tag.attrs
        if attr.startswith("on")
    ] == []


def test_strict_transport_security_is_sent_in_production(database_url):
    config = load_config(
        environ=PRODUCTION_ENVIRON,
        DATABASE_URL=database_url,
        REDIS_URL=TEST_REDIS_URL,
        SECRET_KEY="a-production-length-secret-key-for-this-test-only",
        TOTP_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    )
    response = create_app(config).test_client().get("/")

    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_back_office_pages_are_never_stored(client):
    assert client.get("/backoffice/sign-in").headers["Cache-Control"] == "no-store"
    assert client.get("/backoffice/no-such-page").headers["Cache-Control"] == "no-store"


def test_public_pages_may_be_cached_when_nobody_is_signed_in(client):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")


def test_no_page_is_stored_while_someone_is_signed_in_but_assets_still_are(
    client, sign_in, staff_user
):
    sign_in(STAFF_EMAIL, STAFF_PASSWORD)

    assert client.get("/").headers["Cache-Control"] == "no-store"
    stylesheet = client.get("/static/govuk-frontend/govuk-frontend.min.css")
    icon = client.get("/assets/images/council-icon.svg")
    assert stylesheet.status_code == icon.status_code == 200
    assert "no-store" not in stylesheet.headers.get("Cache-Control", "")
    assert "no-store" not in icon.headers.get("Cache-Control", "")


def test_with_real_stripe_forms_may_continue_only_to_stripe_checkout():
    from shared.config import load_config
    from shared.web import checkout_origin

    assert (
        checkout_origin(load_config(environ={"STRIPE_API_BASE": ""}))
        == "https://checkout.stripe.com"
    )
