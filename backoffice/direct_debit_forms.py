"""Forms for Direct Debit instructions an officer takes: by phone (with the read-back
ticked), from a signed paper form, a payer's new bank details, a cancellation.

Bank details are only stripped here; reading and modulus checking them is the
service's, whose problems the view puts on these fields by name.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length

from backoffice.casework import a_date
from backoffice.forms import strip_whitespace
from shared.widgets import GovCheckboxesInput, GovRadioInput

YES, NO = "yes", "no"
CONFIRMED = "confirmed"
INVOICES = "invoices"
_MAX_ID = 2**31 - 1


def number_or_none(text: str | None) -> int | None:
    """A mandate id or version from a hidden field; None for anything made up."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    value = int(text)
    return value if 0 < value <= _MAX_ID else None


def _yes_no(label: str, message: str) -> RadioField:
    return RadioField(
        label,
        choices=[SelectChoice(YES, "Yes"), SelectChoice(NO, "No")],
        validate_choice=False,
        validators=[DataRequired(message), AnyOf([YES, NO], message=message)],
        widget=GovRadioInput(),
    )


def _tick(label: str, words: str) -> SelectMultipleField:
    return SelectMultipleField(
        label,
        choices=[SelectChoice(CONFIRMED, words)],
        validate_choice=False,
        widget=GovCheckboxesInput(),
    )


class _BankDetails(FlaskForm):
    holder_name = StringField(
        "Name on the account",
        description="As the payer's bank shows it: 18 characters at most",
        filters=[strip_whitespace],
        widget=GovTextInput(),
    )
    sort_code = StringField("Sort code", filters=[strip_whitespace], widget=GovTextInput())
    account_number = StringField(
        "Account number", filters=[strip_whitespace], widget=GovTextInput()
    )

    def put_problems(self, problems: dict[str, str]) -> None:
        """The service's problems on their fields (anything else on the account number)."""
        for name, message in problems.items():
            field = getattr(self, name, None)
            if field is None or not hasattr(field, "errors"):
                field = self.account_number
            if isinstance(field.errors, tuple):
                field.errors = list(field.errors)
            field.errors.append(message)


def _purpose(plans: Sequence[tuple[int, str]]) -> RadioField:
    choices = [SelectChoice(f"plan-{plan_id}", words) for plan_id, words in plans]
    choices.append(SelectChoice(INVOICES, "The account's invoices as they fall due"))
    message = "Select what the Direct Debit is to pay"
    return RadioField(
        "What is the Direct Debit to pay?",
        choices=choices,
        validate_choice=False,
        validators=[DataRequired(message), AnyOf([c.value for c in choices], message=message)],
        widget=GovRadioInput(),
    )


def _plan_id(form) -> int | None:
    value = form.purpose.data or ""
    return int(value.removeprefix("plan-")) if value.startswith("plan-") else None


def phone_form(plans: Sequence[tuple[int, str]]) -> FlaskForm:
    class PhoneForm(_BankDetails):
        purpose = _purpose(plans)
        sole_signatory = _yes_no(
            "Is the payer the account holder and the only person needed to authorise "
            "debits from the account?",
            "Select whether the payer is the only person needed to authorise debits",
        )
        read_back = _tick(
            "Read-back", "I read the details and the Guarantee back and the payer confirmed them"
        )
        replaces = HiddenField()
        submit = SubmitField("Set up the Direct Debit", widget=GovSubmitInput())

        plan_id = _plan_id

    return PhoneForm()


def paper_form(plans: Sequence[tuple[int, str]]) -> FlaskForm:
    class PaperForm(_BankDetails):
        purpose = _purpose(plans)
        date_signed = StringField(
            "Date signed",
            description="As written on the form, for example 27/3/2026",
            filters=[strip_whitespace],
            validators=[a_date("Date signed")],
            widget=GovTextInput(),
        )
        signed_by_all = _tick(
            "Signatures",
            "The form is signed by everyone needed to authorise debits from the account",
        )
        replaces = HiddenField()
        submit = SubmitField("Record the instruction", widget=GovSubmitInput())

        plan_id = _plan_id

    return PaperForm()


class ChangeForm(_BankDetails):
    sole_signatory = _yes_no(
        "Is the payer the account holder and the only person needed to authorise debits "
        "from the new account?",
        "Select whether the payer is the only person needed to authorise debits",
    )
    read_back = _tick(
        "Read-back", "I read the new details and the Guarantee back and the payer confirmed them"
    )
    version = HiddenField()
    submit = SubmitField("Change bank details", widget=GovSubmitInput())


class CancelForm(FlaskForm):
    reason = TextAreaField(
        "Why is the Direct Debit being cancelled?",
        description="For example, what the payer said when they asked",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter why the Direct Debit is being cancelled"),
            Length(max=200, message="Reason must be 200 characters or fewer"),
        ],
        widget=GovTextArea(),
    )
    version = HiddenField()
    submit = SubmitField("Cancel the Direct Debit", widget=GovSubmitInput())
