"""invoices imported from the finance system

invoice_imports records each file (its SHA-256, status, progress and counts, the
first row errors of a rejected file); invoice_import_files holds an uploaded file's
bytes until its import has ended. Neither is append-only: an import's status and
progress change while it runs, and a file is deleted once imported. What an import
writes (invoices, lines, ledger entries, audit rows) is, as always.

A file is imported once: a partial unique index on sha256 over the imports under way
or completed (a rejected or failed file may be tried again).

invoices.import_id names the import an invoice came from. Added without batch mode:
SQLite adds a nullable column with a REFERENCES clause in place, and rebuilding
invoices would mean rebuilding every table pointing at it.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 11:00:00
"""
import warnings

from alembic import op
import sqlalchemy as sa

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

LIVE = "status IN ('queued', 'validating', 'importing', 'completed')"


def upgrade():
    op.create_table('invoice_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('format', sa.Enum('csv', 'xlsx', name='invoice_import_format', native_enum=False, create_constraint=True, length=4), nullable=False),
    sa.Column('status', sa.Enum('queued', 'validating', 'importing', 'rejected', 'completed', 'failed', name='invoice_import_status', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=True),
    sa.Column('rows_processed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('invoices_created', sa.Integer(), server_default='0', nullable=False),
    sa.Column('invoices_skipped', sa.Integer(), server_default='0', nullable=False),
    sa.Column('accounts_created', sa.Integer(), server_default='0', nullable=False),
    sa.Column('accounts_updated', sa.Integer(), server_default='0', nullable=False),
    sa.Column('total_pence', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('errors', sa.JSON(), nullable=True),
    sa.Column('error_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('rows_processed >= 0', name=op.f('ck_invoice_imports_rows_processed_not_negative')),
    sa.CheckConstraint("(status IN ('completed', 'rejected', 'failed')) = (finished_at IS NOT NULL)", name=op.f('ck_invoice_imports_finished_when_ended')),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff_users.id'], name=op.f('fk_invoice_imports_created_by_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_imports'))
    )
    op.create_index('ix_invoice_imports_created_at', 'invoice_imports', ['created_at'], unique=False)
    op.create_index('uq_invoice_imports_live_sha256', 'invoice_imports', ['sha256'], unique=True, sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
    op.create_table('invoice_import_files',
    sa.Column('import_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['invoice_imports.id'], name=op.f('fk_invoice_import_files_import_id_invoice_imports')),
    sa.PrimaryKeyConstraint('import_id', name=op.f('pk_invoice_import_files'))
    )
    if op.get_bind().dialect.name == "sqlite":
        # Alembic would want batch mode for the foreign key; SQLite itself takes it inline.
        op.execute(
            "ALTER TABLE invoices ADD COLUMN import_id INTEGER "
            "CONSTRAINT fk_invoices_import_id_invoice_imports REFERENCES invoice_imports (id)"
        )
    else:
        op.add_column('invoices', sa.Column('import_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_invoices_import_id_invoice_imports'), 'invoices', 'invoice_imports', ['import_id'], ['id'])


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column only if nothing names it: the REFERENCES clause does.
        # (Reflecting invoices' neighbours warns of the expression indexes it cannot read.)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
            with op.batch_alter_table('invoices', schema=None) as batch_op:
                batch_op.drop_column('import_id')
    else:
        op.drop_constraint(op.f('fk_invoices_import_id_invoice_imports'), 'invoices', type_='foreignkey')
        op.drop_column('invoices', 'import_id')
    op.drop_table('invoice_import_files')
    op.drop_index('uq_invoice_imports_live_sha256', table_name='invoice_imports', sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
    op.drop_index('ix_invoice_imports_created_at', table_name='invoice_imports')
    op.drop_table('invoice_imports')
