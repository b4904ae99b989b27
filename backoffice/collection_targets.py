"""Administrators set each department's collection-rate target for this financial year
and the next; the collection report measures each department against it.

The journey promises: the list shows every department with this year's and next year's
target (or that none is set) and a link to set or change each; a target is typed as a
percentage with up to two decimal places (92.5 or 92.5%), and anything else (a word, a
negative number, over 100%, three decimals) is shown beside the field, changing
nothing; a save over someone else's newer one is refused with a message and the form
shows the target as it is now; every change is on the audit log. Years other than this
one and the next are not pages (404): earlier targets stay as they were. No JavaScript.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import ValidationError

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import staff_actor, today
from backoffice.forms import strip_whitespace
from shared.domain.numbers import parse_whole_number
from shared.domain.permissions import Permission
from shared.services import collection_targets as targets
from shared.services.errors import Conflict, NotFound

INDEX = "backoffice.collection_targets"


class TargetForm(FlaskForm):
    target = StringField(
        "Target collection rate",
        description="As a percentage with up to 2 decimal places, like 92.5",
        filters=[strip_whitespace],
        widget=GovTextInput(),
    )
    submit = SubmitField("Save target", widget=GovSubmitInput())

    def validate_target(self, field):
        field.basis_points, problem = targets.parse_target_percent(field.data)
        if problem:
            raise ValidationError(problem)


@bp.get("/reports/collection-targets")
@requires(Permission.SET_COLLECTION_TARGETS)
def collection_targets():
    years = targets.settable_years(today())
    return render_template(
        "backoffice/collection_targets/index.html",
        years=years,
        rows=targets.list_targets(years),
    )


def _target_or_404(department_id: int, year: int) -> targets.TargetView:
    if year not in targets.settable_years(today()):
        abort(404)
    try:
        return targets.target_for(department_id, year)
    except NotFound:
        abort(404)


def _typed(view: targets.TargetView) -> str:
    return "" if view.target_basis_points is None else view.percent.removesuffix("%")


@bp.route("/reports/collection-targets/<int:department_id>/<int:year>", methods=["GET", "POST"])
@requires(Permission.SET_COLLECTION_TARGETS)
def edit_collection_target(department_id: int, year: int):
    current = _target_or_404(department_id, year)
    form = TargetForm()
    version, conflict = current.version, None
    if request.method == "GET":
        form.target.data = _typed(current)
    else:
        # The version the form was filled in against, kept through field errors.
        version = parse_whole_number(request.form.get("version", "")) or 0
    if form.validate_on_submit():
        try:
            saved = targets.set_target(
                department_id, year, form.target.basis_points, version, staff_actor()
            )
        except targets.TargetRefused as exc:
            form.target.errors.append(str(exc))
        except Conflict as exc:
            conflict = str(exc)
            current = _target_or_404(department_id, year)
            version, form.target.data = current.version, _typed(current)
        else:
            flash(
                f"{saved.department_name}'s target for {saved.year_label} is {saved.percent}",
                "success",
            )
            return redirect(url_for(INDEX))
    return render_template(
        "backoffice/collection_targets/edit.html",
        current=current,
        form=form,
        version=version,
        conflict=conflict,
    )
