"""Recording a contact on a debtor's account, and the officer's diary of follow-ups."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from backoffice import bp
from backoffice.auth import current_staff, requires
from backoffice.casework import case_or_404, today
from backoffice.forms import strip_whitespace
from shared.domain.dates import parse_day
from shared.domain.permissions import Permission
from shared.models import ContactKind
from shared.services import actors, contacts
from shared.services.errors import InvalidRequest
from shared.widgets import GovRadioInput


def _follow_up(form, field):
    if not field.data:
        return
    try:
        field.parsed = parse_day(field.data)
    except ValueError:
        raise ValidationError("Follow-up date must be a real date, like 27/3/2026") from None
    if field.parsed < today():
        raise ValidationError("Follow-up date must be today or in the future")


def _known(message: str):
    def check(form, field):
        if (field.data or "") not in {c.value for c in field.choices}:
            raise ValidationError(message)

    return check


class ContactForm(FlaskForm):
    kind = RadioField(
        "What kind of contact was it?",
        choices=[SelectChoice(k.value, words) for k, words in contacts.KIND_WORDS.items()],
        validate_choice=False,
        validators=[
            DataRequired("Select what kind of contact it was"),
            _known("Select what kind of contact it was"),
        ],
        widget=GovRadioInput(),
    )
    summary = StringField(
        "Summary",
        description="One line, for the timeline",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter a summary of the contact"),
            Length(max=contacts.MAX_SUMMARY, message="Summary must be 300 characters or fewer"),
        ],
        widget=GovTextInput(),
    )
    detail = TextAreaField(
        "Notes (optional)",
        validators=[
            Optional(),
            Length(max=contacts.MAX_DETAIL, message="Notes must be 5,000 characters or fewer"),
        ],
        widget=GovTextArea(),
    )
    outcome = SelectField(
        "Outcome (optional)",
        choices=[SelectChoice("", "Choose an outcome")]
        + [SelectChoice(o, o) for o in contacts.OUTCOMES],
        validate_choice=False,
        validators=[_known("Select an outcome from the list")],
        widget=GovSelect(),
    )
    follow_up_date = StringField(
        "Follow-up date (optional)",
        description="When you need to look at this account again, for example 27/3/2026",
        filters=[strip_whitespace],
        validators=[_follow_up],
        widget=GovTextInput(),
    )
    submit = SubmitField("Save contact", widget=GovSubmitInput())

    def record(self) -> contacts.ContactRecord:
        return contacts.ContactRecord(
            kind=ContactKind(self.kind.data),
            summary=self.summary.data,
            detail=self.detail.data or None,
            outcome=self.outcome.data or None,
            follow_up_date=getattr(self.follow_up_date, "parsed", None),
        )


def _case_url(reference: str) -> str:
    return url_for("backoffice.case_view", reference=reference)


@bp.route("/accounts/<reference>/contacts/new", methods=["GET", "POST"])
@requires(Permission.WORK_CASES)
def record_contact(reference: str):
    case = case_or_404(reference)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            contacts.record_contact(
                case.id,
                form.record(),
                actors.staff(current_staff().id, request.remote_addr),
                today=today(),
            )
        except InvalidRequest as exc:
            form.summary.errors.append(str(exc))
        else:
            flash("Contact saved to the account's timeline", "success")
            return redirect(_case_url(case.reference))
    return render_template(
        "backoffice/contacts/new.html", form=form, case=case, back=_case_url(case.reference)
    )


@bp.get("/diary")
@requires(Permission.WORK_CASES)
def diary():
    on = today()
    due = contacts.due_follow_ups(current_staff().id, on)
    return render_template(
        "backoffice/contacts/diary.html",
        today=on,
        overdue=[f for f in due if f.days_overdue > 0],
        due_today=[f for f in due if f.days_overdue == 0],
        case_url=_case_url,
    )
