"""The Bank of England base-rate table that Late Payment Act interest is worked from.

The journey promises: anyone who sees cases can read the dated rates and what the
Act charges while each is the reference rate (+8%); an administrator
(MANAGE_DUNNING) records each new decision from the date it takes effect, even a
past date (decisions are added a day or two after they are announced), and may
remove one that has not taken effect yet. A typing mistake (a negative rate, over
100%, three decimal places, a date more than a year ahead, a date that already has
a rate) is shown beside its field and changes nothing. Every change is audited.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import a_date, staff_actor, today
from backoffice.forms import strip_whitespace
from shared.domain.numbers import parse_whole_number
from shared.domain.permissions import Permission
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.services.legal import base_rates as rates

INDEX = "backoffice.base_rates"


class BaseRateForm(FlaskForm):
    percent = StringField(
        "Base rate",
        description="As a percentage, like 4.25",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter the base rate as a percentage, like 4.25")],
        widget=GovTextInput(),
    )
    effective_from = StringField(
        "Date the rate takes effect",
        description="As the Bank of England announced it, for example 7/8/2025",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter the date the rate takes effect"),
            a_date("Date the rate takes effect"),
        ],
        widget=GovTextInput(),
    )
    submit = SubmitField("Add rate", widget=GovSubmitInput())


class RemoveRateForm(FlaskForm):
    """Only the CSRF token and the rate's id (a hidden field in each row's form)."""


def _page(form: BaseRateForm, status: int = 200):
    return (
        render_template(
            "backoffice/base_rates/index.html",
            form=form,
            remove_form=RemoveRateForm(),
            rates=rates.list_rates(today()),
        ),
        status,
    )


@bp.get("/legal/base-rates")
@requires(Permission.VIEW_CASES)
def base_rates():
    return _page(BaseRateForm(formdata=None))


@bp.post("/legal/base-rates")
@requires(Permission.MANAGE_DUNNING)
def add_base_rate():
    form = BaseRateForm()
    if form.validate_on_submit():
        problems, _ = rates.rate_problems(form.effective_from.parsed, form.percent.data, today())
        for name, message in problems.items():
            getattr(form, name).errors.append(message)
        if not problems:
            try:
                row = rates.add_rate(staff_actor(), form.effective_from.parsed, form.percent.data)
            except (Conflict, InvalidRequest) as exc:
                form.effective_from.errors.append(str(exc))
            else:
                flash(
                    f"Base rate of {row.percent} added from {row.effective_from:%-d %B %Y}",
                    "success",
                )
                return redirect(url_for(INDEX))
    return _page(form)


@bp.post("/legal/base-rates/remove")
@requires(Permission.MANAGE_DUNNING)
def remove_base_rate():
    form = RemoveRateForm()
    rate_id = parse_whole_number(request.form.get("rate_id"))
    if not form.validate_on_submit() or rate_id is None:
        flash("Choose a rate to remove")
        return redirect(url_for(INDEX))
    try:
        period = rates.remove_rate(staff_actor(), rate_id)
    except NotFound:
        flash("That rate is no longer in the table")
    except InvalidRequest as exc:
        flash(str(exc))
    else:
        flash(f"Base rate from {period.effective_from:%-d %B %Y} removed", "success")
    return redirect(url_for(INDEX))
