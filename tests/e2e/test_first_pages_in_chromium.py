"""The first pages in a real browser: styled by GOV.UK Frontend, its JavaScript
allowed by our CSP, no accessibility violations, and usable without JavaScript."""

from __future__ import annotations

import pytest

from shared.models import StaffRole
from tests.e2e.conftest import axe_violations
from tests.factories import make_staff

pytestmark = pytest.mark.e2e


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
    # GOV.UK Frontend moves focus to the summary so screen-reader users hear it.
    page.wait_for_function(
        "document.activeElement && document.activeElement.closest('.govuk-error-summary') !== null",
        timeout=5_000,
    )
    assert axe_violations(page) == []
    assert problems.messages == []


def test_an_officer_can_sign_in_and_out_with_javascript_turned_off(live_server, page_factory):
    app, base = live_server
    with app.app_context():
        make_staff(
            StaffRole.TEAM_LEADER,
            email="jo.bloggs@council.example",
            full_name="Jo Bloggs",
            password="a long enough passphrase",
        )
    page, _ = page_factory(javascript=False)
    page.goto(f"{base}/backoffice/sign-in")
    page.fill("input[name=email]", "  Jo.Bloggs@council.example ")
    page.fill("input[name=password]", "a long enough passphrase")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/backoffice/")
    assert "Jo Bloggs" in page.locator("main").inner_text()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/backoffice/sign-in")
    assert "You have signed out" in page.locator("main").inner_text()


def test_the_not_found_page_has_no_accessibility_violations(live_server, page_factory):
    _, base = live_server
    page, _ = page_factory()
    response = page.goto(f"{base}/no-such-page")
    assert response.status == 404
    assert "Page not found" in page.locator("h1").inner_text()
    assert axe_violations(page) == []
