"""Referring an account's debts to an enforcement agent or legal, the referrals made,
and downloading the pack sent with each."""

from __future__ import annotations

import secrets

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from markupsafe import Markup
from wtforms import HiddenField, RadioField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import case_or_404, staff_actor, today
from shared.domain import referrals as rules
from shared.domain.numbers import ascii_digits
from shared.domain.permissions import Permission
from shared.money import format_gbp
from shared.services import referral_pack as packs
from shared.services import referrals
from shared.services.errors import InvalidRequest
from shared.widgets import GovCheckboxesInput, GovRadioInput

DESTINATION_CHOICES = {
    rules.ENFORCEMENT_AGENT: "An enforcement agent",
    rules.LEGAL: "Legal, for a county court claim",
}


class ReferralForm(FlaskForm):
    invoices = SelectMultipleField(
        "Which invoices are being referred?",
        description="Only invoices with something outstanding that are not referred already",
        validate_choice=False,
        validators=[DataRequired("Select the invoices to refer")],
        widget=GovCheckboxesInput(),
    )
    destination = RadioField(
        "Who are they being referred to?",
        choices=[SelectChoice(k, w) for k, w in DESTINATION_CHOICES.items()],
        validate_choice=False,
        validators=[DataRequired("Select who the debts are being referred to")],
        widget=GovRadioInput(),
    )
    note = TextAreaField(
        "Why are they being referred?",
        description="This goes on the timeline and in the pack's contact history",
        validators=[
            DataRequired("Enter why the debts are being referred"),
            Length(max=referrals.MAX_NOTE, message="Note must be 2,000 characters or fewer"),
        ],
        widget=GovTextArea(),
    )
    # Made when the form is shown: a double click posts it twice, and it is one referral.
    submission_key = HiddenField()
    submit = SubmitField("Refer these debts", widget=GovSubmitInput())

    def validate_destination(self, field):
        if field.data not in DESTINATION_CHOICES:
            raise ValidationError("Select who the debts are being referred to")

    def chosen_ids(self) -> list[int]:
        return [int(v) for v in self.invoices.data or [] if ascii_digits(str(v))]


def _pack_link(reference: str, referral_id: int) -> str:
    return url_for("backoffice.referral_pack", reference=reference, referral_id=referral_id)


@bp.get("/accounts/<reference>/referrals")
@requires(Permission.VIEW_CASES)
def account_referrals(reference: str):
    case = case_or_404(reference)
    return render_template(
        "backoffice/referrals/list.html",
        case=case,
        referrals=referrals.referrals_for(case.id),
        pack_link=_pack_link,
    )


@bp.route("/accounts/<reference>/referrals/new", methods=["GET", "POST"])
@requires(Permission.REFER)
def refer_to_enforcement(reference: str):
    case = case_or_404(reference)
    options = referrals.referral_options(case.id, today())
    form = ReferralForm()
    form.invoices.choices = [SelectChoice(str(o.invoice_id), o.number) for o in options]
    if not form.submission_key.data:
        form.submission_key.data = secrets.token_urlsafe(16)
    if form.validate_on_submit():
        try:
            result = referrals.refer_for_enforcement(
                case.id,
                form.destination.data,
                form.note.data,
                staff_actor(),
                today=today(),
                invoice_ids=form.chosen_ids(),
                submission_key=form.submission_key.data,
            )
        except InvalidRequest as exc:
            form.invoices.errors.append(str(exc))
        else:
            referral = result.referral
            words = "Referred" if result.created else "Those debts were already referred"
            flash(
                Markup(
                    '{} to {}: {}. <a class="govuk-notification-banner__link" href="{}">'
                    "Download the referral pack</a>"
                ).format(
                    words,
                    rules.DESTINATION_WORDS[referral.destination],
                    format_gbp(referral.amount_pence),
                    _pack_link(case.reference, referral.id),
                ),
                "success",
            )
            return redirect(url_for("backoffice.case_view", reference=case.reference))
    return render_template("backoffice/referrals/new.html", form=form, case=case, options=options)


@bp.get("/accounts/<reference>/referrals/<int:referral_id>/pack")
@requires(Permission.REFER)
def referral_pack(reference: str, referral_id: int):
    case = case_or_404(reference)
    referral = referrals.referral_of(case.id, referral_id)
    if referral is None:
        abort(404)
    pack = packs.referral_pack(referral)
    return Response(
        pack.body,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{pack.filename}"'},
    )
