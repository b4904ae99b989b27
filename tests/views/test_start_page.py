from __future__ import annotations

from shared.app import create_app
from tests.conftest import make_config
from tests.views.pages import parse, text, title


def test_start_page_is_titled_with_the_service_and_council_name(client):
    response = client.get("/")

    assert response.status_code == 200
    page = parse(response)
    assert title(page) == "Pay or manage a council bill – Borsetshire County Council"
    assert text(page.h1) == "Pay or manage a council bill"


def test_start_page_has_a_green_start_button_to_the_pay_journey(client):
    page = parse(client.get("/"))

    button = page.select_one("main a.govuk-button--start")
    assert button is not None
    assert button["href"] == "/pay"
    assert text(button) == "Start now"


def test_start_page_says_what_you_can_do_and_what_you_need(client):
    main = text(parse(client.get("/")).main)

    assert "pay an invoice from Borsetshire County Council" in main
    assert "see your account" in main
    assert "set up a payment plan" in main
    assert "invoice number or account reference" in main
    assert "postcode" in main


def test_start_page_gives_the_councils_phone_and_email_before_you_start(client):
    page = parse(client.get("/"))
    main = text(page.main)

    assert "0300 123 4567" in main
    assert page.select_one('main a[href="mailto:income.recovery@borsetshire.example"]') is not None


def test_start_page_helps_people_acting_for_someone_else_and_people_struggling_to_pay(client):
    page = parse(client.get("/"))
    headings = [text(h) for h in page.select("main h2")]
    main = text(page.main)

    assert "If you’re acting for someone else" in headings
    assert "power of attorney" in main
    assert "If you’re struggling to pay" in headings
    for adviser in ("MoneyHelper", "StepChange", "National Debtline", "Citizens Advice"):
        assert adviser in main
    assert "free" in main


def test_council_name_and_contact_details_come_from_config(database_url):
    app = create_app(
        make_config(
            database_url,
            COUNCIL_NAME="Felpersham City Council",
            COUNCIL_PHONE="01632 960 001",
            COUNCIL_EMAIL="debt@felpersham.example",
        )
    )
    page = parse(app.test_client().get("/"))

    assert title(page) == "Pay or manage a council bill – Felpersham City Council"
    assert text(page.select_one(".govuk-generic-header")) == "Felpersham City Council"
    assert "01632 960 001" in text(page.main)
    assert page.select_one('a[href="mailto:debt@felpersham.example"]') is not None
    assert "Borsetshire" not in page.decode()


def test_portal_pages_have_a_skip_link_service_name_and_beta_banner(client):
    page = parse(client.get("/"))

    skip_link = page.select_one("a.govuk-skip-link")
    assert skip_link["href"] == "#main-content"
    assert page.select_one("main#main-content") is not None
    assert text(page.select_one(".govuk-service-navigation__service-name")) == (
        "Pay or manage a council bill"
    )
    assert text(page.select_one(".govuk-phase-banner__content__tag")) == "Beta"


def test_pages_do_not_carry_the_gov_uk_crown_or_crown_copyright(client):
    # A council service is not on GOV.UK, so it must not look as if it is.
    page = parse(client.get("/"))

    assert page.select_one(".govuk-header__logotype, .govuk-footer__crown") is None
    assert "Crown copyright" not in text(page)
    assert "© Borsetshire County Council" in text(page.footer)
