"""The daily print batch of letters: build, check, download, withdraw or release (only
then are its letters posted).

The journey promises: the page shows the letters waiting (by template) and every
batch; "Build today's batch" twice builds once and says when and by whom the first
was built; a batch's merged PDF and manifest download as written (the PDF checked
against its SHA-256, who took a copy recorded); "Withdraw" needs a reason and puts
its letters back to wait; "Release to the printer" needs "I have checked the batch"
and happens once however often it is pressed, and only then are the letters recorded
as posted. Officers and team leaders (RELEASE_PRINT_BATCHES). A letter's PDF for the
case timeline needs only VIEW_CASES.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from wtforms import SelectMultipleField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import staff_actor, today
from backoffice.forms import strip_whitespace
from shared.domain.permissions import Permission
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.services.messages import print_batches
from shared.widgets import GovCheckboxesInput

CHECKED = "checked"


class BuildForm(FlaskForm):
    submit = SubmitField("Build today's batch", widget=GovSubmitInput())


class ReleaseForm(FlaskForm):
    checked = SelectMultipleField(
        "Before releasing",
        choices=[SelectChoice(CHECKED, "I have checked the batch")],
        validators=[DataRequired("Confirm you have checked the batch")],
        widget=GovCheckboxesInput(),
    )
    submit = SubmitField("Release to the printer", widget=GovSubmitInput())


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        "Why is the batch being withdrawn?",
        description="Its letters go back to wait for the next batch",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter why the batch is being withdrawn"),
            Length(max=200, message="The reason must be 200 characters or fewer"),
        ],
        widget=GovTextArea(),
    )
    submit = SubmitField("Withdraw the batch", widget=GovSubmitInput())


def _batch_or_404(batch_id: int) -> print_batches.BatchView:
    try:
        return print_batches.get_batch(batch_id)
    except NotFound:
        abort(404)


def _render_list(form, error=None, status=200):
    waiting = print_batches.waiting_by_template()
    return (
        render_template(
            "backoffice/print_batches/list.html",
            form=form,
            error=error,
            waiting=waiting,
            waiting_total=sum(n for _, n in waiting),
            in_play=print_batches.batch_in_play(),
            batches=print_batches.recent_batches(),
        ),
        status,
    )


@bp.route("/print-batches", methods=["GET", "POST"])
@requires(Permission.RELEASE_PRINT_BATCHES)
def print_batches_page():
    form = BuildForm()
    if form.validate_on_submit():
        try:
            built = print_batches.build_batch(staff_actor(), today())
        except (InvalidRequest, Conflict) as exc:
            return _render_list(form, error=str(exc), status=400)
        if built.created:
            flash(f"{built.message}.", "success")
        else:
            flash(f"{built.message}.")
        return redirect(url_for("backoffice.print_batch", batch_id=built.batch.batch_id))
    return _render_list(form)


def _render_batch(view, release_form=None, error=None, status=200):
    return (
        render_template(
            "backoffice/print_batches/batch.html",
            batch=view,
            release_form=release_form or ReleaseForm(),
            error=error,
        ),
        status,
    )


@bp.get("/print-batches/<int:batch_id>")
@requires(Permission.RELEASE_PRINT_BATCHES)
def print_batch(batch_id: int):
    return _render_batch(_batch_or_404(batch_id))


@bp.post("/print-batches/<int:batch_id>/release")
@requires(Permission.RELEASE_PRINT_BATCHES)
def release_print_batch(batch_id: int):
    view = _batch_or_404(batch_id)
    form = ReleaseForm()
    if not form.validate_on_submit():
        return _render_batch(view, form, status=400)
    try:
        change = print_batches.release_batch(staff_actor(), batch_id, CHECKED in form.checked.data)
    except (InvalidRequest, Conflict) as exc:
        return _render_batch(print_batches.get_batch(batch_id), error=str(exc), status=409)
    if change.changed:
        flash(
            f"Print batch {view.name} released: its {view.letter_count:,} letters are "
            "recorded as posted",
            "success",
        )
    else:
        flash(f"Print batch {view.name} was already released: nothing was changed")
    return redirect(url_for("backoffice.print_batch", batch_id=batch_id))


@bp.route("/print-batches/<int:batch_id>/withdraw", methods=["GET", "POST"])
@requires(Permission.RELEASE_PRINT_BATCHES)
def withdraw_print_batch(batch_id: int):
    view = _batch_or_404(batch_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            change = print_batches.withdraw_batch(staff_actor(), batch_id, form.reason.data)
        except (InvalidRequest, Conflict) as exc:
            form.reason.errors.append(str(exc))
        else:
            if change.changed:
                flash(
                    f"Print batch {view.name} withdrawn: its letters wait for the next batch",
                    "success",
                )
            else:
                flash(f"Print batch {view.name} was already withdrawn: nothing was changed")
            return redirect(url_for("backoffice.print_batch", batch_id=batch_id))
    return render_template("backoffice/print_batches/withdraw.html", batch=view, form=form)


@bp.get("/print-batches/<int:batch_id>/<any(pdf, manifest):which>")
@requires(Permission.RELEASE_PRINT_BATCHES)
def download_print_batch(batch_id: int, which: str):
    view = _batch_or_404(batch_id)
    try:
        content = print_batches.download(batch_id, which, actor=staff_actor())
    except NotFound:
        abort(404)
    except Conflict as exc:
        return _render_batch(view, error=str(exc), status=409)
    return Response(
        content,
        mimetype="application/pdf" if which == "pdf" else "text/csv",
        headers={
            "Content-Disposition": (
                f'attachment; filename="{print_batches.download_name(view, which)}"'
            )
        },
    )


@bp.get("/letters/<int:message_id>.pdf")
@requires(Permission.VIEW_CASES)
def letter_pdf(message_id: int):
    try:
        content = print_batches.letter_pdf(message_id)
    except NotFound:
        abort(404)
    return Response(
        content,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="letter-{message_id}.pdf"'},
    )
