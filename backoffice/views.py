"""The back office's home page. Signing in and out is in backoffice/auth.py, staff
administration in backoffice/staff_admin.py."""

from __future__ import annotations

from flask import render_template

from backoffice import bp
from backoffice.auth import current_staff, requires
from backoffice.staff_forms import ROLE_LABELS


@bp.get("/")
@requires()
def home():
    user = current_staff()
    return render_template("backoffice/home.html", user=user, role_label=ROLE_LABELS[user.role])
