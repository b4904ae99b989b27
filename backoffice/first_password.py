"""Choosing one's own password at sign-in, in place of a temporary one.

An administrator never learns anyone's password: a new account's temporary
password, or a reset one, is emailed to its owner and only gets them this far.
After it and a code from their authenticator app, the person is still only half
signed in; no back-office page opens until they have chosen their own password
here (shared/services/staff_auth.choose_new_password, which signs them in).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from backoffice import bp
from backoffice.auth import Pending, _finish_sign_in, _restart, half_signed_in
from backoffice.staff_forms import NewPasswordForm
from shared.services import staff_auth
from shared.services.errors import InvalidRequest


@bp.route("/sign-in/new-password", methods=["GET", "POST"])
@half_signed_in
def choose_new_password(pending: Pending):
    if not pending.code_accepted:
        # The code step comes first: the password alone never reaches this page.
        return _restart(staff_auth.SIGN_IN_AGAIN)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = staff_auth.choose_new_password(
                pending.staff_id,
                pending.session_version,
                form.password.data,
                source_ip=request.remote_addr,
            )
        except InvalidRequest as exc:
            if str(exc) == staff_auth.SIGN_IN_AGAIN:
                return _restart(str(exc))
            form.password.errors.append(str(exc))
        else:
            _finish_sign_in(user)
            flash("Your new password is saved", "success")
            return redirect(url_for("backoffice.home"))
    return render_template("backoffice/choose_new_password.html", form=form)
