"""Reports from Bacs (AUDDIS, ARUDD, ADDACS, DDIC): an officer uploads the report, sees
what was done with each advice, and works the returns queue (advices waiting for an
officer, oldest first).

The journey promises: a file that is not a Bacs report, is malformed or is for
another service user number imports nothing and says why on the form; the same file
twice changes nothing and says when it was imported and by whom; resolving an advice
happens once, however often the form is sent. Officers (WORK_BACS_REPORTS) do this.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSubmitInput, GovTextArea
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import staff_actor
from shared.domain.permissions import Permission
from shared.services.directdebit import returns, returns_queue
from shared.services.errors import Conflict, InvalidRequest, NotFound

QUEUE = "backoffice.bacs_returns_queue"


@bp.context_processor
def _returns_waiting():
    # Called by the navigation only for staff who may work the queue.
    return {"bacs_returns_waiting": returns_queue.waiting_count}


class UploadForm(FlaskForm):
    report = FileField(
        "Report file",
        description="The XML report as downloaded from Bacs: ARUDD, ADDACS, AUDDIS or DDIC",
        validators=[FileRequired("Choose the report file to import")],
        widget=GovFileInput(),
    )
    submit = SubmitField("Import report", widget=GovSubmitInput())


@bp.route("/bacs-reports", methods=["GET", "POST"])
@requires(Permission.WORK_BACS_REPORTS)
def bacs_reports():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.report.data
        content = upload.read(returns.MAX_REPORT_BYTES + 1)
        try:
            report = returns.import_report(staff_actor(), upload.filename, content)
        except (InvalidRequest, Conflict) as exc:  # refused, or imported before
            form.report.errors.append(str(exc))
        else:
            flash(
                f"{report.kind.value.upper()} report imported: {report.applied_count} acted on, "
                f"{report.routed_count} waiting for an officer",
                "success",
            )
            return redirect(url_for("backoffice.bacs_report", report_id=report.id))
    return render_template(
        "backoffice/bacs_reports/upload.html",
        form=form,
        reports=returns_queue.recent_reports(),
        waiting=returns_queue.waiting_count(),
    )


@bp.get("/bacs-reports/<int:report_id>")
@requires(Permission.WORK_BACS_REPORTS)
def bacs_report(report_id: int):
    try:
        detail = returns_queue.report_detail(report_id)
    except NotFound:
        abort(404)
    return render_template("backoffice/bacs_reports/report.html", detail=detail)


@bp.get("/bacs-reports/returns")
@requires(Permission.WORK_BACS_REPORTS)
def bacs_returns_queue():
    return render_template(
        "backoffice/bacs_reports/queue.html",
        items=returns_queue.waiting_items(),
        waiting=returns_queue.waiting_count(),
    )


class ResolveForm(FlaskForm):
    note = TextAreaField(
        "What did you do about it?",
        validators=[
            DataRequired("Enter what you did about this advice"),
            Length(max=returns_queue.NOTE_MAX, message="The note must be 1000 characters or fewer"),
        ],
        widget=GovTextArea(),
    )
    submit = SubmitField("Mark as dealt with", widget=GovSubmitInput())


@bp.route("/bacs-reports/returns/<int:item_id>", methods=["GET", "POST"])
@requires(Permission.WORK_BACS_REPORTS)
def resolve_bacs_item(item_id: int):
    try:
        item = returns_queue.item(item_id)
    except NotFound:
        abort(404)
    if not item.waiting:
        flash("That advice is not waiting any more: it may have been dealt with already")
        return redirect(url_for(QUEUE))
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            done = returns_queue.resolve_item(item_id, form.note.data, staff_actor())
        except (InvalidRequest, NotFound) as exc:
            form.note.errors.append(str(exc))
        else:
            if done.created:
                flash(f"Advice for {item.reference} marked as dealt with", "success")
            else:
                flash("That advice had already been dealt with, so nothing changed")
            return redirect(url_for(QUEUE))
    return render_template("backoffice/bacs_reports/resolve.html", item=item, form=form)
