"""Forms for portal logins: finding your account, security codes, passwords, signing in."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import HiddenField, PasswordField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from shared.forms.validators import email_shape, strip_whitespace, uk_postcode
from shared.models import PortalRelationship
from shared.services.portal_accounts import password_problem
from shared.widgets import GovRadioInput

_SIX_DIGITS = re.compile(r"^\d{6}$")


def without_spaces(value):
    # Codes are often typed or pasted as "123 456".
    return re.sub(r"\s+", "", value) if isinstance(value, str) else value


def six_digits(form, field):
    if field.data and not _SIX_DIGITS.match(field.data):
        raise ValidationError("The security code must be 6 numbers")


def good_password(form, field):
    problem = password_problem(field.data or "")
    if field.data and problem:
        raise ValidationError(problem)


def same_as_password(form, field):
    if form.password.data and field.data and field.data != form.password.data:
        raise ValidationError("Passwords do not match")


def one_of_the_choices(form, field):
    # In place of wtforms' own check, whose message is not in GOV.UK style.
    if field.data not in {choice.value for choice in field.choices}:
        raise ValidationError(field.validators[0].message)


def _email_field(label: str, hint: str | None = None) -> StringField:
    return StringField(
        label,
        description=hint,
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter your email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            email_shape,
        ],
        widget=GovTextInput(),
    )


class FindAccountForm(FlaskForm):
    reference = StringField(
        "Account reference",
        description="This is on your invoice or letter, like A12345678",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter your account reference")],
        widget=GovTextInput(),
    )
    postcode = StringField(
        "Postcode",
        description="The postcode of the address on your invoice or letter",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter your postcode"), uk_postcode],
        widget=GovTextInput(),
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class ChooseContactForm(FlaskForm):
    """Choices are the contact points on file, set by the view (masked)."""

    contact = RadioField(
        "Where should we send a security code?",
        validate_choice=False,
        validators=[
            DataRequired("Select where we should send a security code"),
            one_of_the_choices,
        ],
        widget=GovRadioInput(),
    )
    submit = SubmitField("Send code", widget=GovSubmitInput())


class EnterCodeForm(FlaskForm):
    code = StringField(
        "Security code",
        description="The code is 6 numbers",
        filters=[without_spaces],
        validators=[DataRequired("Enter the security code"), six_digits],
        widget=GovTextInput(),
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


def _password_field() -> PasswordField:
    # Not stripped: spaces can be part of a password.
    return PasswordField(
        "Create a password",
        description="Your password must be at least 10 characters long",
        validators=[DataRequired("Enter a password"), good_password],
        widget=GovPasswordInput(),
    )


def _confirm_field() -> PasswordField:
    return PasswordField(
        "Confirm your password",
        validators=[DataRequired("Confirm your password"), same_as_password],
        widget=GovPasswordInput(),
    )


class CreateLoginForm(FlaskForm):
    # Made in page order, which is the order the error summary lists them in.
    email = _email_field(
        "Email address",
        "You will use this to sign in. It can be different from the one we have on file",
    )
    password = _password_field()
    confirm = _confirm_field()
    submit = SubmitField("Create account", widget=GovSubmitInput())


class ResetPasswordForm(FlaskForm):
    password = _password_field()
    confirm = _confirm_field()
    submit = SubmitField("Change password", widget=GovSubmitInput())


class SignInForm(FlaskForm):
    email = _email_field("Email address")
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password")],
        widget=GovPasswordInput(),
    )
    next = HiddenField()
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class ForgotPasswordForm(FlaskForm):
    email = _email_field("Email address")
    submit = SubmitField("Send reset link", widget=GovSubmitInput())


RELATIONSHIP_LABELS = {
    PortalRelationship.SELF: "It is my own account",
    PortalRelationship.POWER_OF_ATTORNEY: "I have power of attorney for them",
    PortalRelationship.DEPUTY: "I am their court-appointed deputy",
    PortalRelationship.APPOINTEE: "I am their appointee",
    PortalRelationship.OTHER: "Something else",
}


class RelationshipForm(FlaskForm):
    relationship = RadioField(
        "Whose account is this?",
        choices=[SelectChoice(r.value, label) for r, label in RELATIONSHIP_LABELS.items()],
        validate_choice=False,
        validators=[DataRequired("Select whose account this is"), one_of_the_choices],
        widget=GovRadioInput(),
    )
    submit = SubmitField("Add account", widget=GovSubmitInput())
