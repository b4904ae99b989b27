"""Reading rendered pages the way a person (or a screen reader) would."""

from __future__ import annotations

import time

import sqlalchemy as sa
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


def sign_in_portal(client, user) -> None:
    """Put a portal login in the client's session as signing in does (no form)."""
    from shared.models import WebSessionKind
    from shared.services import web_sessions
    from shared.services.portal_accounts import password_stamp

    token = web_sessions.start(WebSessionKind.PORTAL, user.id)
    with client.session_transaction() as session:
        session["portal_session"] = token
        session["portal_user_id"] = user.id
        session["portal_password_stamp"] = password_stamp(user)
        session["last_seen"] = int(time.time())


def count_queries(db, fn) -> int:
    """How many SQL statements `fn` runs, starting with nothing loaded in the session."""
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    db.session.expire_all()
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        fn()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)
