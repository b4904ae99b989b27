"""The first pages in a real browser: styled by GOV.UK Frontend, its JavaScript
allowed by our CSP, no accessibility violations, and usable without JavaScript."""

from __future__ import annotations

import pyotp
import pytest

from shared.models import StaffRole
from shared.services import staff_admin
from tests.e2e.conftest import axe_violations
from tests.factories import make_account, make_portal_login, make_staff

pytestmark = pytest.mark.e2e

PORTAL_PASSWORD = "a perfectly good passphrase"


def test_start_page_is_styled_runs_govuk_javascript_and_has_no_accessibility_violations(
    live_server, page_factory
):
    _, base = live_server
    page, problems = page_factory()
    page.goto(f"{base}/")
    assert page.title().startswith("Pay or manage a council bill")
    # GOV.UK Frontend's script marks the body when it runs: proof the CSP lets it.
    page.wait_for_selector("body.govuk-frontend-supported", timeout=5_000)
    font = page.eval_on_selector("body", "el => getComputedStyle(el).fontFamily")
    assert (
        "GDS Transport" not in font
        and page.eval_on_selector(".govuk-body", "el => getComputedStyle(el).fontFamily")
        == "arial, sans-serif"
    )
    assert axe_violations(page) == []
    assert problems.messages == []


def test_sign_in_errors_are_summarised_and_the_summary_takes_focus(live_server, page_factory):
    _, base = live_server
    page, problems = page_factory()
    page.goto(f"{base}/backoffice/sign-in")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    assert "Enter your email address" in summary.inner_text()
    # GOV.UK Frontend moves focus to the summary so screen-reader users hear it. Polled
    # from here: wait_for_function compiles its predicate inside the page whenever the
    # first look fails, which our CSP (no 'unsafe-eval') rightly refuses.
    focused = "document.activeElement?.closest('.govuk-error-summary') != null"
    for _ in range(100):
        if page.evaluate(focused):
            break
        page.wait_for_timeout(50)
    assert page.evaluate(focused), "focus did not move to the error summary within 5 s"
    assert axe_violations(page) == []
    assert problems.messages == []


def _sign_in_with_the_setup_key(page, base: str, email: str, password: str) -> None:
    """Password, then set up an app from the key shown (as a person typing it into one would)."""
    page.goto(f"{base}/backoffice/sign-in")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/backoffice/sign-in/set-up-authenticator")
    key = page.locator("#setup-key").text_content().replace(" ", "")
    page.fill("input[name=code]", pyotp.TOTP(key).now())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/backoffice/")


def test_an_officer_can_sign_in_with_a_code_and_out_with_javascript_turned_off(
    live_server, page_factory
):
    app, base = live_server
    with app.app_context():
        make_staff(
            StaffRole.TEAM_LEADER,
            email="jo.bloggs@council.example",
            full_name="Jo Bloggs",
            password="a long enough passphrase",
        )
    page, _ = page_factory(javascript=False)
    _sign_in_with_the_setup_key(
        page, base, "  Jo.Bloggs@council.example ", "a long enough passphrase"
    )
    assert "Jo Bloggs" in page.locator("main").inner_text()
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(f"{base}/backoffice/sign-in")
    assert "You have signed out" in page.locator("main").inner_text()


