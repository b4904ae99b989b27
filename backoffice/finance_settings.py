"""Finance settings an administrator keeps: each department's income codes and payment
terms, and the dated VAT rates.

Every change is audited. An income code is retired, never deleted (invoices name it),
and keeps its code; a VAT rate is added from a date after today, so no rate already
charged changes. Bad input is shown beside its field and changes nothing.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import a_date, staff_actor, today
from backoffice.forms import strip_whitespace
from shared.domain.numbers import parse_whole_number
from shared.domain.permissions import Permission
from shared.domain.vat import VatRate, parse_percent, percent
from shared.services import finance_settings as settings
from shared.services import vat_rates
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.widgets import GovRadioInput

INDEX = "backoffice.finance_settings"


def _text(label: str, hint: str | None = None) -> StringField:
    return StringField(
        label,
        description=hint,
        filters=[strip_whitespace],
        validators=[DataRequired(f"Enter the {label.lower()}")],
        widget=GovTextInput(),
    )


class EditIncomeCodeForm(FlaskForm):
    description = _text("Description", "What the income is for, as finance staff know it")
    cost_centre = _text("Cost centre")
    ledger_code = _text(
        "Ledger code", "The general-ledger (subjective) code the income is booked to"
    )
    submit = SubmitField("Save income code", widget=GovSubmitInput())

    def value(self, code: str = "") -> settings.IncomeCodeInput:
        return settings.IncomeCodeInput(
            code=code,
            description=self.description.data or "",
            cost_centre=self.cost_centre.data or "",
            ledger_code=self.ledger_code.data or "",
        )

    def checked(self, problems: dict[str, str]) -> bool:
        """Validate, and add the service's problems to the fields that have none yet (so
        every field at fault is named at once); whether the whole form will do."""
        valid = self.validate()
        for name, message in problems.items():
            if not self[name].errors:
                self[name].errors = [*self[name].errors, message]
        return valid and not problems


class IncomeCodeForm(EditIncomeCodeForm):
    code = _text(
        "Income code",
        "Letters and numbers, as the finance system has it. It cannot be changed later",
    )
    submit = SubmitField("Add income code", widget=GovSubmitInput())

    def value(self) -> settings.IncomeCodeInput:  # type: ignore[override]
        return super().value(self.code.data or "")


class PaymentTermsForm(FlaskForm):
    days = StringField(
        "Payment terms",
        description="Days from the invoice date to its due date, from 0 to 365",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter the payment terms in days")],
        widget=GovTextInput(),
    )
    submit = SubmitField("Save payment terms", widget=GovSubmitInput())

    def validate_days(self, field):
        field.number = parse_whole_number(field.data)
        problem = settings.terms_problem(field.number)
        if problem:
            raise ValidationError(problem)


class VatRateForm(FlaskForm):
    rate = RadioField(
        "Which rate changes?",
        choices=[
            SelectChoice(r.value, vat_rates.RATE_WORDS[r])
            for r in (VatRate.STANDARD, VatRate.REDUCED)
        ],
        validate_choice=False,
        validators=[DataRequired("Select which VAT rate changes")],
        widget=GovRadioInput(),
    )
    percent = StringField(
        "New rate",
        description="As a percentage, like 20 or 17.5",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter the new rate as a percentage, like 20 or 17.5")],
        widget=GovTextInput(),
    )
    valid_from = StringField(
        "Date the new rate starts",
        description=(
            "A date after today, for example 1/4/2027. Invoices dated from then are charged it"
        ),
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter the date the new rate starts"),
            a_date("Date the new rate starts"),
        ],
        widget=GovTextInput(),
    )
    submit = SubmitField("Add rate", widget=GovSubmitInput())

    def validate_rate(self, field):
        if field.data not in (VatRate.STANDARD.value, VatRate.REDUCED.value):
            raise ValidationError("Select which VAT rate changes")

    def validate_percent(self, field):
        field.basis_points = parse_percent(field.data)
        if field.basis_points is None:
            raise ValidationError(
                "Enter the new rate as a percentage from 0 to 100, like 20 or 17.5"
            )


def _department(department_id: int) -> settings.DepartmentRow:
    try:
        return settings.department(department_id)
    except NotFound:
        abort(404)


def _income_code(department_id: int, income_code_id: int) -> settings.IncomeCodeRow:
    try:
        return settings.income_code(department_id, income_code_id)
    except NotFound:
        abort(404)


@bp.get("/admin/finance")
@requires(Permission.MANAGE_FINANCE_SETTINGS)
def finance_settings():
    return render_template(
        "backoffice/finance_settings/index.html",
        departments=settings.departments(),
        rates=[p for p in vat_rates.history(today()) if p.in_force or p.future],
    )


@bp.route("/admin/finance/departments/<int:department_id>/income-codes", methods=["GET", "POST"])
@requires(Permission.MANAGE_FINANCE_SETTINGS)
def department_income_codes(department_id: int):
    department = _department(department_id)
    form = IncomeCodeForm()
    if form.is_submitted() and form.checked(settings.income_code_problems(form.value())):
        try:
            added = settings.add_income_code(department.id, form.value(), staff_actor())
        except Conflict as exc:
            form.code.errors.append(str(exc))
        except InvalidRequest as exc:
            form.code.errors.append(str(exc))
        else:
            flash(f"Income code {added.code} added to {department.name}", "success")
            return redirect(
                url_for("backoffice.department_income_codes", department_id=department.id)
            )
    return render_template(
        "backoffice/finance_settings/income_codes.html",
        department=department,
        codes=settings.income_codes(department.id),
        form=form,
    )


@bp.route(
    "/admin/finance/departments/<int:department_id>/income-codes/<int:income_code_id>",
    methods=["GET", "POST"],
)
@requires(Permission.MANAGE_FINANCE_SETTINGS)
def edit_income_code(department_id: int, income_code_id: int):
    department = _department(department_id)
    code = _income_code(department_id, income_code_id)
    form = EditIncomeCodeForm()
    if request.method == "GET":
        form.description.data = code.description
        form.cost_centre.data = code.cost_centre
        form.ledger_code.data = code.ledger_code
    elif form.is_submitted() and form.checked(
        settings.income_code_problems(form.value(), with_code=False)
    ):
        try:
            settings.edit_income_code(department.id, code.id, form.value(), staff_actor())
        except InvalidRequest as exc:
            form.description.errors.append(str(exc))
        else:
            flash(f"Income code {code.code} saved", "success")
            return redirect(
                url_for("backoffice.department_income_codes", department_id=department.id)
            )
    return render_template(
        "backoffice/finance_settings/income_code.html", department=department, code=code, form=form
    )


class IncomeCodeStatusForm(FlaskForm):
    pass


@bp.post("/admin/finance/departments/<int:department_id>/income-codes/<int:income_code_id>/status")
@requires(Permission.MANAGE_FINANCE_SETTINGS)
def set_income_code_status(department_id: int, income_code_id: int):
    department = _department(department_id)
    code = _income_code(department_id, income_code_id)
    back = url_for(
        "backoffice.edit_income_code", department_id=department.id, income_code_id=code.id
    )
    if not IncomeCodeStatusForm().validate_on_submit():
        flash("Your form had expired. Try again")
        return redirect(back)
    action = request.form.get("action")
    if action not in ("retire", "reinstate"):
        flash("Choose to retire or reinstate the income code")
        return redirect(back)
    changed = settings.set_income_code_active(
        department.id, code.id, action == "reinstate", staff_actor()
    )
    flash(
        f"Income code {changed.code} "
        + (
            "reinstated: it can be chosen for new invoices"
            if changed.active
            else "retired: it can no longer be chosen for new invoices"
        ),
        "success",
    )
    return redirect(url_for("backoffice.department_income_codes", department_id=department.id))


@bp.route("/admin/finance/departments/<int:department_id>/payment-terms", methods=["GET", "POST"])
@requires(Permission.MANAGE_FINANCE_SETTINGS)
def edit_payment_terms(department_id: int):
    department = _department(department_id)
    form = PaymentTermsForm()
    if request.method == "GET":
        form.days.data = str(department.payment_terms_days)
    elif form.validate_on_submit():
        try:
            settings.set_payment_terms(department.id, form.days.number, staff_actor())
        except InvalidRequest as exc:
            form.days.errors.append(str(exc))
        else:
            flash(
                f"Payment terms for {department.name} saved: invoices raised from now on are due "
                f"{form.days.number} days after their date",
                "success",
            )
            return redirect(url_for(INDEX))
    return render_template(
        "backoffice/finance_settings/payment_terms.html", department=department, form=form
    )


@bp.route("/admin/finance/vat-rates", methods=["GET", "POST"])
@requires(Permission.MANAGE_FINANCE_SETTINGS)
def vat_rate_history():
    form = VatRateForm()
    if form.validate_on_submit():
        problems = vat_rates.period_problems(
            form.rate.data, form.valid_from.parsed, form.percent.basis_points, today()
        )
        for name, message in problems.items():
            {"basis_points": form.percent, "rate": form.rate, "valid_from": form.valid_from}[
                name
            ].errors.append(message)
        if not problems:
            try:
                period = vat_rates.add_rate_period(
                    rate=form.rate.data,
                    valid_from=form.valid_from.parsed,
                    basis_points=form.percent.basis_points,
                    actor=staff_actor(),
                )
            except (Conflict, InvalidRequest) as exc:
                form.valid_from.errors.append(str(exc))
            else:
                words = vat_rates.RATE_WORDS[VatRate(period.rate)]
                flash(
                    f"{words} rate of {percent(period.basis_points)} "
                    f"added from {period.valid_from:%-d %B %Y}",
                    "success",
                )
                return redirect(url_for("backoffice.vat_rate_history"))
    return render_template(
        "backoffice/finance_settings/vat_rates.html", form=form, periods=vat_rates.history(today())
    )
