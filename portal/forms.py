"""Portal forms, rendered with GOV.UK Frontend widgets.

Every field is stripped of surrounding whitespace (people paste references and
amounts with a trailing space). Messages follow the GOV.UK Design System's
error message patterns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import HiddenField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from shared.forms.validators import email_shape, strip_whitespace, uk_postcode
from shared.money import MoneyFormatError, format_gbp, parse_gbp
from shared.services.bill_lookup import BillItem
from shared.services.card_payments import MINIMUM_CARD_PAYMENT_PENCE
from shared.widgets import GovRadioInput

# What card_payments.new_submission_key() makes; anything else was not ours.
_SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

FULL, OTHER = "full", "other"


def our_submission_key(value):
    # A missing or tampered key becomes None and the view makes a fresh one.
    return value if isinstance(value, str) and _SUBMISSION_KEY.match(value) else None


class FindBillForm(FlaskForm):
    reference = StringField(
        "Invoice number or account reference",
        description="This is on your invoice or letter, like INV12345678 or A12345678",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter your invoice number or account reference")],
        widget=GovTextInput(),
    )
    postcode = StringField(
        "Postcode",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter your postcode"), uk_postcode],
        widget=GovTextInput(),
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


# --- how much to pay -----------------------------------------------------------------


def _payment_fields() -> dict:
    # Made afresh for each form class so they come after its amount fields in
    # the error summary, which lists errors in field order.
    return {
        "receipt_email": StringField(
            "Email address for your receipt (optional)",
            description="We will send a receipt to this address when your payment is confirmed",
            filters=[strip_whitespace],
            validators=[
                Optional(),
                Length(max=254, message="Email address must be 254 characters or fewer"),
                email_shape,
            ],
            widget=GovTextInput(),
        ),
        "submission_key": HiddenField(filters=[our_submission_key]),
        "submit": SubmitField("Continue to payment", widget=GovSubmitInput()),
    }


def amount_within(text: str, outstanding_pence: int) -> int:
    """Read one amount a payer typed, in pence; zero is allowed (the caller decides)."""
    pence = parse_gbp(text)
    if pence > outstanding_pence:
        raise MoneyFormatError(f"Amount must be {format_gbp(outstanding_pence)} or less")
    return pence


class AmountForm(FlaskForm):
    """What the payer chose to pay; `allocations()` is valid once `validate()` passed."""

    items: Sequence[BillItem] = ()

    def allocations(self) -> list[tuple[int, int]]:
        raise NotImplementedError

    def first_amount_field(self):
        """Where an error about the whole choice goes, so the error summary can link to it."""
        return next(f for f in self if f.type not in {"CSRFTokenField", "HiddenField"})


class OneInvoiceAmountForm(AmountForm):
    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.choice.data == OTHER:
            try:
                pence = amount_within(self.amount.data or "", self.items[0].outstanding_pence)
                if pence == 0:
                    raise MoneyFormatError("Amount must be more than £0")
                if pence < MINIMUM_CARD_PAYMENT_PENCE:
                    raise MoneyFormatError(
                        f"Amount must be {format_gbp(MINIMUM_CARD_PAYMENT_PENCE)} or more"
                    )
            except MoneyFormatError as exc:
                self.amount.errors.append(str(exc))
                valid = False
        return valid

    def allocations(self) -> list[tuple[int, int]]:
        item = self.items[0]
        if self.choice.data == FULL:
            return [(item.invoice_id, item.outstanding_pence)]
        return [(item.invoice_id, parse_gbp(self.amount.data))]


class SeveralInvoicesAmountForm(AmountForm):
    def amount_fields(self):
        return [(item, self[f"amount_{item.invoice_id}"]) for item in self.items]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        chosen = []
        for item, field in self.amount_fields():
            if not field.data:
                continue  # blank: nothing for this invoice
            try:
                pence = amount_within(field.data, item.outstanding_pence)
            except MoneyFormatError as exc:
                field.errors.append(str(exc))
                valid = False
                continue
            if pence:
                chosen.append((field, pence))
        if not valid:
            return False
        first = self.amount_fields()[0][1]
        if not chosen:
            first.errors.append("Enter an amount for at least one invoice")
            return False
        if sum(p for _, p in chosen) < MINIMUM_CARD_PAYMENT_PENCE:
            chosen[0][0].errors.append(
                f"The total must be {format_gbp(MINIMUM_CARD_PAYMENT_PENCE)} or more"
            )
            return False
        return True

    def allocations(self) -> list[tuple[int, int]]:
        plan = []
        for item, field in self.amount_fields():
            pence = parse_gbp(field.data) if field.data else 0
            if pence:
                plan.append((item.invoice_id, pence))
        return plan


def amount_form(items: Sequence[BillItem]) -> AmountForm:
    """The pay form: full or part payment for one invoice, an amount each for several."""
    if len(items) == 1:

        class Form(OneInvoiceAmountForm):
            pass

        outstanding = format_gbp(items[0].outstanding_pence)
        Form.choice = RadioField(
            "How much do you want to pay?",
            choices=[
                SelectChoice(FULL, f"Pay the full amount ({outstanding})"),
                SelectChoice(OTHER, "Pay a different amount"),
            ],
            validate_choice=False,
            validators=[
                DataRequired("Select how much you want to pay"),
                AnyOf([FULL, OTHER], message="Select how much you want to pay"),
            ],
            widget=GovRadioInput(),
        )
        Form.amount = StringField(
            "Amount to pay",
            description=f"Up to {outstanding}",
            filters=[strip_whitespace],
            widget=GovTextInput(),
        )
    else:

        class Form(SeveralInvoicesAmountForm):
            pass

        for item in items:
            setattr(
                Form,
                f"amount_{item.invoice_id}",
                StringField(
                    f"Amount to pay on invoice {item.number}",
                    description=(
                        f"{format_gbp(item.outstanding_pence)} to pay. "
                        "Leave blank to pay nothing on this invoice"
                    ),
                    filters=[strip_whitespace],
                    widget=GovTextInput(),
                ),
            )
    for name, field in _payment_fields().items():
        setattr(Form, name, field)
    Form.items = tuple(items)
    return Form()
