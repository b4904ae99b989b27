"""Unverified payments: hand-recorded payments that left credit on an account wait
here until an officer other than the one who recorded them confirms the money
arrived. Until then their credit cannot be refunded or moved to another account."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from backoffice import bp
from backoffice.auth import current_staff, requires
from backoffice.casework import staff_actor
from shared.domain.numbers import ascii_digits
from shared.domain.permissions import Permission
from shared.services import payment_checks
from shared.services.errors import Forbidden, NotFound

QUEUE = "backoffice.unverified_payments"


@bp.get("/payments/unverified")
@requires(Permission.WORK_CASES)
def unverified_payments():
    return render_template(
        "backoffice/payments/unverified.html",
        items=payment_checks.unverified_queue(),
        me=current_staff().id,
    )


@bp.post("/payments/unverified/verify")
@requires(Permission.WORK_CASES)
def verify_payment():
    form = FlaskForm()
    entry = (request.form.get("entry_id") or "").strip()
    if form.validate_on_submit():
        if not ascii_digits(entry):
            flash("Select a payment to verify", "error")
            return redirect(url_for(QUEUE))
        try:
            changed = payment_checks.verify_payment(entry_id=int(entry), actor=staff_actor())
        except NotFound:
            flash("That payment is not waiting for verification", "error")
        except Forbidden as exc:
            flash(str(exc), "error")
        else:
            if changed:
                flash(f"Payment {entry} verified", "success")
            else:
                flash(f"Payment {entry} was already verified, so nothing changed")
    return redirect(url_for(QUEUE))
