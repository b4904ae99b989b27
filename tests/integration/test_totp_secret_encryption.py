"""Staff authenticator secrets are encrypted at rest under TOTP_ENCRYPTION_KEYS: a copy of
the database does not give them away, and the keys can be rotated."""

from __future__ import annotations

import base64

import pyotp
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from shared.config import load_config
from shared.models import AuditLog, StaffUser
from shared.models.encrypted import UndecryptableValue
from tests.factories import make_staff
from tests.integration.test_startup_errors import start

KEY_A = base64.urlsafe_b64encode(b"a" * 32).decode()  # fixed: pytest ids use it
KEY_B = base64.urlsafe_b64encode(b"b" * 32).decode()  # fixed: pytest ids use it
KEY_C = base64.urlsafe_b64encode(b"c" * 32).decode()  # fixed: pytest ids use it


def use_keys(app, setting: str) -> None:
    """Configure the app as if started with TOTP_ENCRYPTION_KEYS=`setting`."""
    parsed = load_config(environ={"TOTP_ENCRYPTION_KEYS": setting})["TOTP_ENCRYPTION_KEYS"]
    app.config["TOTP_ENCRYPTION_KEYS"] = parsed


def stored_row(db, staff_id: int) -> dict:
    """The row as a database copy shows it: plain SQL, no model types."""
    row = db.session.execute(
        sa.text("SELECT * FROM staff_users WHERE id = :id"), {"id": staff_id}
    ).one()
    return dict(row._mapping)


def secret_of(db, staff_id: int) -> str | None:
    db.session.expire_all()
    return db.session.get(StaffUser, staff_id).totp_secret


def reencrypt(app):
    return app.test_cli_runner().invoke(args=["staff", "reencrypt-totp"])


def test_the_stored_value_is_not_the_secret_and_the_secret_is_nowhere_in_the_row(app, db):
    secret = pyotp.random_base32()
    person = make_staff(totp_secret=secret).id

    row = stored_row(db, person)

    assert row["totp_secret"] != secret
    assert all(secret not in str(value) for value in row.values())
    assert secret_of(db, person) == secret


def test_the_same_secret_stored_twice_is_stored_differently(app, db):
    secret = pyotp.random_base32()
    first, second = (make_staff(totp_secret=secret).id for _ in range(2))

    assert stored_row(db, first)["totp_secret"] != stored_row(db, second)["totp_secret"]


def test_no_secret_stays_null(app, db):
    person = make_staff().id

    assert stored_row(db, person)["totp_secret"] is None
    assert secret_of(db, person) is None


def test_the_first_key_encrypts(app, db):
    use_keys(app, f"{KEY_B},{KEY_A}")
    secret = pyotp.random_base32()
    person = make_staff(totp_secret=secret).id

    token = stored_row(db, person)["totp_secret"]

    assert Fernet(KEY_B).decrypt(token.encode()).decode() == secret
    with pytest.raises(InvalidToken):
        Fernet(KEY_A).decrypt(token.encode())


def test_rotation_reads_old_secrets_rewrites_them_under_the_new_key_then_needs_only_it(app, db):
    use_keys(app, KEY_A)
    secret = pyotp.random_base32()
    person = make_staff(totp_secret=secret).id
    not_set_up = make_staff().id
    under_a = stored_row(db, person)["totp_secret"]

    use_keys(app, f"{KEY_B},{KEY_A}")
    assert secret_of(db, person) == secret

    result = reencrypt(app)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Re-encrypted 1 authenticator secret."
    under_b = stored_row(db, person)["totp_secret"]
    assert under_b != under_a
    assert Fernet(KEY_B).decrypt(under_b.encode()).decode() == secret
    assert stored_row(db, not_set_up)["totp_secret"] is None

    # Idempotent: nothing left under an old key, nothing rewritten.
    again = reencrypt(app)
    assert again.exit_code == 0, again.output
    assert again.output.strip() == "Re-encrypted 0 authenticator secrets."
    assert stored_row(db, person)["totp_secret"] == under_b

    use_keys(app, KEY_B)
    assert secret_of(db, person) == secret


def test_re_encrypting_is_in_the_audit_log_when_it_changes_something(app, db):
    use_keys(app, KEY_A)
    make_staff(totp_secret=pyotp.random_base32())
    make_staff(totp_secret=pyotp.random_base32())
    use_keys(app, f"{KEY_B},{KEY_A}")

    reencrypt(app)
    reencrypt(app)

    entries = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "staff.totp_secrets_reencrypted")
    ).all()
    assert [(e.actor_type.value, e.after) for e in entries] == [("system", {"rows": 2})]


def test_a_secret_under_a_key_no_longer_configured_is_refused_with_the_setting_named(app, db):
    use_keys(app, KEY_A)
    person = make_staff(totp_secret=pyotp.random_base32()).id

    use_keys(app, KEY_B)

    with pytest.raises(UndecryptableValue, match="any key in TOTP_ENCRYPTION_KEYS"):
        secret_of(db, person)


def test_a_tampered_secret_is_refused_not_decrypted_to_garbage(app, db):
    person = make_staff(totp_secret=pyotp.random_base32()).id
    token = stored_row(db, person)["totp_secret"]
    tampered = token[:60] + ("A" if token[60] != "A" else "B") + token[61:]
    db.session.execute(
        sa.text("UPDATE staff_users SET totp_secret = :t WHERE id = :id"),
        {"t": tampered, "id": person},
    )
    db.session.commit()

    with pytest.raises(UndecryptableValue, match="TOTP_ENCRYPTION_KEYS"):
        secret_of(db, person)


def test_re_encrypting_with_a_secret_no_key_opens_names_who_and_changes_nothing(app, db):
    use_keys(app, KEY_A)
    readable = make_staff(totp_secret=pyotp.random_base32()).id
    use_keys(app, KEY_C)
    lost = make_staff(totp_secret=pyotp.random_base32()).id
    before = {i: stored_row(db, i)["totp_secret"] for i in (readable, lost)}

    use_keys(app, f"{KEY_B},{KEY_A}")
    result = reencrypt(app)

    assert result.exit_code == 1
    assert f"TOTP_ENCRYPTION_KEYS (staff ids {lost})" in result.output
    assert "Nothing was changed." in result.output
    assert {i: stored_row(db, i)["totp_secret"] for i in (readable, lost)} == before


def test_production_without_the_key_stops_with_one_clear_line():
    result = start({"APP_ENV": "production", "SECRET_KEY": "s" * 40, "TOTP_ENCRYPTION_KEYS": ""})

    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Configuration error: TOTP_ENCRYPTION_KEYS is not set")


def test_a_malformed_key_stops_start_up_with_one_clear_line():
    result = start({"TOTP_ENCRYPTION_KEYS": f"{KEY_A},not-a-key"})

    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        "Configuration error: TOTP_ENCRYPTION_KEYS key 2 of 2 is not a Fernet key"
    )
    assert "not-a-key" not in result.stderr and KEY_A not in result.stderr
