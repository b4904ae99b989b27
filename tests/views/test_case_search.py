"""Officers find a debtor from the one search box."""

from __future__ import annotations

from datetime import date

import pytest

from shared.models import DebtorKind, StaffRole
from shared.services import ledger
from shared.services.actors import SYSTEM
from shared.services.case_search import MAX_RESULTS
from tests.factories import make_account, make_department, make_staff
from tests.views.conftest import signed_in_session
from tests.views.pages import parse, text, title


@pytest.fixture
def officer_client(client, db):
    signed_in_session(client, make_staff(StaffRole.OFFICER))
    return client


@pytest.fixture
def book(db):
    """Two people and an organisation, each with something distinctive to find them by."""
    linda = make_account(
        surname="Rogers",
        forename="Linda",
        postcode="CV31 3UQ",
        email="linda.rogers@example.com",
        mobile_phone="07700 900333",
    )
    keith = make_account(
        surname="Rodgers",
        forename="Keith",
        postcode="HR8 1UG",
        email="keith@example.net",
        other_phone="0121 496 0143",
    )
    acme = make_account(
        surname=None,
        forename=None,
        kind=DebtorKind.ORGANISATION,
        organisation_name="Acme Waste Ltd",
        postcode="B49 1JF",
    )
    invoice = ledger.raise_invoice(
        account_id=keith.id,
        department_id=make_department().id,
        number="INV20000003",
        issue_date=date(2026, 1, 5),
        due_date=date(2026, 2, 4),
        description="Trade waste",
        lines=[ledger.LineInput("Bins", 1, 12_500)],
        actor=SYSTEM,
    )
    return {
        "linda": linda.reference,
        "keith": keith.reference,
        "acme": acme.reference,
        "invoice": invoice.number,
    }


def _found(response) -> list[str]:
    page = parse(response)
    return [text(a) for a in page.select("main table tbody tr td:first-child a")]


@pytest.mark.parametrize(
    ("typed", "who"),
    [
        ("linda.ROGERS@example.com", "linda"),
        ("cv31 3uq", "linda"),
        ("+44 7700 900333", "linda"),
        ("07700900333", "linda"),
        ("0121 496 0143", "keith"),
        ("inv 2000 0003", "keith"),
        ("acme", "acme"),
        ("Acme Waste", "acme"),
    ],
)
def test_each_kind_of_search_finds_the_right_account_and_no_other(officer_client, book, typed, who):
    response = officer_client.get("/backoffice/search", query_string={"q": typed})

    assert response.status_code == 200
    assert _found(response) == [book[who]]


def test_an_account_reference_finds_its_account(officer_client, book):
    reference = book["linda"]

    response = officer_client.get("/backoffice/search", query_string={"q": reference.lower()})

    assert _found(response) == [reference]


def test_a_surname_prefix_finds_everyone_whose_surname_starts_with_it(officer_client, book):
    response = officer_client.get("/backoffice/search", query_string={"q": "ro"})

    # Ordered by surname: Rodgers before Rogers.
    assert _found(response) == [book["keith"], book["linda"]]


def test_forename_and_surname_narrow_a_name_search(officer_client, book):
    response = officer_client.get("/backoffice/search", query_string={"q": "lin ro"})

    assert _found(response) == [book["linda"]]


def test_results_show_name_postcode_balance_and_flags(officer_client, book, db):
    from shared.models import DebtorAccount

    keith = db.session.query(DebtorAccount).filter_by(reference=book["keith"]).one()
    keith.vulnerable = True
    db.session.commit()

    response = officer_client.get("/backoffice/search", query_string={"q": "Rodgers"})

    row = text(parse(response).select_one("main table tbody tr"))
    assert "Alex" not in row
    assert "Keith Rodgers" in row
    assert "HR8 1UG" in row
    assert "£125.00" in row
    assert "Vulnerable" in row


def test_a_search_that_finds_nothing_says_so(officer_client, book):
    response = officer_client.get("/backoffice/search", query_string={"q": "Zebedee"})

    page = parse(response)
    assert _found(response) == []
    assert "No accounts found" in text(page.select_one("main"))
    assert title(page).startswith("Zebedee")


def test_the_search_page_without_a_query_shows_just_the_box(officer_client):
    page = parse(officer_client.get("/backoffice/search"))

    assert page.select_one("main input[name=q]") is not None
    assert page.select_one("main table") is None
    assert "No accounts found" not in text(page.select_one("main"))


def test_at_most_fifty_results_are_shown_and_the_page_says_there_are_more(officer_client, db):
    for _ in range(MAX_RESULTS + 3):
        make_account(surname="Smith")

    response = officer_client.get("/backoffice/search", query_string={"q": "smith"})

    assert len(_found(response)) == MAX_RESULTS
    assert "Only the first 50 are shown" in text(parse(response).select_one("main"))


def test_percent_and_underscore_are_not_wildcards_in_a_name_search(officer_client, book):
    assert _found(officer_client.get("/backoffice/search", query_string={"q": "R%"})) == []


def test_home_page_has_the_search_box_and_navigation_links_to_search(officer_client):
    page = parse(officer_client.get("/backoffice/"))

    form = page.select_one("main form[role=search]")
    assert form["action"] == "/backoffice/search"
    assert form["method"] == "get"
    nav = [text(a) for a in page.select(".govuk-service-navigation__link")]
    assert "Search" in nav
