"""The daily journals to the general ledger: the list of days written, each file to
download, and a form to write the journal of a past day.

The journey promises: a day's journal is written once and downloads as the same bytes
every time after (its SHA-256 is on the page to compare with the copy the GL took);
writing a day again says when and by whom it was first sent; a day that has not ended
is refused; if entries landed in a day after its journal was sent, the page says so
rather than changing the file. Every download is recorded. Team leaders only
(EXPORT_JOURNAL).
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import a_date, staff_actor
from backoffice.forms import strip_whitespace
from shared.domain.permissions import Permission
from shared.formatting import london_time
from shared.models import JournalVia
from shared.services import journal
from shared.services.errors import InvalidRequest, NotFound


class WriteJournalForm(FlaskForm):
    day = StringField(
        "Day to write the journal for",
        description="A day that has ended, for example 27/3/2026",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter the day to write the journal for"), a_date("Day")],
        widget=GovTextInput(),
    )
    submit = SubmitField("Write journal", widget=GovSubmitInput())


@bp.route("/journals", methods=["GET", "POST"])
@requires(Permission.EXPORT_JOURNAL)
def journals():
    form = WriteJournalForm()
    if form.validate_on_submit():
        try:
            result = journal.export_journal(
                form.day.parsed, staff_actor(), via=JournalVia.BACK_OFFICE
            )
        except InvalidRequest as exc:
            form.day.errors.append(str(exc))
        else:
            stored = result.journal
            if result.late is not None:
                flash(f"Warning: {result.late.message}")
            if result.created:
                flash(f"Journal for {stored.day:%-d %B %Y} written", "success")
            else:
                flash(
                    f"The journal for {stored.day:%-d %B %Y} was already sent on "
                    f"{london_time(stored.written_at)} by {stored.written_by}: "
                    "nothing was changed"
                )
            return redirect(url_for("backoffice.journals"))
    return render_template(
        "backoffice/journals/list.html", form=form, journals=journal.recent_journals()
    )


@bp.get("/journals/<int:journal_id>/download")
@requires(Permission.EXPORT_JOURNAL)
def download_journal(journal_id: int):
    try:
        stored = journal.download_journal(journal_id, staff_actor())
    except NotFound:
        abort(404)
    return Response(
        stored.content_bytes,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{stored.filename}"'},
    )
