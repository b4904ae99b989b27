"""Recording a payment taken outside the portal (cheque, card on the council's terminal,
bank transfer, cash). Credit notes are raised in backoffice/credit_notes.py."""

from __future__ import annotations

import secrets

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import HiddenField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import case_or_404, pounds, staff_actor, today
from backoffice.forms import strip_whitespace
from shared.domain.dates import parse_day
from shared.domain.permissions import Permission
from shared.models import PaymentMethod
from shared.money import MoneyFormatError, format_gbp, parse_gbp
from shared.services import account_view, payment_checks
from shared.services.errors import Conflict, InvalidRequest
from shared.widgets import GovRadioInput

METHOD_WORDS = {
    PaymentMethod.CHEQUE: "Cheque",
    PaymentMethod.TELEPHONE_CARD: "Card, taken on the council's terminal",
    PaymentMethod.BANK_TRANSFER: "Bank transfer",
    PaymentMethod.CASH: "Cash",
}
OLDEST_FIRST, AS_CHOSEN = "oldest", "chosen"


def _received_on(form, field):
    field.parsed = today()
    if field.data:
        try:
            field.parsed = parse_day(field.data)
        except ValueError:
            raise ValidationError("Date received must be a real date, like 27/3/2026") from None
        if field.parsed > today():
            raise ValidationError("Date received must be today or in the past")


class ManualPaymentForm(FlaskForm):
    method = RadioField(
        "How was it paid?",
        choices=[SelectChoice(m.value, w) for m, w in METHOD_WORDS.items()],
        validate_choice=False,
        validators=[DataRequired("Select how it was paid")],
        widget=GovRadioInput(),
    )
    amount = StringField(
        "Amount received",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter the amount received"), pounds("Amount received")],
        widget=GovTextInput(),
    )
    reference = StringField(
        "Reference",
        description="The cheque number, terminal receipt number or bank reference",
        filters=[strip_whitespace],
        validators=[Length(max=64, message="Reference must be 64 characters or fewer")],
        widget=GovTextInput(),
    )
    received_on = StringField(
        "Date received",
        description="For example, 27/3/2026. Leave blank for today",
        filters=[strip_whitespace],
        validators=[_received_on],
        widget=GovTextInput(),
    )
    allocation = RadioField(
        "What should it pay?",
        choices=[
            SelectChoice(OLDEST_FIRST, "The oldest debts first"),
            SelectChoice(AS_CHOSEN, "The invoices I choose"),
        ],
        default=OLDEST_FIRST,
        validate_choice=False,
        widget=GovRadioInput(),
    )
    # Made when the form is shown: a double click posts it twice, and it is one payment.
    submission_key = HiddenField()
    submit = SubmitField("Record payment", widget=GovSubmitInput())

    def validate_method(self, field):
        if field.data not in {m.value for m in METHOD_WORDS}:
            raise ValidationError("Select how it was paid")

    def validate_reference(self, field):
        if not field.data and self.method.data != PaymentMethod.CASH.value:
            raise ValidationError("Enter the reference (not needed for cash)")


REFERENCE_USED = "This reference has already been used for a different payment. Check the reference"
FORM_ALREADY_SENT = (
    "This form was already sent with a different amount. Check the account before trying again"
)


def chosen_amounts(invoices) -> tuple[list[tuple[int, int]], dict[int, str]]:
    """The amounts typed against each invoice, and a message for each that will not do."""
    plan, problems = [], {}
    for invoice in invoices:
        typed = (request.form.get(f"invoice_{invoice.id}") or "").strip()
        if not typed:
            continue
        try:
            pence = parse_gbp(typed)
        except MoneyFormatError as exc:
            problems[invoice.id] = str(exc)
            continue
        if pence > invoice.outstanding_pence:
            problems[invoice.id] = f"Amount must be {format_gbp(invoice.outstanding_pence)} or less"
        elif pence:
            plan.append((invoice.id, pence))
    return plan, problems


@bp.route("/accounts/<reference>/payments/new", methods=["GET", "POST"])
@requires(Permission.WORK_CASES)
def record_manual_payment(reference: str):
    case = case_or_404(reference)
    invoices = account_view.open_invoices(case.id, today())
    form = ManualPaymentForm()
    if not form.submission_key.data:
        form.submission_key.data = secrets.token_urlsafe(16)
    problems: dict[int, str] = {}
    if form.validate_on_submit():
        plan = None
        if form.allocation.data == AS_CHOSEN:
            plan, problems = chosen_amounts(invoices)
            if not problems and sum(p for _, p in plan) != form.amount.pence:
                form.allocation.errors.append(
                    f"The amounts for each invoice must add up to {format_gbp(form.amount.pence)}"
                )
        if not problems and not form.allocation.errors:
            method = PaymentMethod(form.method.data)
            # The officer's reference identifies the payment; cash without one gets the
            # form's key, so the same submission twice is still one payment.
            external = (
                f"{method.value}:{form.reference.data}"
                if form.reference.data
                else f"manual:{form.submission_key.data}"
            )
            try:
                result = payment_checks.record_manual_payment(
                    account_id=case.id,
                    amount_pence=form.amount.pence,
                    method=method,
                    actor=staff_actor(),
                    external_reference=external,
                    effective_date=form.received_on.parsed,
                    allocations=plan,
                )
            except InvalidRequest as exc:
                form.amount.errors.append(str(exc))
            except Conflict:
                # The reference is already a different payment's (on this account or
                # another): the officer has mistyped it or is recording it twice.
                if form.reference.data:
                    form.reference.errors.append(REFERENCE_USED)
                else:
                    form.amount.errors.append(FORM_ALREADY_SENT)
            else:
                if result.created and result.unverified:
                    flash(
                        f"Payment of {format_gbp(form.amount.pence)} recorded. It leaves credit "
                        "on the account, so another officer must verify it before that credit "
                        "can be refunded",
                        "success",
                    )
                elif result.created:
                    flash(f"Payment of {format_gbp(form.amount.pence)} recorded", "success")
                else:
                    flash("That payment was already recorded, so nothing was added", "success")
                return redirect(url_for("backoffice.case_view", reference=case.reference))
    return render_template(
        "backoffice/payments/new.html",
        form=form,
        case=case,
        invoices=invoices,
        problems=problems,
        typed={i.id: request.form.get(f"invoice_{i.id}", "") for i in invoices},
    )
