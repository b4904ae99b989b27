"""The back office's home page: the signed-in person's work list (what is waiting for
them today, each count linking to the queue that works it, and for a team leader the
team's totals), the case search, and where they are signed in. Reads only
(shared/services/work_list.py)."""

from __future__ import annotations

from flask import render_template

from backoffice import bp
from backoffice.auth import current_staff, requires
from backoffice.staff_forms import ROLE_LABELS
from shared import clock
from shared.models import WebSessionKind
from shared.services import web_sessions, work_list


@bp.get("/")
@requires()
def home():
    user = current_staff()
    return render_template(
        "backoffice/home.html",
        user=user,
        role_label=ROLE_LABELS[user.role],
        work=work_list.for_staff(user, clock.today()),
        sessions=web_sessions.live_sessions(WebSessionKind.STAFF, user.id),
    )
