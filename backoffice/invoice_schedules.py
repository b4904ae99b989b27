"""Periodic invoices on a case: the account's schedules with their next date and the
invoices raised so far, setting one up (weekly, monthly, quarterly or yearly; to an end
date, for a number of invoices, or until cancelled) and cancelling one with a reason.

The invoices themselves are raised by the daily job (shared/services/
invoice_schedules.raise_due), never by these pages. Lines work without JavaScript: the
form always has LINE_ROWS rows, and blank rows are left out.
"""

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
from shared.domain import periodic
from shared.domain.permissions import Permission
from shared.domain.vat import VatRate
from shared.money import MoneyFormatError, parse_gbp
from shared.services import invoice_schedules as schedules
from shared.services.errors import ServiceError
from shared.widgets import GovRadioInput

LINE_ROWS = 5
VAT_WORDS = {
    VatRate.OUTSIDE_SCOPE: "No VAT (outside the scope)",
    VatRate.STANDARD: "Standard rate",
    VatRate.REDUCED: "Reduced rate",
    VatRate.ZERO: "Zero rate",
    VatRate.EXEMPT: "Exempt",
}
ENDS_WORDS = {
    "date": "On a date",
    "count": "After a number of invoices",
    "never": "When it is cancelled",
}


def _known(message: str):
    def check(form, field):
        if (field.data or "") not in {c.value for c in field.choices}:
            raise ValidationError(message)

    return check


def _whole_number(label: str):
    def check(form, field):
        field.number = None
        if field.data:
            text = field.data.replace(",", "")
            if not (text.isascii() and text.isdigit()) or len(text) > 6:
                raise ValidationError(f"{label} must be a whole number, like 12")
            field.number = int(text)

    return check


def _price(form, field):
    field.pence = None
    if field.data:
        try:
            field.pence = parse_gbp(field.data)
        except MoneyFormatError as exc:
            raise ValidationError(f"Price: {exc}") from None


class ScheduleForm(FlaskForm):
    department_id = SelectField("Department", validate_choice=False, widget=GovSelect())
    income_code_id = SelectField(
        "Income code (optional)", validate_choice=False, widget=GovSelect()
    )
    description = StringField(
        "What are the invoices for?",
        description="Printed on every invoice, for example Trade waste collections",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter what the invoices are for"),
            Length(
                max=schedules.MAX_DESCRIPTION, message="Description must be 300 characters or fewer"
            ),
        ],
        widget=GovTextInput(),
    )
    purchase_order = StringField(
        "Purchase order number (optional)",
        filters=[strip_whitespace],
        validators=[
            Length(
                max=schedules.MAX_PURCHASE_ORDER,
                message="Purchase order number must be 40 characters or fewer",
            )
        ],
        widget=GovTextInput(),
    )
    frequency = RadioField(
        "How often?",
        choices=[SelectChoice(k, w) for k, w in periodic.FREQUENCIES.items()],
        validate_choice=False,
        validators=[
            DataRequired("Select how often to raise an invoice"),
            _known("Select how often to raise an invoice"),
        ],
        widget=GovRadioInput(),
    )
    start_date = StringField(
        "Date of the first invoice",
        description="For example, 1/4/2026. Invoices are raised early in the morning of their date",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter the date of the first invoice"), a_date("Start date")],
        widget=GovTextInput(),
    )
    ends = RadioField(
        "When does it end?",
        choices=[SelectChoice(k, w) for k, w in ENDS_WORDS.items()],
        validate_choice=False,
        validators=[
            DataRequired("Select when the schedule ends"),
            _known("Select when the schedule ends"),
        ],
        widget=GovRadioInput(),
    )
    end_date = StringField(
        "End date",
        description="The last day an invoice may be raised on, for example 31/3/2027",
        filters=[strip_whitespace],
        validators=[a_date("End date")],
        widget=GovTextInput(),
    )
    count = StringField(
        "Number of invoices",
        filters=[strip_whitespace],
        validators=[_whole_number("Number of invoices")],
        widget=GovTextInput(),
    )
    submit = SubmitField("Set up periodic invoice", widget=GovSubmitInput())

    def line_rows(self) -> list[tuple[int, list]]:
        return [
            (n, [self[f"line{n}_{part}"] for part in ("description", "quantity", "price", "vat")])
            for n in range(1, LINE_ROWS + 1)
        ]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.ends.data == "date" and not self.end_date.data:
            self.end_date.errors.append("Enter the end date")
            ok = False
        if self.ends.data == "count" and not self.count.data:
            self.count.errors.append("Enter the number of invoices")
            ok = False
        used = 0
        for n, (description, _quantity, price, vat) in self.line_rows():
            if not (description.data or price.data):
                continue
            used += 1
            if vat.data not in {c.value for c in vat.choices}:
                vat.errors.append(f"Select line {n}'s VAT rate")
                ok = False
            if not description.data:
                description.errors.append(f"Enter what line {n} is for")
                ok = False
            if not price.data:
                price.errors.append(f"Enter line {n}'s price")
                ok = False
        if not used and not self.line1_description.errors:
            self.line1_description.errors.append("Enter at least one line to charge")
            ok = False
        return ok

    def request(self) -> schedules.ScheduleRequest:
        lines = [
            schedules.LineRequest(
                description=description.data,
                quantity=quantity.number if quantity.data else 1,
                unit_price_pence=price.pence,
                vat_rate=VatRate(vat.data),
            )
            for _, (description, quantity, price, vat) in self.line_rows()
            if description.data or price.data
        ]
        return schedules.ScheduleRequest(
            department_id=int(self.department_id.data),
            income_code_id=int(self.income_code_id.data) if self.income_code_id.data else None,
            description=self.description.data,
            purchase_order=self.purchase_order.data or None,
            frequency=self.frequency.data,
            start=self.start_date.parsed,
            end=self.end_date.parsed if self.ends.data == "date" else None,
            count=self.count.number if self.ends.data == "count" else None,
            lines=lines,
        )

    def show_refusal(self, exc: ServiceError) -> None:
        name = getattr(exc, "field", "description")
        field = {"lines": "line1_description", "ends": "ends"}.get(name, name)
        target = self._fields.get(field) or self.description
        target.errors = [*target.errors, str(exc)]


