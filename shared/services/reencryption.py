"""Re-encrypting a column encrypted at rest under the first key of its setting: the
middle step of rotating a key (docs/operations.md). Used for staff authenticator
secrets (TOTP_ENCRYPTION_KEYS) and payers' bank details (BANK_DETAILS_ENCRYPTION_KEYS)."""

from __future__ import annotations

import sqlalchemy as sa

from shared.extensions import db
from shared.models.encrypted import UndecryptableValue, configured_keys, reencrypt
from shared.services.actors import SYSTEM
from shared.services.history import record_audit


def reencrypt_column(
    table: str, column: str, setting: str, *, audit_action: str, audit_subject: str, what: str
) -> int:
    """Re-encrypt every value of `table.column` not already under `setting`'s first key;
    how many rows changed. All or nothing: a value no key opens stops it before any
    change, naming the rows (`what` says what they are, e.g. "staff ids"). Commits."""
    keys = configured_keys(setting)
    # The stored tokens as they are: a model's column would hand back plain text.
    raw = sa.table(table, sa.column("id", sa.Integer), sa.column(column, sa.Text))
    token_column = raw.c[column]
    rows = db.session.execute(
        sa.select(raw.c.id, token_column).where(token_column.is_not(None)).order_by(raw.c.id)
    ).all()
    rewritten: dict[int, tuple[str, str]] = {}
    unreadable: list[int] = []
    for row_id, token in rows:
        try:
            new = reencrypt(token, keys, setting=setting)
        except UndecryptableValue:
            unreadable.append(row_id)
            continue
        if new is not None:
            rewritten[row_id] = (token, new)
    if unreadable:
        # The operator has to deal with these before the old key goes.
        raise UndecryptableValue(setting, f" ({what} {', '.join(map(str, unreadable))})")

    changed = 0
    for row_id, (old, new) in rewritten.items():
        # Only if nobody has written a new value meanwhile, which was written under the
        # current key anyway.
        result = db.session.execute(
            sa.update(raw).where(raw.c.id == row_id, token_column == old).values({column: new})
        )
        changed += result.rowcount
    if changed:
        record_audit(SYSTEM, audit_action, audit_subject, None, after={"rows": changed})
    db.session.commit()
    return changed
