"""MOJ Frontend's case-work components in Chromium, used from the keyboard alone
and scanned by axe: the case page's badges, section navigation and timeline, the
approvals queue and diary sorted by their column buttons, and the audit log's
filter, beside the entries on a wide screen and behind a button on a narrow one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared import clock
from shared.domain.holds import HoldTerms
from shared.models import ContactKind, HoldKind, StaffRole
from shared.services import approvals, contacts, holds, ledger
from shared.services.actors import SYSTEM, staff
from tests.e2e.conftest import axe_violations
from tests.e2e.test_first_pages_in_chromium import _sign_in_with_the_setup_key
from tests.factories import make_account, make_department, make_staff

pytestmark = pytest.mark.e2e
PASSWORD = "a long passphrase"
# The app under test runs in a live server that Chromium talks to on real time
# (cookie expiry, card events), so these tests cannot freeze the clock: they read
# the app's own business day instead of the machine's local date.
TODAY = clock.today()


def _debt_written_off_in_part(requester_id: int, surname: str, pence: int) -> str:
    account = make_account(surname=surname)
    invoice = ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number=f"INV-{surname}",
        issue_date=TODAY - timedelta(days=90),
        due_date=TODAY - timedelta(days=60),
        description="Trade waste",
        lines=[ledger.LineInput("Bin lifts", 1, 50_000)],
        actor=SYSTEM,
    )
    approvals.request_write_off(
        invoice_id=invoice.id,
        amount_pence=pence,
        reason_code="uneconomical",
        reason="Not worth chasing",
        actor=staff(requester_id),
    )
    return account.reference


def _tab_to(page, name: str, *, limit: int = 80) -> None:
    """Press Tab until the focused element's accessible text is `name`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def _words(locator) -> list[str]:
    return [" ".join(t.split()) for t in locator.all_text_contents()]


def _column(page, table, index: int) -> list[str]:
    return table.locator(f"tbody tr td:nth-child({index})").all_inner_texts()


def test_an_officer_reads_a_case_and_sorts_the_queues_from_the_keyboard(live_server, page_factory):
    app, base = live_server
    with app.app_context():
        leader = make_staff(StaffRole.TEAM_LEADER, email="tess@council.example", password=PASSWORD)
        officer = make_staff(StaffRole.OFFICER, write_off_limit_pence=1_000)
        archer = _debt_written_off_in_part(officer.id, "Archer", 15_000)
        _debt_written_off_in_part(officer.id, "Grundy", 40_000)
        _debt_written_off_in_part(officer.id, "Carter", 9_000)
        account = make_account(surname="Aldridge", vulnerable=True, vulnerability_reason="Carer")
        holds.place_hold(
            account.id,
            HoldTerms(HoldKind.DISPUTE, TODAY, expires_on=TODAY + timedelta(days=30)),
            "Says the bin was never emptied",
            staff(leader.id),
            today=TODAY,
        )
        for days_ago, surname in [(1, "Brookfield"), (4, "Snell")]:
            contacts.record_contact(
                make_account(surname=surname).id,
                contacts.ContactRecord(
                    ContactKind.NOTE,
                    f"Chase {surname}",
                    follow_up_date=TODAY - timedelta(days=days_ago),
                ),
                staff(leader.id),
                today=TODAY - timedelta(days=days_ago),
            )
        reference = account.reference

    page, problems = page_factory()
    _sign_in_with_the_setup_key(page, base, "tess@council.example", PASSWORD)

    # The case page: flags as badges (styled by MOJ's stylesheet), the timeline.
    page.goto(f"{base}/backoffice/accounts/{reference}")
    badges = page.locator("ul[aria-label=Flags] .moj-badge")
    assert badges.all_text_contents() == ["Vulnerable", "Dispute hold"]
    assert badges.first.evaluate("b => getComputedStyle(b).textTransform") == "uppercase"
    assert axe_violations(page) == []
    # Its section navigation is ordinary links, each section a page with the flags on top.
    _tab_to(page, "Timeline")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/backoffice/accounts/{reference}/timeline")
    assert page.locator(".moj-timeline .moj-timeline__item").count() >= 1
    assert badges.all_text_contents() == ["Vulnerable", "Dispute hold"]
    assert page.locator("nav.moj-sub-navigation [aria-current=page]").inner_text() == "Timeline"
    assert axe_violations(page) == []

    # The approvals queue: oldest first from the server; sorted by amount from a
    # column button, which the table announces.
    page.goto(f"{base}/backoffice/approvals")
    table = page.locator("table[data-module=moj-sortable-table]")
    assert _column(page, table, 6) == ["£150.00", "£400.00", "£90.00"]
    assert axe_violations(page) == []
    _tab_to(page, "Amount")
    page.keyboard.press("Enter")
    assert _column(page, table, 6) == ["£90.00", "£150.00", "£400.00"]
    assert table.locator("th", has_text="Amount").get_attribute("aria-sort") == "ascending"
    assert table.locator("th", has_text="Waiting").get_attribute("aria-sort") == "none"
    page.keyboard.press("Enter")
    assert _column(page, table, 6) == ["£400.00", "£150.00", "£90.00"]
    announced = page.get_by_role("status").text_content()
    assert " ".join(announced.split()) == "Sort by Amount (descending)"
    assert axe_violations(page) == []
    # A row leads to the request in full, where it is decided.
    table.locator("tr", has_text="Archer").get_by_role("link").click()
    assert archer in page.locator(":target").inner_text()

    # The diary: most overdue first, then sorted by account name.
    page.goto(f"{base}/backoffice/diary")
    diary = page.locator("table[data-module=moj-sortable-table]")
    assert _column(page, diary, 2) == ["Chase Snell", "Chase Brookfield"]
    _tab_to(page, "Account")
    page.keyboard.press("Enter")
    assert _column(page, diary, 2) == ["Chase Brookfield", "Chase Snell"]
    assert axe_violations(page) == []
    assert problems.messages == []


