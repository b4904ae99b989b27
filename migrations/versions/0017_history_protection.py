"""history protection: append-only tables refuse TRUNCATE, even from their owner

TRUNCATE fires no row trigger, so migration 0001's triggers did not stop it. The
runtime role is not granted TRUNCATE at all (shared/db_roles.py); these statement
triggers stop the owner doing it by accident too (including through TRUNCATE ...
CASCADE from another table). SQLite has no TRUNCATE: its DELETE triggers cover it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 04:10:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# As in 0001; refuse_change_to_append_only() (0001) names the table and TG_OP.
APPEND_ONLY_TABLES = ("ledger_entries", "allocations", "audit_log")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_to_append_only()"
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in APPEND_ONLY_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
