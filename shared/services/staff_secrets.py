"""Re-encrypting staff authenticator secrets under the current key, the middle step of
rotating TOTP_ENCRYPTION_KEYS (docs/operations.md)."""

from __future__ import annotations

import sqlalchemy as sa

from shared.extensions import db
from shared.models.encrypted import UndecryptableValue, configured_keys, reencrypt
from shared.services.actors import SYSTEM
from shared.services.history import record_audit
from shared.services.unit_of_work import use_case

SETTING = "TOTP_ENCRYPTION_KEYS"

# The stored tokens as they are: the model's column would hand back plain text,
# and writing the same plain text back is no change to the ORM.
_raw = sa.table("staff_users", sa.column("id", sa.Integer), sa.column("totp_secret", sa.Text))


@use_case
def reencrypt_totp_secrets() -> int:
    """Re-encrypt every secret not already under the first key; how many rows changed."""
    keys = configured_keys(SETTING)
    rows = db.session.execute(
        sa.select(_raw.c.id, _raw.c.totp_secret)
        .where(_raw.c.totp_secret.is_not(None))
        .order_by(_raw.c.id)
    ).all()
    rewritten: dict[int, tuple[str, str]] = {}
    unreadable: list[int] = []
    for row_id, token in rows:
        try:
            new = reencrypt(token, keys, setting=SETTING)
        except UndecryptableValue:
            unreadable.append(row_id)
            continue
        if new is not None:
            rewritten[row_id] = (token, new)
    if unreadable:
        # All or nothing: the operator has to deal with these before the old key goes.
        raise UndecryptableValue(SETTING, f" (staff ids {', '.join(map(str, unreadable))})")

    changed = 0
    for row_id, (old, new) in rewritten.items():
        # Only if nobody has written a new secret meanwhile (someone setting up an
        # app), which was written under the current key anyway.
        result = db.session.execute(
            sa.update(_raw)
            .where(_raw.c.id == row_id, _raw.c.totp_secret == old)
            .values(totp_secret=new)
        )
        changed += result.rowcount
    if changed:
        record_audit(
            SYSTEM, "staff.totp_secrets_reencrypted", "staff_user", None, after={"rows": changed}
        )
    db.session.commit()
    return changed