def test_the_sortable_queue_reads_in_the_servers_order_without_javascript(
    live_server, page_factory
):
    app, base = live_server
    with app.app_context():
        make_staff(StaffRole.TEAM_LEADER, email="tess@council.example", password=PASSWORD)
        officer = make_staff(StaffRole.OFFICER, write_off_limit_pence=1_000)
        _debt_written_off_in_part(officer.id, "Archer", 15_000)
        _debt_written_off_in_part(officer.id, "Grundy", 40_000)

    page, _ = page_factory(javascript=False)
    _sign_in_with_the_setup_key(page, base, "tess@council.example", PASSWORD)
    page.goto(f"{base}/backoffice/approvals")

    table = page.locator("table[data-module=moj-sortable-table]")
    assert _column(page, table, 6) == ["£150.00", "£400.00"]
    assert table.locator("th button").count() == 0  # plain headers: nothing to press
    assert table.locator("th", has_text="Waiting").get_attribute("aria-sort") == "descending"


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_an_auditor_filters_the_log_on_a_wide_and_a_narrow_screen(
    live_server, page_factory, javascript
):
    app, base = live_server
    with app.app_context():
        make_staff(StaffRole.AUDITOR, email="audrey@council.example", password=PASSWORD)

    page, problems = page_factory(javascript=javascript)

    def no_axe_violations() -> bool:
        # axe runs as a script in the page, so only where scripts may run.
        return not javascript or axe_violations(page) == []

    _sign_in_with_the_setup_key(page, base, "audrey@council.example", PASSWORD)
    page.goto(f"{base}/backoffice/audit")
    filter_panel = page.locator(".moj-filter")
    assert filter_panel.is_visible()
    assert no_axe_violations()

    # A plain GET form: choose a filter and press Enter in a field.
    page.get_by_label("Done by").select_option("Staff")
    page.get_by_label("Action starts with").fill("staff.")
    page.get_by_label("Action starts with").press("Enter")
    page.wait_for_url("**/backoffice/audit?*action=staff.*")
    tags = page.locator(".moj-filter__selected a.moj-filter__tag")
    assert _words(tags) == ["Remove this filter staff.", "Remove this filter Staff"]
    assert no_axe_violations()
    tags.first.click()
    page.wait_for_url(lambda url: "action=" not in url)
    assert _words(page.locator(".moj-filter__selected a.moj-filter__tag")) == [
        "Remove this filter Staff"
    ]

    page.set_viewport_size({"width": 375, "height": 740})
    if javascript:
        # Narrow screens with JavaScript: the filter waits behind a button.
        assert not filter_panel.is_visible()
        show = page.get_by_role("button", name="Show filter")
        show.focus()
        page.keyboard.press("Enter")
        assert filter_panel.is_visible()
        assert page.get_by_role("button", name="Hide filter").is_visible()
        assert axe_violations(page) == []
        page.get_by_role("button", name="Close").press("Enter")
        assert not filter_panel.is_visible()
        assert page.evaluate("document.activeElement.textContent") == "Show filter"
    else:
        assert filter_panel.is_visible()
        assert page.get_by_role("button", name="Show filter").count() == 0
    assert no_axe_violations()
    assert problems.messages == []
