"""Signing officers in and out.

Two-factor authentication (StaffUser.totp_secret), lockout after repeated
failures (failed_sign_ins, locked_until), role permissions and the idle
timeout (SESSION_IDLE_MINUTES) come in a later issue; until then a password
alone signs someone in (shared/services/staff_auth.py).
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for

from backoffice import bp
from backoffice.forms import SignInForm
from shared.extensions import db
from shared.models import StaffRole, StaffUser
from shared.services.staff_auth import check_staff_password

ROLE_LABELS = {
    StaffRole.OFFICER: "Recovery officer",
    StaffRole.TEAM_LEADER: "Team leader",
    StaffRole.ADMIN: "Administrator",
    StaffRole.AUDITOR: "Auditor",
}

INCORRECT_CREDENTIALS = "Email address or password is incorrect"


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    if form.validate_on_submit():
        user = check_staff_password(
            form.email.data, form.password.data, source_ip=request.remote_addr
        )
        if user is not None:
            _record_sign_in(user)
            return redirect(url_for("backoffice.home"))
        # Attached to the email field so the error summary has somewhere to
        # link; the wording never says which of the two was wrong.
        form.email.errors.append(INCORRECT_CREDENTIALS)
    return render_template("backoffice/sign_in.html", form=form)


@bp.get("/")
def home():
    user = _signed_in_staff()
    if user is None:
        _clear_session()
        return redirect(url_for("backoffice.sign_in"))
    return render_template("backoffice/home.html", user=user, role_label=ROLE_LABELS[user.role])


@bp.post("/sign-out")
def sign_out():
    _clear_session()
    flash("You have signed out", "success")
    return redirect(url_for("backoffice.sign_in"))


def _clear_session() -> None:
    session.clear()
    # The signed CSRF token Flask-WTF cached for this request was made from
    # the raw token just cleared; a form rendered after this needs a new one.
    g.pop("csrf_token", None)


def _signed_in_staff() -> StaffUser | None:
    staff_id = session.get("staff_id")
    if staff_id is None:
        return None
    user = db.session.get(StaffUser, staff_id)
    return user if user is not None and user.active else None


def _record_sign_in(user: StaffUser) -> None:
    # A fresh session, so nothing from before signing in carries over.
    _clear_session()
    session["staff_id"] = user.id
