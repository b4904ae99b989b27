"""Management reports: the index, any registered report as a page (filters in the URL,
headline figures, charts, tables) and its CSV or XLSX export. Each report is a
`build(filters)` registered in shared/reports/; this module knows none of them by name.

Who sees what: each report names its permission (VIEW_REPORTS for most; officers open
the officer activity report limited to their own). A bad filter is a field error and
nothing is run; every export is on the audit log.
"""

from __future__ import annotations

from flask import Response, abort, render_template, request

from backoffice import bp
from backoffice.auth import current_staff, requires
from backoffice.casework import staff_actor
from shared import clock
from shared.domain.reporting import financial_year_label, financial_year_of
from shared.reports.base import FILTER_NAMES
from shared.reports.export import to_csv, to_xlsx
from shared.reports.registry import get_report
from shared.services import reports as report_service

_FIELD_IDS = {
    "as_at": "as_at",
    "from": "from",
    "to": "to",
    "year": "year",
    "department": "department",
}


@bp.get("/reports")
@requires()
def reports_index():
    reports = report_service.reports_for(current_staff().role)
    if not reports:
        abort(403)
    return render_template("backoffice/reports/index.html", reports=reports)


def _outcome(key: str):
    report = get_report(key)
    if report is None:
        abort(404)
    user = current_staff()
    if not report_service.may_open(report, user.role):
        abort(403)
    return report_service.run_report(
        key, request.args, today=clock.today(), role=user.role, staff_id=user.id
    )


@bp.get("/reports/<key>")
@requires()
def report_page(key: str):
    outcome = _outcome(key)
    today = clock.today()
    years = list(range(financial_year_of(today), financial_year_of(today) - 6, -1))
    return render_template(
        "backoffice/reports/report.html",
        outcome=outcome,
        report=outcome.report,
        result=outcome.result,
        filters=outcome.filters,
        errors=outcome.errors,
        error_list=[
            {"text": message, "href": f"#{_FIELD_IDS.get(field, 'filters')}"}
            for field, message in outcome.errors.items()
        ],
        departments=report_service.department_options(),
        years=[(y, financial_year_label(y)) for y in years],
        hidden_params={k: v for k, v in outcome.filters.params.items() if k not in FILTER_NAMES},
        raw=request.args,
    )


@bp.get("/reports/<key>/export.<fmt>")
@requires()
def report_export(key: str, fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    outcome = _outcome(key)
    if outcome.result is None:
        # A refused filter: the page says why, with the form to put it right.
        return report_page(key), 400
    report_service.record_export(outcome.report, outcome.filters, fmt, staff_actor())
    stem = f"{outcome.report.key}-{outcome.filters.today.isoformat()}"
    if fmt == "csv":
        body, mimetype = to_csv(outcome.result), "text/csv; charset=utf-8"
    else:
        body = to_xlsx(outcome.result)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'},
    )
