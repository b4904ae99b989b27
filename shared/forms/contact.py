"""The contact details form: a debtor's in the portal, and the base of an officer's.

The back office's form (backoffice/contact_details.py) adds the address and a
note of how the debtor asked for the change; the validators and channel checks
are these, so both faces refuse the same details with the same words.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import RadioField, SelectMultipleField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional, ValidationError

from shared.forms.validators import email_shape, strip_whitespace
from shared.models import Channel
from shared.services.contact_details import (
    NEEDS_EMAIL,
    NEEDS_MOBILE,
    ContactChanges,
    PhoneNumberError,
    normalise_uk_phone,
)
from shared.widgets import GovCheckboxesInput, GovRadioInput

CHANNEL_CHOICES = [
    SelectChoice(Channel.EMAIL.value, "Email"),
    SelectChoice(Channel.SMS.value, "Text message"),
    SelectChoice(Channel.POST.value, "Letter"),
]
CONSENT_CHOICES = [
    SelectChoice("email", "You can send me reminders and updates by email"),
    SelectChoice("sms", "You can send me reminders and updates by text message"),
]


def _uk_phone(mobile: bool):
    def validate(form, field):
        if not field.data:
            return
        try:
            field.data = normalise_uk_phone(field.data, mobile=mobile)
        except PhoneNumberError as exc:
            raise ValidationError(str(exc)) from None

    return validate


class ContactDetailsForm(FlaskForm):
    email = StringField(
        "Email address",
        filters=[strip_whitespace],
        validators=[
            Optional(),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            email_shape,
        ],
        widget=GovTextInput(),
    )
    mobile_phone = StringField(
        "Mobile phone number",
        description="For text messages. For international numbers, phone us instead",
        filters=[strip_whitespace],
        validators=[Optional(), _uk_phone(mobile=True)],
        widget=GovTextInput(),
    )
    other_phone = StringField(
        "Other phone number (optional)",
        filters=[strip_whitespace],
        validators=[Optional(), _uk_phone(mobile=False)],
        widget=GovTextInput(),
    )
    preferred_channel = RadioField(
        "How would you like us to contact you?",
        choices=CHANNEL_CHOICES,
        validate_choice=False,
        validators=[
            DataRequired("Select how you would like us to contact you"),
            AnyOf(
                [c.value for c in Channel], message="Select how you would like us to contact you"
            ),
        ],
        widget=GovRadioInput(),
    )
    consents = SelectMultipleField(
        "Reminders and updates",
        description="Select all that apply",
        choices=CONSENT_CHOICES,
        validate_choice=False,
        widget=GovCheckboxesInput(),
    )
    submit = SubmitField("Save contact details", widget=GovSubmitInput())

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not valid:
            return False
        # On the detail that is missing, so the error summary links to the box to fill in.
        if self.preferred_channel.data == Channel.EMAIL and not self.email.data:
            self.email.errors.append(NEEDS_EMAIL)
            return False
        if self.preferred_channel.data == Channel.SMS and not self.mobile_phone.data:
            self.mobile_phone.errors.append(NEEDS_MOBILE)
            return False
        return True

    def changes(self) -> ContactChanges:
        consents = set(self.consents.data or ())
        return ContactChanges(
            email=self.email.data or None,
            mobile_phone=self.mobile_phone.data or None,
            other_phone=self.other_phone.data or None,
            preferred_channel=Channel(self.preferred_channel.data),
            consent_email="email" in consents,
            consent_sms="sms" in consents,
        )

    def fill_from(self, account) -> None:
        """Show what we hold now (on GET)."""
        self.email.data = account.email
        self.mobile_phone.data = account.mobile_phone
        self.other_phone.data = account.other_phone
        self.preferred_channel.data = account.preferred_channel.value
        self.consents.data = [
            name
            for name, given in (("email", account.consent_email), ("sms", account.consent_sms))
            if given
        ]
