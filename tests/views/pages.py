"""Reading rendered pages the way a person (or a screen reader) would."""

from __future__ import annotations

from bs4 import BeautifulSoup


def parse(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text(element) -> str:
    """Visible text with runs of whitespace collapsed."""
    return " ".join(element.get_text(" ").split())


def title(page: BeautifulSoup) -> str:
    return text(page.title)


def error_summary(page: BeautifulSoup) -> list[tuple[str, str]]:
    """(message, link target) for each entry in the GOV.UK error summary."""
    summary = page.select_one(".govuk-error-summary")
    if summary is None:
        return []
    return [(text(a), a["href"]) for a in summary.select(".govuk-error-summary__list a")]


def inline_errors(page: BeautifulSoup) -> dict[str, str]:
    """Error message text by the id of the field it describes."""
    errors = {}
    for message in page.select(".govuk-error-message"):
        field_id = message["id"].removesuffix("-error")
        errors[field_id] = text(message).removeprefix("Error:").strip()
    return errors


def csrf_token(client, path: str) -> str:
    page = parse(client.get(path))
    return page.select_one("input[name=csrf_token]")["value"]
