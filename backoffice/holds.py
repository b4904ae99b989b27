"""Placing and lifting holds on a debtor's account or one of its invoices."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import a_date, case_or_404, staff_actor, today
from backoffice.forms import strip_whitespace
from shared.domain import holds as rules
from shared.domain.permissions import Permission
from shared.models import HoldKind
from shared.money import MoneyFormatError, parse_gbp
from shared.services import account_view, holds
from shared.services.errors import InvalidRequest, NotFound
from shared.widgets import GovRadioInput

BREATHING_SPACE_WORDS = {
    rules.BS_STANDARD: "Standard (ends 60 days after it starts)",
    rules.BS_MENTAL_HEALTH: "Mental health crisis (ends 30 days after the crisis treatment ends)",
}


def _date_field(label: str, hint: str) -> StringField:
    return StringField(
        label,
        description=hint,
        filters=[strip_whitespace],
        validators=[a_date(label)],
        widget=GovTextInput(),
    )


def _pounds(form, field):
    field.pence = None
    if field.data:
        try:
            field.pence = parse_gbp(field.data)
        except MoneyFormatError as exc:
            raise ValidationError(str(exc)) from None


class HoldForm(FlaskForm):
    kind = RadioField(
        "Why is recovery being held?",
        choices=[SelectChoice(k.value, w) for k, w in holds.KIND_WORDS.items()],
        validate_choice=False,
        validators=[DataRequired("Select the reason for the hold")],
        widget=GovRadioInput(),
    )
    promise_date = _date_field("Date they promised to pay by", "For example, 27/3/2026")
    promise_amount = StringField(
        "Amount they promised to pay",
        filters=[strip_whitespace],
        validators=[_pounds],
        widget=GovTextInput(),
    )
    breathing_space_type = RadioField(
        "Type of Breathing Space",
        choices=[SelectChoice(k, w) for k, w in BREATHING_SPACE_WORDS.items()],
        validate_choice=False,
        widget=GovRadioInput(),
    )
    breathing_space_reference = StringField(
        "Insolvency Service reference (optional)",
        filters=[strip_whitespace],
        validators=[Length(max=40, message="Reference must be 40 characters or fewer")],
        widget=GovTextInput(),
    )
    date_of_death = _date_field("Date they died", "For example, 27/3/2026")
    representative_name = StringField(
        "Personal representative's name (if known)",
        filters=[strip_whitespace],
        validators=[Length(max=200, message="Name must be 200 characters or fewer")],
        widget=GovTextInput(),
    )
    representative_capacity = StringField(
        "Capacity they act in",
        description="For example, executor, administrator, solicitor for the estate",
        filters=[strip_whitespace],
        validators=[Length(max=80, message="Capacity must be 80 characters or fewer")],
        widget=GovTextInput(),
    )
    representative_address = TextAreaField(
        "Their address",
        filters=[strip_whitespace],
        validators=[Length(max=500, message="Address must be 500 characters or fewer")],
        widget=GovTextArea(),
    )
    representative_phone = StringField(
        "Their phone number",
        filters=[strip_whitespace],
        validators=[Length(max=20, message="Phone number must be 20 characters or fewer")],
        widget=GovTextInput(),
    )
    representative_email = StringField(
        "Their email address",
        filters=[strip_whitespace],
        validators=[Length(max=254, message="Email address must be 254 characters or fewer")],
        widget=GovTextInput(),
    )
    covers = SelectField("Which debts does it cover?", validate_choice=False, widget=GovSelect())
    starts_on = _date_field("Start date", "For example, 27/3/2026. Leave blank for today")
    expires_on = _date_field(
        "End date",
        "Recovery restarts the day after. For Breathing Space, the end date on the Insolvency "
        "Service's notice (leave it blank for a mental health crisis space). A promise to pay "
        "ends on the promised date if you leave this blank",
    )
    reason = TextAreaField(
        "Reason",
        validators=[
            DataRequired("Enter the reason for the hold"),
            Length(max=2000, message="Reason must be 2,000 characters or fewer"),
        ],
        widget=GovTextArea(),
    )
    submit = SubmitField("Place hold", widget=GovSubmitInput())

    def terms(self) -> rules.HoldTerms:
        return rules.HoldTerms(
            kind=self.kind.data,
            starts_on=self.starts_on.parsed or today(),
            expires_on=self.expires_on.parsed,
            promise_date=self.promise_date.parsed,
            promise_amount_pence=self.promise_amount.pence,
            breathing_space_type=self.breathing_space_type.data or None,
            date_of_death=self.date_of_death.parsed,
        )

    def representative(self) -> rules.Representative:
        return rules.Representative(
            name=self.representative_name.data or "",
            capacity=self.representative_capacity.data or "",
            address=self.representative_address.data or "",
            phone=self.representative_phone.data or "",
            email=self.representative_email.data or "",
        )

    def show_problems(self, problems: dict[str, str]) -> None:
        for name, message in problems.items():
            field = {"promise_amount": self.promise_amount}.get(name) or self[name]
            field.errors.append(message)


class CrisisEndForm(FlaskForm):
    treatment_ended_on = _date_field("Date the crisis treatment ended", "For example, 27/3/2026")
    space_ends_on = _date_field(
        "End date on the Insolvency Service's notice",
        "30 days after the treatment ended. Recovery restarts the day after",
    )
    submit = SubmitField("Record end of treatment", widget=GovSubmitInput())


class LiftForm(FlaskForm):
    lift_reason = TextAreaField(
        "Why is the hold being lifted?",
        validators=[
            DataRequired("Enter why the hold is being lifted"),
            Length(max=2000, message="Reason must be 2,000 characters or fewer"),
        ],
        widget=GovTextArea(),
    )
    submit = SubmitField("Lift hold", widget=GovSubmitInput())


@bp.get("/accounts/<reference>/holds")
@requires(Permission.VIEW_CASES)
def account_holds(reference: str):
    case = case_or_404(reference)
    return render_template(
        "backoffice/holds/list.html",
        case=case,
        holds=holds.holds_for(case.id),
        today=today(),
        kind_words=holds.KIND_WORDS,
        bs_words=BREATHING_SPACE_WORDS,
        lift_form=LiftForm(),
        crisis_form=CrisisEndForm(),
    )


@bp.route("/accounts/<reference>/holds/new", methods=["GET", "POST"])
@requires(Permission.WORK_CASES)
def place_hold(reference: str):
    case = case_or_404(reference)
    form = HoldForm()
    open_invoices = account_view.open_invoices(case.id, today())
    form.covers.choices = [SelectChoice("", "All debts on the account")] + [
        SelectChoice(str(i.id), f"Invoice {i.number}") for i in open_invoices
    ]
    if form.validate_on_submit():
        terms = form.terms()
        problems = rules.hold_problems(terms, today())
        if terms.kind == "deceased":
            problems |= rules.representative_problems(form.representative())
        expected_end = rules.expected_breathing_space_end(terms)
        if "expires_on" in problems and expected_end and not form.expires_on.data:
            # Prefilled with what the notice should say, for the officer to check and send.
            form.expires_on.data = f"{expected_end:%d/%m/%Y}"
        if form.covers.data and form.covers.data not in {c.value for c in form.covers.choices}:
            problems["covers"] = "Select an invoice on this account"
        if problems:
            form.show_problems(problems)
        else:
            try:
                holds.place_hold(
                    case.id,
                    terms,
                    form.reason.data,
                    staff_actor(),
                    today=today(),
                    invoice_id=int(form.covers.data) if form.covers.data else None,
                    breathing_space_reference=form.breathing_space_reference.data,
                    representative=form.representative(),
                )
            except InvalidRequest as exc:
                form.reason.errors.append(str(exc))
            else:
                flash(f"{holds.KIND_WORDS[HoldKind(terms.kind)]} hold placed", "success")
                return redirect(url_for("backoffice.account_holds", reference=case.reference))
    return render_template("backoffice/holds/new.html", form=form, case=case)


@bp.post("/accounts/<reference>/holds/<int:hold_id>/lift")
@requires(Permission.WORK_CASES)
def lift_hold(reference: str, hold_id: int):
    case = case_or_404(reference)
    if not any(h.id == hold_id for h in holds.holds_for(case.id)):
        abort(404)
    form = LiftForm()
    if form.validate_on_submit():
        try:
            holds.lift_hold(hold_id, form.lift_reason.data, staff_actor(), today=today())
        except (InvalidRequest, NotFound) as exc:
            flash(str(exc))
        else:
            flash("Hold lifted", "success")
    else:
        flash(next(iter(form.errors.values()))[0])
    return redirect(url_for("backoffice.account_holds", reference=case.reference))


@bp.post("/accounts/<reference>/holds/<int:hold_id>/crisis-end")
@requires(Permission.WORK_CASES)
def record_crisis_end(reference: str, hold_id: int):
    case = case_or_404(reference)
    if not any(h.id == hold_id for h in holds.holds_for(case.id)):
        abort(404)
    form = CrisisEndForm()
    if form.validate_on_submit():
        try:
            holds.record_crisis_treatment_end(
                hold_id,
                form.treatment_ended_on.parsed,
                form.space_ends_on.parsed,
                staff_actor(),
                today=today(),
            )
        except (InvalidRequest, NotFound) as exc:
            flash(str(exc))
        else:
            flash("End of crisis treatment recorded", "success")
    else:
        flash(next(iter(form.errors.values()))[0])
    return redirect(url_for("backoffice.account_holds", reference=case.reference))
