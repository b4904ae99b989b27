"""The monthly report packs sent to each department: which month and department, whether
it went (and to whom), and the PDF itself to download.

The journey promises: every pack is listed as it was kept, newest month first, with
the address it went to and the email's progress; a pack that could not be built says
why (the next monthly run builds it again); a department without a contact email has
its pack kept here to send by hand. The PDF downloads as the same bytes that were sent
(its SHA-256 is on the page), and every download is recorded. Team leaders, admins and
auditors (VIEW_REPORTS).
"""

from __future__ import annotations

from itertools import groupby

from flask import Response, abort, render_template

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import staff_actor
from shared import clock
from shared.domain.permissions import Permission
from shared.services import report_packs as packs_service
from shared.services.errors import NotFound


@bp.get("/reports/packs")
@requires(Permission.VIEW_REPORTS)
def report_packs():
    packs = packs_service.recent_packs()
    months = [(month, list(rows)) for month, rows in groupby(packs, key=lambda p: p.month)]
    return render_template(
        "backoffice/report_packs/list.html",
        months=months,
        this_month=clock.today().replace(day=1),
        run_day=_next_run(clock.today()),
    )


def _next_run(today):
    """The 1st of next month: when the scheduled run sends this month's packs."""
    return today.replace(year=today.year + (today.month == 12), month=today.month % 12 + 1, day=1)


@bp.get("/reports/packs/<int:pack_id>.pdf")
@requires(Permission.VIEW_REPORTS)
def download_report_pack(pack_id: int):
    try:
        stored = packs_service.download_pack(pack_id, staff_actor())
    except NotFound:
        abort(404)
    return Response(
        stored.pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{stored.filename}"'},
    )
