"""Before court and enforcement: an account's Letters of Claim and the replies to them,
County Court judgments, written acknowledgements of debt, and which debts are
statute-barred. Everyone who sees cases sees the Legal page; officers and team
leaders (RECORD_LEGAL_STEPS) record the steps, each on a page of its own that says
what is wrong with a field and changes nothing until it is right.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import a_date, case_or_404, pounds, staff_actor, today
from backoffice.forms import strip_whitespace
from shared.domain import pre_action as pre_action_rules
from shared.domain.numbers import ascii_digits
from shared.domain.permissions import Permission
from shared.money import format_gbp
from shared.services.errors import InvalidRequest, NotFound
from shared.services.legal import judgments, limitation, pre_action, summary
from shared.services.legal.officers import Refused
from shared.widgets import GovCheckboxesInput

_NOTE_LIMIT = Length(
    max=pre_action_rules.MAX_NOTE, message="Note must be 2,000 characters or fewer"
)


def _date(label: str, hint: str = "For example, 27/3/2026") -> StringField:
    return StringField(
        label,
        description=hint,
        filters=[strip_whitespace],
        validators=[DataRequired(f"Enter the {label.lower()}"), a_date(label)],
        widget=GovTextInput(),
    )


class ReplyForm(FlaskForm):
    received_on = _date("Date the reply was received")
    note = TextAreaField(
        "What did the debtor say?",
        description="Which boxes they ticked (they owe it, want time to pay, dispute it, "
        "need time to get advice) and anything they added",
        validators=[DataRequired("Enter what the debtor said in their reply"), _NOTE_LIMIT],
        widget=GovTextArea(),
    )
    submit = SubmitField("Record the reply", widget=GovSubmitInput())


class DealtWithForm(FlaskForm):
    note = TextAreaField(
        "What was done about the reply?",
        description="For example: dispute answered with copies of the invoices; payment "
        "plan agreed; advice appointment passed. Recovery may then go on",
        validators=[DataRequired("Enter what was done about the reply"), _NOTE_LIMIT],
        widget=GovTextArea(),
    )
    submit = SubmitField("Mark the reply as dealt with", widget=GovSubmitInput())


class JudgmentForm(FlaskForm):
    court = StringField(
        "Court",
        description="For example, County Court Money Claims Centre",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter the court that gave the judgment"),
            Length(max=pre_action_rules.MAX_COURT, message="Court must be 120 characters or fewer"),
        ],
        widget=GovTextInput(),
    )
    claim_number = StringField(
        "Claim number",
        description="As on the court's papers: 4 to 10 letters and digits, like K12AB345",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter the claim number"),
            Length(
                max=40,
                message="Enter the claim number as it is on the court's papers",
            ),
        ],
        widget=GovTextInput(),
    )
    judgment_date = _date("Date of the judgment")
    amount = StringField(
        "Amount of the judgment",
        description="Including any court fee and interest the court awarded",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter the amount of the judgment"),
            pounds("The amount of the judgment"),
        ],
        widget=GovTextInput(),
    )
    invoices = SelectMultipleField(
        "Which invoices is the judgment for?",
        validate_choice=False,
        validators=[DataRequired("Select the invoices the judgment is for")],
        widget=GovCheckboxesInput(),
    )
    submit = SubmitField("Record the judgment", widget=GovSubmitInput())


class AcknowledgementForm(FlaskForm):
    covers = SelectField(
        "Which debts does it acknowledge?", validate_choice=False, widget=GovSelect()
    )
    acknowledged_on = _date(
        "Date of the acknowledgement",
        "The date the debtor wrote or signed it, for example 27/3/2026",
    )
    note = TextAreaField(
        "What did the debtor write?",
        description="It must be in writing and signed by the debtor or someone acting for "
        "them (a letter, a signed form or an email): a phone call does not count",
        validators=[DataRequired("Enter what the debtor wrote and how it reached us"), _NOTE_LIMIT],
        widget=GovTextArea(),
    )
    submit = SubmitField("Record the acknowledgement", widget=GovSubmitInput())


def _legal_url(reference: str) -> str:
    return url_for("backoffice.legal_steps", reference=reference)


def _show(form: FlaskForm, problems: dict[str, str], fallback: str) -> None:
    for name, message in problems.items():
        field = getattr(form, name, None) or getattr(form, fallback)
        field.errors = [*field.errors, message]


@bp.get("/accounts/<reference>/legal")
@requires(Permission.VIEW_CASES)
def legal_steps(reference: str):
    case = case_or_404(reference)
    on = today()
    return render_template(
        "backoffice/legal_steps/page.html",
        case=case,
        legal=summary.legal_summary(case.id, on),
        acknowledgements=limitation.acknowledgements_for(case.id),
        barred_words=summary.statute_barred_words,
        today=on,
    )


def _letter_or_404(case, letter_id: int) -> pre_action.LetterView:
    letter = pre_action.letter_of(case.id, letter_id)
    if letter is None:
        abort(404)
    return letter


@bp.route("/accounts/<reference>/legal/letters/<int:letter_id>/reply", methods=["GET", "POST"])
@requires(Permission.RECORD_LEGAL_STEPS)
def record_claim_reply(reference: str, letter_id: int):
    case = case_or_404(reference)
    letter = _letter_or_404(case, letter_id)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            pre_action.record_reply(
                staff_actor(), letter.id, form.received_on.parsed, form.note.data, today=today()
            )
        except Refused as exc:
            _show(form, exc.problems, "note")
        except (InvalidRequest, NotFound) as exc:
            form.note.errors = [*form.note.errors, str(exc)]
        else:
            flash("Reply recorded: recovery waits until someone deals with it", "success")
            return redirect(_legal_url(case.reference))
    return render_template("backoffice/legal_steps/reply.html", case=case, letter=letter, form=form)


@bp.route("/accounts/<reference>/legal/letters/<int:letter_id>/dealt-with", methods=["GET", "POST"])
@requires(Permission.RECORD_LEGAL_STEPS)
def resolve_claim_reply(reference: str, letter_id: int):
    case = case_or_404(reference)
    letter = _letter_or_404(case, letter_id)
    form = DealtWithForm()
    if form.validate_on_submit():
        try:
            pre_action.resolve_reply(staff_actor(), letter.id, form.note.data, today=today())
        except Refused as exc:
            _show(form, exc.problems, "note")
        except (InvalidRequest, NotFound) as exc:
            form.note.errors = [*form.note.errors, str(exc)]
        else:
            flash("Reply marked as dealt with: recovery may go on", "success")
            return redirect(_legal_url(case.reference))
    return render_template(
        "backoffice/legal_steps/dealt_with.html", case=case, letter=letter, form=form
    )


@bp.route("/accounts/<reference>/legal/judgments/new", methods=["GET", "POST"])
@requires(Permission.RECORD_LEGAL_STEPS)
def record_judgment(reference: str):
    case = case_or_404(reference)
    open_invoices = limitation.account_limitation(case.id, today())
    form = JudgmentForm()
    form.invoices.choices = [SelectChoice(str(i.invoice_id), i.number) for i in open_invoices]
    if form.validate_on_submit():
        offered = {c.value for c in form.invoices.choices}
        chosen = [v for v in form.invoices.data or [] if v in offered and ascii_digits(v)]
        if len(chosen) != len(form.invoices.data or []):
            form.invoices.errors = ["Select invoices on this account"]
        else:
            try:
                result = judgments.record_judgment(
                    staff_actor(),
                    case.id,
                    form.court.data,
                    form.claim_number.data,
                    form.judgment_date.parsed,
                    form.amount.pence,
                    [int(v) for v in chosen],
                    today=today(),
                )
            except Refused as exc:
                _show(form, exc.problems, "claim_number")
            except (InvalidRequest, NotFound) as exc:
                form.claim_number.errors = [*form.claim_number.errors, str(exc)]
            else:
                judgment = result.judgment
                words = (
                    "Judgment recorded" if result.created else "That judgment was already recorded"
                )
                flash(
                    f"{words}: claim {judgment.claim_number}, {format_gbp(judgment.amount_pence)}",
                    "success",
                )
                return redirect(_legal_url(case.reference))
    return render_template(
        "backoffice/legal_steps/judgment.html", case=case, form=form, options=open_invoices
    )


@bp.route("/accounts/<reference>/legal/acknowledgements/new", methods=["GET", "POST"])
@requires(Permission.RECORD_LEGAL_STEPS)
def record_acknowledgement(reference: str):
    case = case_or_404(reference)
    open_invoices = limitation.account_limitation(case.id, today())
    form = AcknowledgementForm()
    form.covers.choices = [SelectChoice("", "Every debt on the account")] + [
        SelectChoice(str(i.invoice_id), f"Invoice {i.number}") for i in open_invoices
    ]
    if form.validate_on_submit():
        if form.covers.data and form.covers.data not in {c.value for c in form.covers.choices}:
            form.covers.errors = ["Select an invoice on this account"]
        else:
            try:
                limitation.record_acknowledgement(
                    staff_actor(),
                    case.id,
                    int(form.covers.data) if form.covers.data else None,
                    form.acknowledged_on.parsed,
                    form.note.data,
                    today=today(),
                )
            except Refused as exc:
                _show(
                    form,
                    {("covers" if k == "invoice" else k): v for k, v in exc.problems.items()},
                    "note",
                )
            except (InvalidRequest, NotFound) as exc:
                form.note.errors = [*form.note.errors, str(exc)]
            else:
                flash("Acknowledgement recorded: the six years run again from its date", "success")
                return redirect(_legal_url(case.reference))
    return render_template("backoffice/legal_steps/acknowledgement.html", case=case, form=form)
