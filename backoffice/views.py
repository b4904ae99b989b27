"""The back office's home page, case search and case view. Signing in and out is in
backoffice/auth.py, staff administration in backoffice/staff_admin.py."""

from __future__ import annotations

from flask import abort, render_template, request

from backoffice import bp
from backoffice.auth import current_staff, requires
from backoffice.staff_forms import ROLE_LABELS
from shared import clock
from shared.domain.numbers import parse_whole_number
from shared.domain.permissions import Permission
from shared.models import WebSessionKind
from shared.services import case_search, web_sessions
from shared.services import case_view as case_view_service


@bp.get("/")
@requires()
def home():
    user = current_staff()
    return render_template(
        "backoffice/home.html",
        user=user,
        role_label=ROLE_LABELS[user.role],
        sessions=web_sessions.live_sessions(WebSessionKind.STAFF, user.id),
    )


def _page_number(name: str) -> int:
    """A ?name=N page number; anything that is not a positive whole number is page 1."""
    number = parse_whole_number(request.args.get(name, ""))
    return number if number else 1


@bp.get("/search")
@requires(Permission.VIEW_CASES)
def search():
    text = request.args.get("q", "").strip()
    results = case_search.search(text, clock.today()) if text else None
    return render_template("backoffice/cases/search.html", q=text, results=results)


@bp.get("/accounts/<reference>")
@requires(Permission.VIEW_CASES)
def case_view(reference: str):
    page = case_view_service.case_page(
        reference,
        clock.today(),
        ledger_page=_page_number("ledger_page"),
        timeline_page=_page_number("timeline_page"),
    )
    if page is None:
        abort(404)
    return render_template("backoffice/cases/case.html", case=page)
