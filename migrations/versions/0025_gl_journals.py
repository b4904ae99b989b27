"""the daily journal to the general ledger: the journals as sent, and who wrote or
downloaded each; an index on ledger_entries.created_at

A journal carries the ledger entries made on one English day (created_at), so the
day's entries are read by a range of created_at: without an index that is a scan of
the whole ledger (3M rows in production). Adding an index needs no rebuild of
ledger_entries on SQLite. On a large PostgreSQL ledger, building it holds writes to
ledger_entries for the seconds it takes: run the upgrade at a quiet time.

Both new tables are financial records: append-only, refused UPDATE and DELETE (and
TRUNCATE on PostgreSQL) by triggers like migration 0018's, using 0001's function.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 11:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

JOURNAL_TABLES = ("gl_journals", "gl_journal_events")


def _create_append_only_triggers():
    if op.get_bind().dialect.name == "postgresql":
        for table in JOURNAL_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION refuse_change_to_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_to_append_only()"
            )
        return
    for table in JOURNAL_TABLES:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END"
            )


def _drop_append_only_triggers():
    if op.get_bind().dialect.name == "postgresql":
        for table in JOURNAL_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        return
    for table in JOURNAL_TABLES:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")


def upgrade():
    op.create_table('gl_journals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('debit_total_pence', sa.BigInteger(), nullable=False),
    sa.Column('credit_total_pence', sa.BigInteger(), nullable=False),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('debit_total_pence = credit_total_pence', name=op.f('ck_gl_journals_balanced')),
    sa.CheckConstraint('line_count >= 0 AND entry_count >= 0', name=op.f('ck_gl_journals_counts_not_negative')),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff_users.id'], name=op.f('fk_gl_journals_created_by_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gl_journals')),
    sa.UniqueConstraint('day', name=op.f('uq_gl_journals_day'))
    )
    op.create_table('gl_journal_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journal_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('written', 'written_again', 'downloaded', name='journal_event', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('via', sa.Enum('schedule', 'command', 'back_office', name='journal_via', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['journal_id'], ['gl_journals.id'], name=op.f('fk_gl_journal_events_journal_id_gl_journals')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_gl_journal_events_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gl_journal_events'))
    )
    op.create_index(op.f('ix_gl_journal_events_journal_id'), 'gl_journal_events', ['journal_id'], unique=False)
    op.create_index('ix_ledger_entries_created_at', 'ledger_entries', ['created_at'], unique=False)
    _create_append_only_triggers()


def downgrade():
    _drop_append_only_triggers()
    op.drop_index('ix_ledger_entries_created_at', table_name='ledger_entries')
    op.drop_index(op.f('ix_gl_journal_events_journal_id'), table_name='gl_journal_events')
    op.drop_table('gl_journal_events')
    op.drop_table('gl_journals')
