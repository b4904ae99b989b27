"""Raising a credit note on an invoice, and its document.

The officer chooses what it credits: the whole invoice (everything left on it), or
the lines and, for each, the amount before VAT; the VAT follows at the rate each line
was charged. Within the officer's limit the note is posted at once and sent to the
debtor with its PDF; above it, the request (with the lines chosen) waits for a team
leader. A refusal changes nothing and is shown beside the line or question at fault.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import case_or_404, invoice_or_404, staff_actor
from shared.domain.permissions import Permission
from shared.money import MoneyFormatError, format_gbp, parse_gbp
from shared.services import approvals, credit_notes
from shared.services.bill_lookup import normalise_reference
from shared.services.errors import InvalidRequest, NotFound
from shared.widgets import GovRadioInput

WHOLE, CHOSEN = "whole", "lines"


class CreditNoteForm(FlaskForm):
    scope = RadioField(
        "What does the credit note credit?",
        choices=[
            SelectChoice(CHOSEN, "The lines I choose, by the amount before VAT"),
            SelectChoice(WHOLE, "The whole invoice: everything left on it"),
        ],
        default=CHOSEN,
        validate_choice=False,
        validators=[DataRequired("Select what the credit note credits")],
        widget=GovRadioInput(),
    )
    reason = TextAreaField(
        "Reason",
        description="The debtor sees this on the credit note",
        validators=[
            DataRequired("Enter the reason for the credit note"),
            Length(max=2000, message="Reason must be 2,000 characters or fewer"),
        ],
        widget=GovTextArea(),
    )
    submit = SubmitField("Raise credit note", widget=GovSubmitInput())

    def validate_scope(self, field):
        if field.data not in (WHOLE, CHOSEN):
            raise ValidationError("Select what the credit note credits")


def _line_amounts(lines) -> tuple[dict[int, int], dict[int, str]]:
    """The amount before VAT typed against each line, and a message for each that will
    not do (a line left blank credits nothing)."""
    chosen, problems = {}, {}
    for line in lines:
        typed = (request.form.get(f"line_{line.id}") or "").strip()
        if not typed:
            continue
        try:
            pence = parse_gbp(typed)
        except MoneyFormatError as exc:
            problems[line.id] = f"Line {line.line_no}: {exc}"
            continue
        if pence > line.net_left_pence:
            problems[line.id] = (
                f"Line {line.line_no}: amount must be {format_gbp(line.net_left_pence)} or less"
            )
        elif pence:
            chosen[line.id] = pence
    return chosen, problems


@bp.route("/accounts/<reference>/invoices/<number>/credit-note", methods=["GET", "POST"])
@requires(Permission.WORK_CASES)
def raise_credit_note(reference: str, number: str):
    case = case_or_404(reference)
    invoice = invoice_or_404(case, number)
    lines = credit_notes.line_choices(invoice.id)
    form = CreditNoteForm()
    problems: dict[int, str] = {}
    if form.validate_on_submit():
        chosen = None
        if form.scope.data == CHOSEN:
            chosen, problems = _line_amounts(lines)
            if not problems and not chosen:
                form.scope.errors.append("Enter an amount to credit on at least one line")
        if not problems and not form.scope.errors:
            try:
                outcome = approvals.request_credit_note(
                    invoice_id=invoice.id,
                    lines=chosen,
                    whole_invoice=form.scope.data == WHOLE,
                    reason=form.reason.data,
                    actor=staff_actor(),
                )
            except credit_notes.CreditNoteRefused as exc:
                if exc.line_id is not None:
                    problems[exc.line_id] = str(exc)
                else:
                    form.scope.errors.append(str(exc))
            except InvalidRequest as exc:
                form.scope.errors.append(str(exc))
            else:
                if outcome.posted:
                    flash(
                        f"Credit note of {format_gbp(-outcome.entry.amount_pence)} raised on "
                        f"{invoice.number}, and sent to the debtor",
                        "success",
                    )
                else:
                    total = format_gbp(outcome.running_total_pence)
                    flash(
                        f"Credit note of {format_gbp(outcome.request.amount_pence)} on "
                        f"{invoice.number} takes your credit notes on this account to {total}, "
                        "above your limit, so it has been sent to a team leader to approve"
                    )
                return redirect(url_for("backoffice.case_view", reference=case.reference))
    errors = [
        {"text": message, "href": f"#line_{line_id}"} for line_id, message in problems.items()
    ]
    return render_template(
        "backoffice/payments/credit_note.html",
        form=form,
        case=case,
        invoice=invoice,
        lines=lines,
        problems=problems,
        line_errors=errors,
        typed={line.id: request.form.get(f"line_{line.id}", "") for line in lines},
        notes=[
            n for n in credit_notes.credit_notes_of(case.id) if n.invoice_number == invoice.number
        ],
    )


@bp.get("/accounts/<reference>/credit-notes/<credit_note_number>.pdf")
@requires(Permission.VIEW_CASES)
def credit_note_pdf(reference: str, credit_note_number: str):
    """The credit note as the debtor was sent it."""
    case = case_or_404(reference)
    wanted = normalise_reference(credit_note_number)
    found = next((n for n in credit_notes.credit_notes_of(case.id) if n.number == wanted), None)
    if found is None:
        abort(404)
    try:
        body = credit_notes.credit_note_pdf(found.id)
    except NotFound:
        abort(404)
    return Response(
        body,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="credit-note-{found.number}.pdf"',
            "Cache-Control": "no-store",
        },
    )
