"""WTForms filters and validators shared by the portal and back-office forms.

Messages follow the GOV.UK Design System's error message patterns.
"""

from __future__ import annotations

import re

from wtforms.validators import ValidationError

from shared.models import postcode_key

# The shape of a UK postcode once spaces are removed (outward code, then
# digit and two letters), plus the one odd historical code. Whether it exists
# is for the lookup to say.
_POSTCODE = re.compile(r"^(?:[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}|GIR0AA)$")
# Deliberately loose: the receipt arriving (or the sign-in) is the real test of an
# address, and a strict pattern only turns away unusual but valid ones.
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def strip_whitespace(value):
    # People paste references, amounts and addresses with a trailing space.
    return value.strip() if isinstance(value, str) else value


def uk_postcode(form, field):
    if field.data and not _POSTCODE.match(postcode_key(field.data)):
        raise ValidationError("Enter a real postcode")


def email_shape(form, field):
    if field.data and not _EMAIL_SHAPE.match(field.data):
        raise ValidationError("Enter an email address in the correct format, like name@example.com")
