"""The back office's case search and case view. The home page is backoffice/home.py,
signing in and out backoffice/auth.py, staff administration backoffice/staff_admin.py."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from backoffice import bp
from backoffice.auth import requires
from shared import clock
from shared.domain.numbers import parse_whole_number
from shared.domain.permissions import Permission
from shared.domain.search_query import normalise_reference
from shared.services import case_search
from shared.services import case_view as case_view_service


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


# The case page comes in sections, each with the case summary on top and reading only
# what it shows; the messages section is the account's message log
# (backoffice/correspondence.py account_messages).


def _summary_or_404(reference: str) -> case_view_service.CaseSummary:
    summary = case_view_service.case_summary(normalise_reference(reference), clock.today())
    if summary is None:
        abort(404)
    return summary


def _section(template: str, summary, section: str, title: str | None, **context):
    return render_template(
        f"backoffice/cases/{template}",
        summary=summary,
        section=section,
        section_title=title,
        **context,
    )


@bp.get("/accounts/<reference>")
@requires(Permission.VIEW_CASES)
def case_view(reference: str):
    # Links to the one long page that came before the sections still land right.
    for old, endpoint in (("ledger_page", "case_ledger"), ("timeline_page", "case_timeline")):
        if old in request.args:
            return redirect(
                url_for(f"backoffice.{endpoint}", reference=reference, page=_page_number(old))
            )
    summary = _summary_or_404(reference)
    return _section(
        "case.html",
        summary,
        "summary",
        None,
        address_lines=case_view_service.address_lines(summary.account.id),
    )


@bp.get("/accounts/<reference>/invoices")
@requires(Permission.VIEW_CASES)
def case_invoices(reference: str):
    return _section("invoices.html", _summary_or_404(reference), "invoices", "Invoices")


@bp.get("/accounts/<reference>/ledger")
@requires(Permission.VIEW_CASES)
def case_ledger(reference: str):
    summary = _summary_or_404(reference)
    ledger = case_view_service.ledger_section(summary.account.id, _page_number("page"))
    return _section("ledger.html", summary, "ledger", "Ledger", ledger=ledger)


@bp.get("/accounts/<reference>/plans")
@requires(Permission.VIEW_CASES)
def case_plans(reference: str):
    summary = _summary_or_404(reference)
    plans = case_view_service.plans_section(summary.account.id)
    return _section("plans.html", summary, "plans", "Plans and Direct Debits", plans=plans)


@bp.get("/accounts/<reference>/timeline")
@requires(Permission.VIEW_CASES)
def case_timeline(reference: str):
    summary = _summary_or_404(reference)
    timeline = case_view_service.timeline_section(summary.account.id, _page_number("page"))
    return _section("timeline.html", summary, "timeline", "Timeline", timeline=timeline)
