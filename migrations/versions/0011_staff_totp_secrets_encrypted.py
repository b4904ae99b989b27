"""staff authenticator secrets encrypted at rest

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 09:00:00

staff_users.totp_secret becomes TEXT holding a Fernet token (about 140
characters for a 32-character secret), and every secret already there is
encrypted with the first key of TOTP_ENCRYPTION_KEYS as the running app has it:
this runs inside `flask db upgrade`, whose app context is the app being
migrated (migrations/env.py reads its engine from current_app too). The
downgrade decrypts them, with any of the keys, and narrows the column back to
VARCHAR(64).

The column is replaced (add, fill, drop the old one, rename) rather than
altered: on SQLite, altering a type makes batch mode copy staff_users and drop
the original, and the drop fails once other rows point at staff_users (0004
met the same). The same four steps run on PostgreSQL, where adding, dropping
and renaming a column are catalogue changes (no table rewrite), so one code
path serves both.

Every value is worked out before the first change, so a key that cannot open
a value stops the migration before it alters anything.

Uses cryptography directly rather than shared.models.encrypted, so this file
keeps doing what it did whatever later becomes of the app's module.
"""
from alembic import context, op
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

SETTING = 'TOTP_ENCRYPTION_KEYS'
NEW = 'totp_secret_new'


def upgrade():
    keys = _keys()
    encrypted = {
        row_id: keys.encrypt(secret.encode()).decode('ascii')
        for row_id, secret in _secrets()
    }
    _replace_column(sa.Text(), encrypted)


def downgrade():
    keys = _keys()
    plain, unreadable = {}, []
    for row_id, token in _secrets():
        try:
            plain[row_id] = keys.decrypt(token.encode('ascii')).decode()
        except (InvalidToken, UnicodeEncodeError):
            unreadable.append(row_id)
    if unreadable:
        raise RuntimeError(
            f"cannot decrypt staff_users.totp_secret for staff ids {unreadable} with any key in "
            f"{SETTING}: set every key the secrets were written under, then downgrade again"
        )
    _replace_column(sa.String(length=64), plain)


def _keys() -> MultiFernet:
    if context.is_offline_mode():
        raise RuntimeError(
            "0011 encrypts (or decrypts) the secrets already stored, so it cannot be "
            "written out as SQL: run it with `flask db upgrade` against the database"
        )
    return MultiFernet([Fernet(key) for key in current_app.config[SETTING]])


def _secrets() -> list:
    staff = sa.table(
        'staff_users', sa.column('id', sa.Integer()), sa.column('totp_secret', sa.Text())
    )
    query = sa.select(staff.c.id, staff.c.totp_secret).where(staff.c.totp_secret.is_not(None))
    return op.get_bind().execute(query.order_by(staff.c.id)).all()


def _replace_column(type_, values: dict) -> None:
    op.add_column('staff_users', sa.Column(NEW, type_, nullable=True))
    if values:
        staff = sa.table('staff_users', sa.column('id', sa.Integer()), sa.column(NEW, type_))
        update = (
            staff.update()
            .where(staff.c.id == sa.bindparam('row_id'))
            .values({NEW: sa.bindparam('value')})
        )
        op.get_bind().execute(
            update, [{'row_id': row_id, 'value': value} for row_id, value in values.items()]
        )
    op.drop_column('staff_users', 'totp_secret')
    op.alter_column('staff_users', NEW, new_column_name='totp_secret')
