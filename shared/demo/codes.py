"""The current authenticator code for a demo login, for people trying the demo
without an authenticator app (`flask --app wsgi demo code EMAIL`).

Demo staff set up two-factor sign-in the real way, at first sign-in: the
set-up page stores their secret, and this reads it back. Only logins on the
demo email domain are answered, and never in production.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import current_app

from shared.demo.catalogue import DEMO_EMAIL_DOMAIN
from shared.domain import two_factor
from shared.extensions import db
from shared.models import StaffUser


class NoDemoCode(Exception):
    """Why there is no code to show; the message is for the person at the terminal."""


def demo_code(email: str, *, unix_time: float | None = None) -> str:
    """The code the demo login's authenticator app would show now."""
    if current_app.config.get("APP_ENV") == "production":
        raise NoDemoCode("Demo codes are not available in production.")
    email = email.strip().lower()
    if not email.endswith(f"@{DEMO_EMAIL_DOMAIN}"):
        raise NoDemoCode(f"Only demo logins (…@{DEMO_EMAIL_DOMAIN}) have codes shown here.")
    user = db.session.scalar(sa.select(StaffUser).where(sa.func.lower(StaffUser.email) == email))
    if user is None:
        raise NoDemoCode(f"There is no demo login {email}: run `flask --app wsgi demo logins`.")
    if user.totp_secret is None:
        raise NoDemoCode(
            f"{email} has no authenticator app yet: sign in with the password first, "
            "then ask again when the page shows the QR code."
        )
    now = time.time() if unix_time is None else unix_time
    return two_factor.code_at(user.totp_secret, two_factor.time_step(now))