for _n in range(1, LINE_ROWS + 1):
    setattr(
        ScheduleForm,
        f"line{_n}_description",
        StringField(
            "Description",
            filters=[strip_whitespace],
            validators=[
                Length(
                    max=schedules.MAX_DESCRIPTION,
                    message="Line description must be 300 characters or fewer",
                )
            ],
            widget=GovTextInput(),
        ),
    )
    setattr(
        ScheduleForm,
        f"line{_n}_quantity",
        StringField(
            "Quantity",
            default="1",
            filters=[strip_whitespace],
            validators=[_whole_number("Quantity")],
            widget=GovTextInput(),
        ),
    )
    setattr(
        ScheduleForm,
        f"line{_n}_price",
        StringField(
            "Price each, in pounds",
            filters=[strip_whitespace],
            validators=[_price],
            widget=GovTextInput(),
        ),
    )
    setattr(
        ScheduleForm,
        f"line{_n}_vat",
        SelectField(
            "VAT",
            choices=[SelectChoice(k.value, w) for k, w in VAT_WORDS.items()],
            default=VatRate.OUTSIDE_SCOPE.value,
            validate_choice=False,
            widget=GovSelect(),
        ),
    )


class CancelForm(FlaskForm):
    reason = TextAreaField(
        "Why is it being cancelled?",
        description="Invoices already raised stay on the account",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter why the schedule is being cancelled"),
            Length(max=schedules.MAX_REASON, message="Reason must be 1,000 characters or fewer"),
        ],
        widget=GovTextArea(),
    )
    submit = SubmitField("Cancel the schedule", widget=GovSubmitInput())


def _list_url(reference: str) -> str:
    return url_for("backoffice.invoice_schedules", reference=reference)


@bp.get("/accounts/<reference>/invoice-schedules")
@requires(Permission.VIEW_CASES)
def invoice_schedules(reference: str):
    case = case_or_404(reference)
    return render_template(
        "backoffice/invoice_schedules/list.html",
        case=case,
        schedules=schedules.schedules_for_account(case.id),
        back=url_for("backoffice.case_view", reference=case.reference),
    )


@bp.route("/accounts/<reference>/invoice-schedules/new", methods=["GET", "POST"])
@requires(Permission.VIEW_CASES, Permission.RAISE_INVOICES)
def create_invoice_schedule(reference: str):
    case = case_or_404(reference)
    form = ScheduleForm()
    form.department_id.choices = [SelectChoice("", "Choose a department")] + [
        SelectChoice(str(i), name) for i, name in schedules.departments()
    ]
    form.department_id.validators = [
        DataRequired("Select the department the invoices are for"),
        _known("Select the department the invoices are for"),
    ]
    form.income_code_id.choices = [SelectChoice("", "None")] + [
        SelectChoice(str(i), words) for i, words in schedules.income_codes()
    ]
    form.income_code_id.validators = [_known("Select an income code from the list")]
    if form.validate_on_submit():
        try:
            schedules.create_schedule(case.id, form.request(), staff_actor(), today=today())
        except ServiceError as exc:
            form.show_refusal(exc)
        else:
            flash("Periodic invoice set up", "success")
            return redirect(_list_url(case.reference))
    return render_template(
        "backoffice/invoice_schedules/new.html",
        form=form,
        case=case,
        back=_list_url(case.reference),
    )


@bp.route(
    "/accounts/<reference>/invoice-schedules/<int:schedule_id>/cancel", methods=["GET", "POST"]
)
@requires(Permission.VIEW_CASES, Permission.RAISE_INVOICES)
def cancel_invoice_schedule(reference: str, schedule_id: int):
    case = case_or_404(reference)
    schedule = schedules.schedule_for_account(case.id, schedule_id)
    if schedule is None:
        abort(404)
    form = CancelForm()
    if schedule.can_cancel and form.validate_on_submit():
        try:
            schedules.cancel_schedule(case.id, schedule_id, form.reason.data, staff_actor())
        except ServiceError as exc:
            form.reason.errors = [*form.reason.errors, str(exc)]
        else:
            flash("Periodic invoice cancelled", "success")
            return redirect(_list_url(case.reference))
    return render_template(
        "backoffice/invoice_schedules/cancel.html",
        form=form,
        case=case,
        schedule=schedule,
        back=_list_url(case.reference),
    )
