"""Back-office forms, rendered with GOV.UK Frontend widgets."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, ValidationError

from shared.domain.two_factor import normalise_code
from shared.forms.validators import email_shape, strip_whitespace


class SignInForm(FlaskForm):
    email = StringField(
        "Email address",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter your email address"), email_shape],
        widget=GovTextInput(),
    )
    # Not stripped: spaces can be part of a password.
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password")],
        widget=GovPasswordInput(),
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


def six_digit_code(form, field):
    if field.data and normalise_code(field.data) is None:
        raise ValidationError("The code must be 6 digits, like 123456")


class CodeForm(FlaskForm):
    """The second sign-in step, and the last step of setting up an authenticator app."""

    code = StringField(
        "Code from your authenticator app",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter the 6-digit code from your authenticator app"),
            six_digit_code,
        ],
        widget=GovTextInput(),
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())
