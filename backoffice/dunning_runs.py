"""Dunning runs: the preview by department and stage (moves, value, skips by reason),
starting a run and watching its progress.

The journey promises: choosing a date (today by default) and pressing Preview shows,
for each department and stage, how many debts would move, their value and how many
are skipped and why, and writes nothing; "Run now" starts the run for that date on a
worker (enqueued after the commit that opened its row) and shows it in progress,
refreshing itself while it runs, with no JavaScript needed; pressing it twice is one
run, and a date already run says so and sends nothing again. Past runs are listed
with what they did. Team leaders (RUN_DUNNING).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import a_date, staff_actor, today
from backoffice.forms import strip_whitespace
from shared.domain.dates import parse_day
from shared.domain.dunning import SKIP_WORDS
from shared.domain.permissions import Permission
from shared.formatting import long_date
from shared.jobs.dunning import enqueue_person_run
from shared.services.dunning import reports, runs
from shared.services.errors import InvalidRequest, NotFound

# The run page reloads itself this often while the run is in progress.
REFRESH_SECONDS = 5


class DateForm(FlaskForm):
    """The date to preview (a GET form: it changes nothing, so it has no CSRF token)."""

    class Meta:
        csrf = False

    date = StringField(
        "Run date",
        description="For example, 17/6/2026. Leave it as it is for today.",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter the run date"), a_date("The run date")],
        widget=GovTextInput(),
    )
    submit = SubmitField("Preview", widget=GovSubmitInput())


class RunForm(FlaskForm):
    run_date = HiddenField(validators=[DataRequired("Preview a date first")])
    submit = SubmitField("Run now", widget=GovSubmitInput())


@bp.get("/dunning-runs")
@requires(Permission.RUN_DUNNING)
def dunning_runs():
    form = DateForm(request.args if request.args else None, date=today().strftime("%d/%m/%Y"))
    on = today()
    preview = None
    # The preview reads every due debt (seconds over a large council): only on request.
    if request.args and form.validate():
        on = form.date.parsed
        preview = runs.preview(on)
    return render_template(
        "backoffice/dunning_runs/list.html",
        form=form,
        on=on,
        preview=preview,
        run_form=RunForm(run_date=on.isoformat()),
        can_run=preview is not None and on <= today(),
        existing=reports.run_for_date(on) if preview is not None else None,
        runs=reports.recent_runs(),
        skip_words=SKIP_WORDS,
    )


@bp.post("/dunning-runs/run")
@requires(Permission.RUN_DUNNING)
def start_dunning_run():
    form = RunForm()
    on = None
    if form.validate_on_submit():
        try:
            on = parse_day(form.run_date.data)
        except ValueError:
            on = None
    if on is None:
        flash("Choose the date to run, preview it, then press Run now")
        return redirect(url_for("backoffice.dunning_runs"))
    try:
        started = runs.start_run(on, staff_actor())
    except InvalidRequest as exc:
        flash(str(exc))
        return redirect(url_for("backoffice.dunning_runs", date=on.strftime("%d/%m/%Y")))
    if started.started:
        enqueue_person_run(on, staff_actor().staff_id)
    else:
        flash(f"The run for {long_date(on)} was completed already: nothing was sent again")
    return redirect(url_for("backoffice.dunning_run", run_id=started.run_id))


@bp.get("/dunning-runs/<int:run_id>")
@requires(Permission.RUN_DUNNING)
def dunning_run(run_id: int):
    try:
        run = reports.get_run(run_id)
    except NotFound:
        abort(404)
    return render_template(
        "backoffice/dunning_runs/run.html",
        run=run,
        refresh=REFRESH_SECONDS,
        skip_words=SKIP_WORDS,
        run_form=RunForm(run_date=run.run_date.isoformat()),
    )
