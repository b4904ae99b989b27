"""Invoices in from the council's finance system: an officer uploads the finance
system's invoice file (CSV or XLSX, docs/invoice-import.md) and follows its import.

The journey promises: every row is checked before anything is written, and a file
with any bad row imports nothing and lists the rows and why; the same file twice,
or an invoice already imported, changes nothing; the import runs on a worker and
its page shows how far it has got, refreshing itself while it runs (no JavaScript
needed). Whoever may import invoices (IMPORT_INVOICES) may do all of this.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSubmitInput
from wtforms import SubmitField

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import staff_actor
from shared.domain.permissions import Permission
from shared.formatting import london_time
from shared.jobs.invoice_imports import enqueue_import
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.services.invoice_import import importer, reads

# The status page reloads itself this often while the import runs.
REFRESH_SECONDS = 3


class UploadForm(FlaskForm):
    invoices = FileField(
        "Invoice file",
        description=(
            "CSV or Excel (.xlsx) from the finance system, one row per invoice line, "
            f"smaller than {importer.MAX_FILE_BYTES // (1024 * 1024)} MB"
        ),
        validators=[FileRequired("Choose the invoice file to import")],
        widget=GovFileInput(),
    )
    submit = SubmitField("Import invoices", widget=GovSubmitInput())


@bp.route("/invoice-imports", methods=["GET", "POST"])
@requires(Permission.IMPORT_INVOICES)
def invoice_imports():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.invoices.data
        content = upload.read(importer.MAX_FILE_BYTES + 1)
        try:
            submitted = importer.submit_file(
                content, file_name=upload.filename, actor=staff_actor()
            )
        except (InvalidRequest, Conflict) as exc:
            form.invoices.errors.append(str(exc))
        else:
            if submitted.created:
                enqueue_import(submitted.import_id)
            else:
                earlier = reads.import_summary(submitted.import_id)
                flash(
                    f"This file was already imported on {london_time(earlier.created_at)}, "
                    "so nothing was imported again"
                    if earlier.status.value == "completed"
                    else "This file is being imported already"
                )
            return redirect(
                url_for("backoffice.invoice_import", invoice_import_id=submitted.import_id)
            )
    return render_template(
        "backoffice/invoice_imports/upload.html", form=form, imports=reads.recent_imports()
    )


@bp.get("/invoice-imports/<int:invoice_import_id>")
@requires(Permission.IMPORT_INVOICES)
def invoice_import(invoice_import_id: int):
    try:
        summary = reads.import_summary(invoice_import_id)
    except NotFound:
        abort(404)
    return render_template(
        "backoffice/invoice_imports/status.html", summary=summary, refresh=REFRESH_SECONDS
    )
