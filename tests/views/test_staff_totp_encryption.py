"""Signing in with an authenticator app keeps working while the key that encrypts its
secret at rest is rotated (docs/operations.md)."""

from __future__ import annotations

import base64

import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import session

from shared.config import load_config
from shared.models import StaffUser
from tests.views.conftest import STAFF_EMAIL, STAFF_PASSWORD

KEY_A = base64.urlsafe_b64encode(b"a" * 32).decode()  # fixed: pytest ids use it
KEY_B = base64.urlsafe_b64encode(b"b" * 32).decode()  # fixed: pytest ids use it


def use_keys(app, setting: str) -> None:
    parsed = load_config(environ={"TOTP_ENCRYPTION_KEYS": setting})["TOTP_ENCRYPTION_KEYS"]
    app.config["TOTP_ENCRYPTION_KEYS"] = parsed


def stored_secret(db, staff_id: int) -> str:
    return db.session.scalar(
        sa.text("SELECT totp_secret FROM staff_users WHERE id = :id"), {"id": staff_id}
    )


def signs_in(client, sign_in) -> bool:
    with client.session_transaction() as signed_out:
        signed_out.clear()
    with client:
        response = sign_in(STAFF_EMAIL, STAFF_PASSWORD)
        return response.headers.get("Location") == "/backoffice/" and "staff_id" in session


def test_an_officer_signs_in_with_the_same_app_before_during_and_after_a_key_rotation(
    app, db, client, sign_in, staff_user
):
    use_keys(app, KEY_A)
    assert signs_in(client, sign_in)  # sets up the app: the secret is written under A
    db.session.expire_all()
    secret = db.session.get(StaffUser, staff_user.id).totp_secret
    assert Fernet(KEY_A).decrypt(stored_secret(db, staff_user.id).encode()).decode() == secret

    use_keys(app, f"{KEY_B},{KEY_A}")
    assert signs_in(client, sign_in)

    result = app.test_cli_runner().invoke(args=["staff", "reencrypt-totp"])
    assert result.output.strip() == "Re-encrypted 1 authenticator secret."
    use_keys(app, KEY_B)
    assert signs_in(client, sign_in)
    db.session.expire_all()
    assert db.session.get(StaffUser, staff_user.id).totp_secret == secret
