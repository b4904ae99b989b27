"""Forms for setting up, changing and cancelling a Direct Debit in the portal.

The bank details fields only strip what was typed: reading them (spaces and
dashes in a sort code, and so on) and modulus checking is the service's
(mandates_checks.check_bank_details), whose problems the view puts on the fields.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import HiddenField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired

from shared.forms.validators import strip_whitespace
from shared.widgets import GovRadioInput

YES, NO = "yes", "no"
INVOICES = "invoices"


def version_of(text: str | None) -> int:
    """The mandate version a page was shown at; -1 (never a real one, so the service
    says the mandate has changed) for anything made up."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return -1
    return int(text)


def purpose_form(plans: Sequence[tuple[int, str]]) -> FlaskForm:
    """What the Direct Debit is for: one of the account's live plans, or its invoices."""
    choices = [SelectChoice(f"plan-{plan_id}", words) for plan_id, words in plans]
    choices.append(SelectChoice(INVOICES, "Bills on this account as they fall due"))
    allowed = [c.value for c in choices]

    class PurposeForm(FlaskForm):
        purpose = RadioField(
            "What do you want to pay by Direct Debit?",
            choices=choices,
            validate_choice=False,
            validators=[
                DataRequired("Select what you want to pay by Direct Debit"),
                AnyOf(allowed, message="Select what you want to pay by Direct Debit"),
            ],
            widget=GovRadioInput(),
        )
        submit = SubmitField("Continue", widget=GovSubmitInput())

        def plan_id(self) -> int | None:
            value = self.purpose.data or ""
            return int(value.removeprefix("plan-")) if value.startswith("plan-") else None

    return PurposeForm()


class BankDetailsFields(FlaskForm):
    holder_name = StringField(
        "Name on the account",
        description="As it is shown on your bank statement",
        filters=[strip_whitespace],
        widget=GovTextInput(),
    )
    sort_code = StringField(
        "Sort code",
        description="Must be 6 digits long",
        filters=[strip_whitespace],
        widget=GovTextInput(),
    )
    account_number = StringField(
        "Account number",
        description="Must be between 6 and 8 digits long",
        filters=[strip_whitespace],
        widget=GovTextInput(),
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


class BankDetailsForm(BankDetailsFields):
    submit = SubmitField("Continue", widget=GovSubmitInput())


def _sole_signatory_field():
    return RadioField(
        "Are you the account holder and the only person needed to authorise debits "
        "from this account?",
        choices=[SelectChoice(YES, "Yes"), SelectChoice(NO, "No")],
        validate_choice=False,
        validators=[
            DataRequired("Select yes if you are the only person needed to authorise debits"),
            AnyOf(
                [YES, NO],
                message="Select yes if you are the only person needed to authorise debits",
            ),
        ],
        widget=GovRadioInput(),
    )


class AuthoriseForm(FlaskForm):
    sole_signatory = _sole_signatory_field()
    submit = SubmitField("Continue", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    submit = SubmitField("Confirm and set up the Direct Debit", widget=GovSubmitInput())


class ChangeForm(BankDetailsFields):
    """New bank details for the payer's Direct Debit, on one page."""

    sole_signatory = _sole_signatory_field()
    version = HiddenField()
    submit = SubmitField("Change bank details", widget=GovSubmitInput())

    def expected_version(self) -> int:
        return version_of(self.version.data)


class CancelForm(FlaskForm):
    version = HiddenField()
    submit = SubmitField("Cancel Direct Debit", widget=GovSubmitInput())

    def expected_version(self) -> int:
        return version_of(self.version.data)
