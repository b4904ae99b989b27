"""The team leader's dashboard: today's queues, each count a link to the page that
works it (for someone who may open that page), and the headline figures with their
trend, above a chart of what was collected each week. Reads only; nothing on it
changes anything (shared/reports/dashboard.py)."""

from __future__ import annotations

from flask import render_template

from backoffice import bp
from backoffice.auth import requires
from shared import clock
from shared.domain.permissions import Permission
from shared.reports.dashboard import dashboard as build_dashboard


@bp.get("/reports/dashboard")
@requires(Permission.VIEW_REPORTS)
def dashboard():
    return render_template(
        "backoffice/dashboard/dashboard.html", board=build_dashboard(clock.today())
    )
