"""Back-office forms, rendered with GOV.UK Frontend widgets."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, ValidationError

from shared.domain.two_factor import normalise_code

# Deliberately loose: the sign-in check is the real test of an address, and
# a strict pattern only turns away unusual but valid ones.
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def strip_whitespace(value):
    # Pasted addresses often carry a trailing space or newline.
    return value.strip() if isinstance(value, str) else value


def email_shape(form, field):
    if field.data and not _EMAIL_SHAPE.match(field.data):
        raise ValidationError("Enter an email address in the correct format, like name@example.com")


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
