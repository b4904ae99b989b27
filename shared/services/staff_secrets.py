"""Re-encrypting staff authenticator secrets under the current key, the middle step of
rotating TOTP_ENCRYPTION_KEYS (docs/operations.md)."""

from __future__ import annotations

from shared.services.reencryption import reencrypt_column
from shared.services.unit_of_work import use_case

SETTING = "TOTP_ENCRYPTION_KEYS"


@use_case
def reencrypt_totp_secrets() -> int:
    """Re-encrypt every secret not already under the first key; how many rows changed."""
    return reencrypt_column(
        "staff_users",
        "totp_secret",
        SETTING,
        audit_action="staff.totp_secrets_reencrypted",
        audit_subject="staff_user",
        what="staff ids",
    )
