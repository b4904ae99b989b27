"""Bank statements in: an officer uploads the bank's statement file, sees the matching
summary, and settles the lines the import could not match with confidence.

The journey promises: the same file or the same bank line never becomes a payment
twice; a file that cannot be read imports nothing and says which line is wrong; a
suggested line shows its candidates side by side; posting or marking a line not
ours happens once, however often the form is sent. Whoever may record a payment by
hand (WORK_CASES) may do all of this.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovFileInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import staff_actor
from backoffice.forms import strip_whitespace
from shared.domain.bank_statements import MAX_FILE_BYTES
from shared.domain.permissions import Permission
from shared.money import format_gbp
from shared.services.bank_statements import importer, reads, resolve
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.widgets import GovRadioInput

QUEUE = "backoffice.bank_statement_queue"
OTHER = "other"


class UploadForm(FlaskForm):
    statement = FileField(
        "Statement file",
        description="camt.053 (XML), BAI2 or the bank's CSV export",
        validators=[FileRequired("Choose the statement file to import")],
        widget=GovFileInput(),
    )
    submit = SubmitField("Import statement", widget=GovSubmitInput())


@bp.route("/bank-statements", methods=["GET", "POST"])
@requires(Permission.WORK_CASES)
def bank_statements():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.statement.data
        content = upload.read(MAX_FILE_BYTES + 1)
        try:
            result = importer.import_statement(
                content, actor=staff_actor(), file_name=upload.filename
            )
        except (InvalidRequest, Conflict) as exc:
            form.statement.errors.append(str(exc))
        else:
            if not result.created:
                flash("This file was imported before, so nothing was posted again")
            return redirect(url_for("backoffice.bank_statement_import", import_id=result.import_id))
    return render_template(
        "backoffice/bank_statements/upload.html",
        form=form,
        imports=reads.recent_imports(),
        waiting=reads.waiting_count(),
    )


@bp.get("/bank-statements/<int:import_id>")
@requires(Permission.WORK_CASES)
def bank_statement_import(import_id: int):
    try:
        summary = reads.import_summary(import_id)
    except NotFound:
        abort(404)
    return render_template(
        "backoffice/bank_statements/summary.html",
        summary=summary,
        waiting=reads.waiting_count(),
    )


@bp.get("/bank-statements/lines")
@requires(Permission.WORK_CASES)
def bank_statement_queue():
    return render_template(
        "backoffice/bank_statements/queue.html",
        lines=reads.waiting_lines(),
        waiting=reads.waiting_count(),
    )


class PostLineForm(FlaskForm):
    # Each choice is "<account reference>:<invoice id or empty>", or OTHER.
    choice = RadioField(
        "Which account does this money pay?",
        validate_choice=False,
        validators=[DataRequired("Select the account this money pays")],
        widget=GovRadioInput(),
    )
    other_account = StringField(
        "Account reference",
        filters=[strip_whitespace],
        validators=[Length(max=20, message="Account reference must be 20 characters or fewer")],
        widget=GovTextInput(),
    )
    post = SubmitField("Post payment", widget=GovSubmitInput())

    def validate_other_account(self, field):
        if self.choice.data == OTHER and not field.data:
            raise ValidationError("Enter the account reference")


class NotOursForm(FlaskForm):
    reason = TextAreaField(
        "Why is this money not a payment of a debt?",
        validators=[
            DataRequired("Enter why this money is not a payment of a debt"),
            Length(max=500, message="Reason must be 500 characters or fewer"),
        ],
        widget=GovTextArea(),
    )
    not_ours = SubmitField("Mark as not ours", widget=GovSubmitInput())


def _choices(line: reads.WaitingLine) -> list[tuple[str, str]]:
    choices = []
    for c in line.candidates:
        label = f"{c.account_name} ({c.account_reference})"
        if c.invoice_number:
            label += f", invoice {c.invoice_number}"
            if c.invoice_owed_pence is not None:
                label += f" owing {format_gbp(max(c.invoice_owed_pence, 0))}"
        choices.append((f"{c.account_reference}:{c.invoice_id or ''}", label))
    choices.append((OTHER, "Another account"))
    return choices


def _line_or_404(line_id: int):
    try:
        return reads.waiting_line(line_id)
    except NotFound:
        return None


@bp.route("/bank-statements/lines/<int:line_id>", methods=["GET", "POST"])
@requires(Permission.WORK_CASES)
def resolve_bank_line(line_id: int):
    line = _line_or_404(line_id)
    if line is None:
        flash("That statement line is not waiting any more: it may have been resolved already")
        return redirect(url_for(QUEUE))
    post_form = PostLineForm(prefix="post")
    post_form.choice.choices = _choices(line)
    not_ours_form = NotOursForm(prefix="other")
    if post_form.post.data and post_form.validate_on_submit():
        reference, _, invoice = (post_form.choice.data or "").partition(":")
        if post_form.choice.data == OTHER:
            reference, invoice = post_form.other_account.data, ""
        allowed = {value for value, _ in post_form.choice.choices}
        if post_form.choice.data not in allowed:
            post_form.choice.errors.append("Select the account this money pays")
        else:
            try:
                done = resolve.post_line(
                    line_id=line.line_id,
                    account_reference=reference,
                    invoice_id=int(invoice) if invoice.isdigit() else None,
                    actor=staff_actor(),
                )
            except (NotFound, InvalidRequest, Conflict) as exc:
                field = post_form.other_account if post_form.choice.data == OTHER else None
                (field or post_form.choice).errors.append(str(exc))
            else:
                posted = f"Payment of {format_gbp(line.amount_pence)} posted"
                if done.linked:
                    # The account had this transfer keyed by hand: nothing new was posted.
                    posted = (
                        f"{format_gbp(line.amount_pence)} matched to the bank transfer already "
                        "recorded by hand on that account: it was not posted again"
                    )
                _flash_done(done, posted)
                return redirect(url_for(QUEUE))
    elif not_ours_form.not_ours.data and not_ours_form.validate_on_submit():
        try:
            done = resolve.not_ours(
                line_id=line.line_id, reason=not_ours_form.reason.data, actor=staff_actor()
            )
        except InvalidRequest as exc:
            not_ours_form.reason.errors.append(str(exc))
        else:
            _flash_done(done, f"{format_gbp(line.amount_pence)} marked as not ours")
            return redirect(url_for(QUEUE))
    return render_template(
        "backoffice/bank_statements/resolve.html",
        line=line,
        post_form=post_form,
        not_ours_form=not_ours_form,
    )


def _flash_done(done: resolve.Resolved, message: str) -> None:
    if done.created:
        flash(message, "success")
    else:
        flash("That line had already been dealt with, so nothing changed")
