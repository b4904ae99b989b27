"""The day's Bacs collection file: build, check the summary, withdraw or release.

The journey promises: a processing day has one file in play, so "Build" twice builds
once and says when and by whom the first was built; the file page shows what to check
before release (counts and totals by transaction code, the contra, everything held
back and why, and what missed its file); the download is the stored bytes, the same
SHA-256 every time, and who took a copy is recorded; Withdraw needs a reason and puts
everything the file carried back; Release needs "I have checked the totals" and
happens once however often it is pressed. Team leaders only (RELEASE_BACS_FILES).
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from wtforms import HiddenField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import staff_actor, today
from backoffice.forms import strip_whitespace
from shared.domain.bacs.selection import HOLD_REASON_WORDS, TRANSACTION_CODE_WORDS
from shared.domain.permissions import Permission
from shared.formatting import long_date
from shared.models import BacsFileStatus
from shared.services.directdebit import files
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.widgets import GovCheckboxesInput

CHECKED = "checked"


class BuildForm(FlaskForm):
    submit = SubmitField("Build the next file", widget=GovSubmitInput())


class ReleaseForm(FlaskForm):
    # The status the officer saw: a file withdrawn meanwhile is refused, not released.
    seen_status = HiddenField()
    checked = SelectMultipleField(
        "Before releasing",
        choices=[SelectChoice(CHECKED, "I have checked the totals")],
        validators=[DataRequired("Confirm you have checked the totals")],
        widget=GovCheckboxesInput(),
    )
    submit = SubmitField("Release the file", widget=GovSubmitInput())


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        "Why is the file being withdrawn?",
        description="Its collections go back to be taken in a later file",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter why the file is being withdrawn"),
            Length(max=200, message="The reason must be 200 characters or fewer"),
        ],
        widget=GovTextArea(),
    )
    submit = SubmitField("Withdraw the file", widget=GovSubmitInput())


def _file_or_404(file_id: int) -> files.FileView:
    try:
        return files.get_file(file_id)
    except NotFound:
        abort(404)


@bp.route("/bacs-files", methods=["GET", "POST"])
@requires(Permission.RELEASE_BACS_FILES)
def bacs_files():
    form = BuildForm()
    day = files.next_processing_day(today())
    error = None
    if form.validate_on_submit():
        try:
            built = files.build_file(staff_actor(), day)
        except files.AlreadyBuilt as exc:
            flash(f"{exc}.")
            return redirect(url_for("backoffice.bacs_file", file_id=exc.file.file_id))
        except InvalidRequest as exc:
            error = str(exc)
        except Conflict as exc:
            error = str(exc)
        else:
            flash(f"File {built.serial} for {long_date(day)} built: check it, then release it")
            return redirect(url_for("backoffice.bacs_file", file_id=built.file_id))
    return render_template(
        "backoffice/bacs_files/list.html",
        form=form,
        error=error,
        next_day=day,
        in_play=files.file_in_play(day),
        files=files.recent_files(),
    )


def _render_file(view, release_form=None, error=None):
    release_form = release_form or ReleaseForm(seen_status=view.status.value)
    return render_template(
        "backoffice/bacs_files/file.html",
        file=view,
        release_form=release_form,
        error=error,
        code_words=TRANSACTION_CODE_WORDS,
        reason_words={reason.value: words for reason, words in HOLD_REASON_WORDS.items()},
    )


@bp.get("/bacs-files/<int:file_id>")
@requires(Permission.RELEASE_BACS_FILES)
def bacs_file(file_id: int):
    return _render_file(_file_or_404(file_id))


@bp.post("/bacs-files/<int:file_id>/release")
@requires(Permission.RELEASE_BACS_FILES)
def release_bacs_file(file_id: int):
    view = _file_or_404(file_id)
    form = ReleaseForm()
    if not form.validate_on_submit():
        return _render_file(view, form), 400
    try:
        seen = BacsFileStatus(form.seen_status.data)
    except ValueError:
        seen = view.status
    try:
        change = files.release_file(staff_actor(), file_id, seen)
    except Conflict as exc:
        return _render_file(files.get_file(file_id), error=str(exc)), 409
    if change.changed:
        flash(f"File {view.serial} released: hand it to the Bacs software", "success")
    else:
        flash(
            f"File {view.serial} was already released by {change.file.released_by}: "
            "nothing was changed"
        )
    return redirect(url_for("backoffice.bacs_file", file_id=file_id))


@bp.route("/bacs-files/<int:file_id>/withdraw", methods=["GET", "POST"])
@requires(Permission.RELEASE_BACS_FILES)
def withdraw_bacs_file(file_id: int):
    view = _file_or_404(file_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            change = files.withdraw_file(staff_actor(), file_id, form.reason.data)
        except InvalidRequest as exc:
            form.reason.errors.append(str(exc))
        except Conflict as exc:
            form.reason.errors.append(str(exc))
        else:
            if change.changed:
                flash(
                    f"File {view.serial} withdrawn: its collections go back to be taken "
                    "in a later file",
                    "success",
                )
            else:
                flash(f"File {view.serial} was already withdrawn: nothing was changed")
            return redirect(url_for("backoffice.bacs_file", file_id=file_id))
    return render_template("backoffice/bacs_files/withdraw.html", file=view, form=form)


@bp.get("/bacs-files/<int:file_id>/download")
@requires(Permission.RELEASE_BACS_FILES)
def download_bacs_file(file_id: int):
    try:
        view, content = files.download_file(staff_actor(), file_id)
    except NotFound:
        abort(404)
    return Response(
        content,
        mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="{view.file_name}"'},
    )