def test_setting_up_an_authenticator_app_shows_the_qr_code_within_the_csp_accessibly(
    live_server, page_factory
):
    app, base = live_server
    with app.app_context():
        make_staff(StaffRole.OFFICER, email="sam@council.example", password="a long passphrase")
    page, problems = page_factory()
    page.goto(f"{base}/backoffice/sign-in")
    page.fill("input[name=email]", "sam@council.example")
    page.fill("input[name=password]", "a long passphrase")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/backoffice/sign-in/set-up-authenticator")
    page.wait_for_selector("body.govuk-frontend-supported", timeout=5_000)
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    box = qr.bounding_box()
    assert box is not None and box["width"] > 150 and box["height"] > 150
    assert axe_violations(page) == []
    # A wrong code: the error summary, still accessible.
    right = pyotp.TOTP(page.locator("#setup-key").text_content().replace(" ", "")).now()
    page.fill("input[name=code]", f"{(int(right) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="Continue").click()
    page.locator(".govuk-error-summary").wait_for()
    assert axe_violations(page) == []
    assert problems.messages == []


def test_the_staff_pages_have_no_accessibility_violations(live_server, page_factory):
    app, base = live_server
    with app.app_context():
        make_staff(StaffRole.ADMIN, email="ada@council.example", password="a long passphrase")
        colleague = make_staff(StaffRole.OFFICER, full_name="Olu Officer")
        colleague_id = colleague.id
        # A limit change waiting for a second administrator: its approve and reject
        # buttons are on the colleague's page, and the list names it.
        other_admin = make_staff(StaffRole.ADMIN, full_name="Bea Admin")
        staff_admin.set_limits(
            other_admin.id, colleague_id, refund_limit_pence=900_000, write_off_limit_pence=0
        )
        debtor_reference = make_account(surname="Rogers").reference
    page, problems = page_factory()
    _sign_in_with_the_setup_key(page, base, "ada@council.example", "a long passphrase")
    for path in (
        "/backoffice/",
        "/backoffice/staff",
        "/backoffice/staff/new",
        f"/backoffice/staff/{colleague_id}",
        f"/backoffice/staff/{colleague_id}/role",
        f"/backoffice/staff/{colleague_id}/limits",
        "/backoffice/audit",
        "/backoffice/audit?on_or_after=31/2/2026",
        "/backoffice/search",
        "/backoffice/search?q=rogers",
        "/backoffice/search?q=nobody",
        f"/backoffice/accounts/{debtor_reference}",
        *(
            f"/backoffice/accounts/{debtor_reference}/{section}"
            for section in ("invoices", "ledger", "plans", "messages", "timeline")
        ),
    ):
        page.goto(f"{base}{path}")
        assert axe_violations(page) == [], path
    page.goto(f"{base}/backoffice/staff/new")
    page.get_by_role("button", name="Add member of staff").click()
    page.locator(".govuk-error-summary").wait_for()
    assert axe_violations(page) == []
    assert problems.messages == []


def test_the_not_found_page_has_no_accessibility_violations(live_server, page_factory):
    _, base = live_server
    page, _ = page_factory()
    response = page.goto(f"{base}/no-such-page")
    assert response.status == 404
    assert "Page not found" in page.locator("h1").inner_text()
    assert axe_violations(page) == []


@pytest.mark.parametrize(
    "path, heading",
    [
        ("/sign-in", "Sign in"),
        ("/account/create", "Create an account"),
        ("/forgot-password", "Reset your password"),
        ("/forgot-password/sent", "Check your email"),
    ],
)
def test_portal_sign_in_pages_have_no_accessibility_violations(
    live_server, page_factory, path, heading
):
    _, base = live_server
    page, problems = page_factory()
    page.goto(f"{base}{path}")
    assert page.locator("h1").inner_text() == heading
    assert axe_violations(page) == []
    assert problems.messages == []


def test_portal_sign_in_errors_are_summarised_without_accessibility_violations(
    live_server, page_factory
):
    _, base = live_server
    page, problems = page_factory()
    page.goto(f"{base}/sign-in")
    page.get_by_role("button", name="Sign in", exact=True).click()
    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    assert "Enter your email address" in summary.inner_text()
    assert axe_violations(page) == []
    assert problems.messages == []


def _portal_login(app) -> str:
    """A portal login for alex@example.com with one account; returns the account reference."""
    with app.app_context():
        account = make_account(postcode="SW1A 1AA")
        make_portal_login(account, email="alex@example.com", password=PORTAL_PASSWORD)
        return account.reference


def _sign_in_as_portal_user(page, base, reference):
    page.goto(f"{base}/sign-in")
    page.fill("input[name=email]", "Alex@Example.com")
    page.fill("input[name=password]", PORTAL_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{base}/account/{reference}")


def test_the_signed_in_header_has_no_accessibility_violations(
    live_server, page_factory, isolated_limiter
):
    app, base = live_server
    isolated_limiter(app)
    reference = _portal_login(app)
    page, problems = page_factory()
    _sign_in_as_portal_user(page, base, reference)
    header = page.locator("header")
    assert header.get_by_role("link", name="Your account").count() == 1
    assert header.get_by_role("button", name="Sign out").count() == 1
    assert axe_violations(page) == []
    assert problems.messages == []


def test_a_debtor_can_sign_in_and_out_with_javascript_turned_off(
    live_server, page_factory, isolated_limiter
):
    app, base = live_server
    isolated_limiter(app)
    reference = _portal_login(app)
    page, _ = page_factory(javascript=False)
    _sign_in_as_portal_user(page, base, reference)
    page.locator("header").get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/sign-in")
    assert "You have signed out" in page.locator("main").inner_text()
    assert page.locator("header").get_by_role("link", name="Sign in").count() == 1
